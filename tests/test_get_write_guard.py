"""The GET-write guard with a real application: a GET or HEAD whose view changes the database is answered,
logged as an error, and its change is never committed; the same change by POST is kept.

The application includes this module (``pyramid.includes``): :func:`includeme` adds a test-only route whose
view writes to the site."""

import logging

import pytest
import webtest
from pyramid.response import Response

from portal.testing import edit_site


def write_to_site(request):
    site = request.root
    site.guard_probe = getattr(site, 'guard_probe', 0) + 1
    return Response('written')


def includeme(config):
    from pyramid.security import NO_PERMISSION_REQUIRED

    config.add_route('test_write', '/__test__/write')
    config.add_view(
        write_to_site, route_name='test_write', permission=NO_PERMISSION_REQUIRED, require_csrf=False
    )


@pytest.fixture(scope='module')
def app(tmp_path_factory):
    from portal.testing import build_app, close_app

    app = build_app(
        str(tmp_path_factory.mktemp('guard')),
        **{'portal.load_on_start': 'false', 'pyramid.includes': __name__},
    )
    yield app
    close_app(app)


def probe(app):
    with edit_site(app) as site:
        return getattr(site, 'guard_probe', 0)


@pytest.mark.parametrize('method', ['GET', 'HEAD'])
def test_a_get_that_writes_is_answered_but_not_committed(app, method, caplog):
    client = webtest.TestApp(app, extra_environ={'HTTP_HOST': 'example.com'})
    before = probe(app)
    with caplog.at_level(logging.ERROR, logger='portal.security.tweens'):
        res = client.request('/__test__/write', method=method, status=200)
    assert method == 'HEAD' or res.text == 'written'
    assert probe(app) == before
    assert any('tried to write' in record.getMessage() for record in caplog.records)


def test_the_same_write_by_post_is_kept(app):
    client = webtest.TestApp(app, extra_environ={'HTTP_HOST': 'example.com'})
    before = probe(app)
    client.post('/__test__/write', status=200)
    assert probe(app) == before + 1
