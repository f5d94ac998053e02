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
        local.get('/?page=%ff%fe', status=400)  # the toolbar's own panel answered 500
        remote = webtest.TestApp(app, extra_environ={'HTTP_HOST': 'localhost', 'REMOTE_ADDR': '192.0.2.9'})
        assert '_debug_toolbar' not in remote.get('/').text
    finally:
        close_app(app)


# Invalid UTF-8 -------------------------------------------------------------------------------------------
#: Byte sequences that are not UTF-8, one of each kind: a stray continuation byte, bytes never used, an
#: overlong encoding, a sequence cut short, an encoded surrogate, a code point beyond U+10FFFF.
NOT_UTF8 = [b'\x80', b'\xff\xfe', b'\xc0\xaf', b'\xe3\x80', b'\xed\xa0\x80', b'\xf4\x90\x80\x80']
PAGES = ['/', '/login', '/venues/', '/registry/api/v1/statistics']


def _percent(raw):
    return ''.join(f'%{b:02X}' for b in raw)


def _ask(client, part, page, raw):
    """Send ``raw`` in one part of a request for ``page``."""
    if part == 'path':
        return client.get(page + _percent(raw), expect_errors=True)
    if part == 'query':
        return client.get(f'{page}?page={_percent(raw)}', expect_errors=True)
    if part == 'query-name':
        return client.get(f'{page}?{_percent(raw)}=1', expect_errors=True)
    if part == 'cookie':
        cookie = b'lang=' + raw
        return client.get(page, headers={'Cookie': cookie.decode('latin-1')}, expect_errors=True)
    if part == 'form':
        body = b'login=' + raw + b'&password=x'
        return client.post(page, body, content_type='application/x-www-form-urlencoded', expect_errors=True)
    if part == 'raw-form':
        body = 'login=' + _percent(raw) + '&csrf_token=x'
        return client.post(page, body, content_type='application/x-www-form-urlencoded', expect_errors=True)
    body = (
        b'--xyz\r\nContent-Disposition: form-data; name="login"\r\n\r\n' + raw + b'\r\n'
        b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
        b'Content-Type: application/octet-stream\r\n\r\n\xff\xfe binary is fine\r\n--xyz--\r\n'
    )
    return client.request(
        page, method='POST', body=body, content_type='multipart/form-data; boundary=xyz', expect_errors=True
    )


PARTS = ['path', 'query', 'query-name', 'cookie', 'form', 'raw-form', 'multipart']


@pytest.mark.parametrize('raw', NOT_UTF8, ids=[r.hex() for r in NOT_UTF8])
@pytest.mark.parametrize('part', PARTS)
@pytest.mark.parametrize('page', PAGES)
def test_invalid_utf8_anywhere_is_a_translated_400(testapp, page, part, raw):
    res = _ask(testapp, part, page, raw)
    assert res.status_int == 400, f'{res.status} for {part} on {page}'
    assert 'Content-Security-Policy' in res.headers
    assert 'Traceback' not in res.text
    if page.startswith('/registry/api/'):
        assert res.content_type == 'application/json'
        assert res.json['error'] == 'bad_request'
        assert res.headers['Cache-Control'] == 'no-store'
    else:
        assert '<main id="main"' in res.text
        assert 'eivät ole kelvollista UTF-8:aa' in res.text  # Finnish, the site's first language


def test_invalid_utf8_message_in_english(testapp, english_interface):
    res = testapp.get('/?page=%ff%fe', status=400)
    assert 'contains characters that are not valid UTF-8' in res.text


def test_an_undecodable_cookie_is_expired_by_the_answer(testapp):
    res = testapp.get('/', headers={'Cookie': 'lang=\xff; other=fine'}, status=400)
    assert any(
        value.startswith('lang=;') and 'Max-Age=0' in value for value in res.headers.getall('Set-Cookie')
    )
    assert not any(value.startswith('other=') for value in res.headers.getall('Set-Cookie'))


@pytest.mark.parametrize('path', ['/?page=%ff%fe', '/%ff', '/registry/api/v1/verify?x=%ff'])
def test_make_serve_answers_400_to_invalid_utf8(served, path):
    webtest.TestApp(served, extra_environ=LOCAL).get(path, status=400)


def test_valid_utf8_still_passes(testapp):
    testapp.get('/venues/?q=%C3%A4%E3%80%82', status=200)
    testapp.get('/', headers={'Cookie': 'lang=sv'}, status=200)
    # a binary file in a form is no text: the form goes on to the view (which wants a CSRF token)
    res = _ask(testapp, 'multipart', '/login', 'ä'.encode())
    assert res.status_int == 400 and 'UTF-8' not in res.text and 'eivät ole kelvollista' not in res.text


# came_from -----------------------------------------------------------------------------------------------
@pytest.fixture(scope='module')
def admin_app(tmp_path_factory):
    from portal.testing import TEST_PASSWORD, add_user, build_app

    app = build_app(str(tmp_path_factory.mktemp('came_from')))
    add_user(app, 'admin', TEST_PASSWORD, roles=['Administrator'])
    yield app
    close_app(app)


def _log_in_from(app, came_from):
    from portal.testing import TEST_PASSWORD, browser, form_with

    client = browser(app)
    form = form_with(client.get('/login', params={'came_from': came_from}), 'login')
    form['login'] = 'admin'
    form['password'] = TEST_PASSWORD
    return client, form.submit(status=303)


@pytest.mark.parametrize(
    ('came_from', 'location'),
    [
        ('/\u3002x', '/%E3%80%82x'),  # the finding: an ideographic full stop gave 500 and lost the session
        ('/%E3%80%82x', '/%E3%80%82x'),  # quoted already: kept, not quoted twice
        ('/hae?q=kesä teatteri#tulokset', '/hae?q=kes%C3%A4%20teatteri#tulokset'),
        ('/"><script>', '/%22%3E%3Cscript%3E'),
        ('/\U0001f3ad', '/%F0%9F%8E%AD'),
        ('/\uff0f\uff0fevil.example', '/%EF%BC%8F%EF%BC%8Fevil.example'),  # fullwidth solidi stay a path
        ('/\u202eevil', '/@@contents'),  # no address: the administrator's landing page
        ('\u3002//evil.example', '/@@contents'),
    ],
)
def test_came_from_outside_latin1_is_quoted_and_keeps_the_session(admin_app, came_from, location):
    client, res = _log_in_from(admin_app, came_from)
    assert res.location == 'http://example.com' + location
    res.headers['Location'].encode('ascii')
    client.get('/@@users', status=200)  # the new session arrived with the redirect


# Console scripts on every shipped ini --------------------------------------------------------------------
SHIPPED_INIS = ['development.ini', 'dev.ini', 'production.ini']


class Reached(Exception):
    """The script read its settings and went on to open the database."""


@pytest.fixture
def no_database(monkeypatch):
    """Opening a database stops the script there (production.ini's ZEO server is not running)."""
    import pyramid_zodbconn

    def stop(uri, name, databases):
        raise Reached(uri)

    monkeypatch.setattr(pyramid_zodbconn.includeme, '__defaults__', (stop, open))


@pytest.mark.parametrize('ini', SHIPPED_INIS)
def test_scripts_read_every_shipped_ini(ini):
    from portal.scripts import ini_settings

    settings = ini_settings(os.path.join(REPO, ini))
    assert settings['zodbconn.uri']
    assert '%(' not in settings['zodbconn.uri']


SCRIPTS = [
    ('portal.scripts.load', ['{ini}']),
    ('portal.scripts.dump', ['{ini}', '{tmp}/dump']),
    ('portal.scripts.reindex', ['{ini}']),
    ('portal.scripts.evolve', ['{ini}', '--status']),
    ('kaiku_registry.scripts', ['{ini}', 'sites']),
]


@pytest.mark.parametrize(('module', 'argv'), SCRIPTS, ids=[module for module, _argv in SCRIPTS])
def test_console_scripts_load_production_ini(no_database, tmp_path, module, argv):
    import importlib

    main = importlib.import_module(module).main
    ini = os.path.join(REPO, 'production.ini')
    with pytest.raises(Reached, match=r'zeo://127\.0\.0\.1:8100\?.*blobcache-script&'):
        main([arg.format(ini=ini, tmp=tmp_path) for arg in argv])


def test_adduser_loads_production_ini(no_database):
    import io

    from portal.scripts.adduser import main

    with pytest.raises(Reached, match='zeo://'):
        main([os.path.join(REPO, 'production.ini'), 'anna'], stdin=io.StringIO('a long passphrase here\n'))


def test_backup_on_production_ini_says_why_not(capsys):
    from portal.scripts.backup import main

    assert main([os.path.join(REPO, 'production.ini'), 'list']) == 1
    assert 'file:// URI' in capsys.readouterr().err


def test_keygen_on_production_ini_says_where_the_key_and_the_secret_go(monkeypatch, capsys):
    """keygen wrote /etc/kaiku/registry-signing.pem, outside the checkout, without saying so."""
    from kaiku_registry import scripts

    written = []
    monkeypatch.setattr(scripts, 'write_key', written.append)
    monkeypatch.setattr(scripts.os.path, 'exists', lambda path: False)
    assert scripts.main([os.path.join(REPO, 'production.ini'), 'keygen']) == 0
    out = capsys.readouterr().out
    assert written == ['/etc/kaiku/registry-signing.pem']
    assert 'QR signing key: /etc/kaiku/registry-signing.pem (created' in out
    assert f'session secret: {REPO}/var/session_secret' in out
    assert f'note: /etc/kaiku/registry-signing.pem is outside {REPO}' in out
