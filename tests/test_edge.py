"""The HTTP edge: what `make serve` runs, undecodable input, the login's ``came_from``, and the headers every
answer carries, whichever part of the stack made it."""

import os
import shutil

import plaster
import pytest
import webtest

from portal.testing import REPO, close_app

LOCAL = {'HTTP_HOST': 'localhost', 'REMOTE_ADDR': '127.0.0.1'}


def _serve_like_make(tmp_path, ini):
    """The application built from ``ini`` exactly as ``make serve`` (pserve) builds it, with the ini file
    copied beside a ``var/`` of its own so that the checkout's database is never touched."""
    shutil.copy(os.path.join(REPO, 'development.ini'), tmp_path / 'development.ini')
    if ini != 'development.ini':
        shutil.copy(os.path.join(REPO, ini), tmp_path / ini)
    os.symlink(os.path.join(REPO, 'content'), tmp_path / 'content')
    (tmp_path / 'var').mkdir()
    loader = plaster.get_loader(str(tmp_path / ini), protocols=['wsgi'])
    return loader.get_wsgi_app('main', {'http_port': '6543'})


@pytest.fixture(scope='module')
def served(tmp_path_factory):
    """The application of ``make serve``: development.ini."""
    app = _serve_like_make(tmp_path_factory.mktemp('serve'), 'development.ini')
    yield app
    close_app(app)


TOOLBAR_PATHS = ['/_debug_toolbar/', '/_debug_toolbar/sse', '/_debug_toolbar/static/css/toolbar.css']


@pytest.mark.parametrize('path', TOOLBAR_PATHS)
def test_make_serve_answers_no_debug_route(served, path):
    client = webtest.TestApp(served, extra_environ=LOCAL)
    res = client.get(path, status=404)
    assert 'pyramid_debugtoolbar' not in res.text
    assert 'Content-Security-Policy' in res.headers


def test_make_serve_has_no_toolbar_and_no_template_reloading(served):
    settings = served.registry.settings
    assert 'pyramid_debugtoolbar' not in settings['portal.includes']
    assert not settings['pyramid.reload_templates']
    assert not any(name.startswith('debugtoolbar.') for name in settings)
    res = webtest.TestApp(served, extra_environ=LOCAL).get('/')
    assert 'pDebug' not in res.text and '_debug_toolbar' not in res.text


def test_make_dev_has_the_toolbar_on_localhost_only(tmp_path):
    """The probe above finds the toolbar where it is: dev.ini (``make dev``) serves it to 127.0.0.1."""
    app = _serve_like_make(tmp_path, 'dev.ini')
    try:
        assert app.registry.settings['pyramid.reload_templates']
        local = webtest.TestApp(app, extra_environ=LOCAL)
        assert '_debug_toolbar' in local.get('/').text
        local.get('/_debug_toolbar/', status=200)
        remote = webtest.TestApp(app, extra_environ={'HTTP_HOST': 'localhost', 'REMOTE_ADDR': '192.0.2.9'})
        assert '_debug_toolbar' not in remote.get('/').text
    finally:
        close_app(app)
