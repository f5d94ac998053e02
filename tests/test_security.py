"""Users, passwords, sessions, login and logout, throttling, CSRF, headers and the GET-write guard."""

import io
import time

import pytest
import webtest

from portal.testing import add_user, log_in

pytestmark = pytest.mark.usefixtures('english_interface')


PASSWORD = 'correct horse battery staple'


def _app(make_app, **settings):
    return make_app(**{'portal.load_on_start': 'false', **settings})


@pytest.fixture
def site(make_app):
    """(app, testapp) on an empty site with an administrator and an editor."""
    app = _app(make_app)
    add_user(app, 'admin', PASSWORD, roles=['Administrator'])
    add_user(app, 'editor', PASSWORD, roles=['Editor'])
    return app, webtest.TestApp(app, extra_environ={'HTTP_HOST': 'example.com'})


# Passwords -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    'password',
    ['short', 'x' * 257, 'password1234', 'qwertyuiop123', 'salasana1234!', 'iloveyou1234'],
)
def test_password_rules_refuse(password):
    from portal.security import password_problem

    assert password_problem(password) is not None


def test_password_rules_refuse_login_name():
    from portal.security import password_problem

    assert password_problem('my name is anna-maria!', login='anna-maria') is not None


def test_password_rules_accept_a_passphrase():
    from portal.security import password_problem

    assert password_problem(PASSWORD) is None
    assert password_problem('ö' * 12) is None


def test_common_password_list_is_bundled():
    from portal.security import COMMON_PASSWORDS

    assert len(COMMON_PASSWORDS) > 5000
    assert 'password' in COMMON_PASSWORDS


@pytest.fixture
def site_hasher():
    """The parameters the site hashes with outside the tests (the suite uses cheap ones)."""
    from argon2 import PasswordHasher

    from portal.security import passwords

    previous = passwords.use_hasher(PasswordHasher())
    yield
    passwords.use_hasher(previous)


def test_the_site_hashes_with_rfc_9106_parameters_outside_the_tests():
    """A process that is not the test suite hashes with argon2id at RFC 9106's 64 MiB, 3 passes, 4 lanes."""
    import subprocess
    import sys

    code = "from portal.security import hash_password; print(hash_password('x' * 12))"
    made = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout
    assert made.startswith('$argon2id$v=19$m=65536,t=3,p=4$')


def test_a_cheap_hash_is_checked_then_replaced_by_one_with_the_sites_parameters(site_hasher):
    from argon2 import PasswordHasher, profiles

    from portal.security import passwords

    strong = passwords.hash_password(PASSWORD)
    cheap = PasswordHasher.from_parameters(profiles.CHEAPEST).hash(PASSWORD)
    assert passwords.verify_password(cheap, PASSWORD) and passwords.verify_password(strong, PASSWORD)
    assert passwords.needs_rehash(cheap) and not passwords.needs_rehash(strong)


@pytest.mark.usefixtures('site_hasher')
def test_hash_is_argon2id_and_verifies():
    from portal.security import User

    user = User('anna')
    user.set_password(PASSWORD)
    assert user.password_hash.startswith('$argon2id$')
    assert PASSWORD not in user.password_hash
    assert user.check_password(PASSWORD)
    assert not user.check_password(PASSWORD + 'x')


@pytest.mark.usefixtures('site_hasher')
def test_weaker_hash_is_replaced_at_login():
    from argon2 import PasswordHasher

    from portal.security import User

    user = User('anna')
    user.password_hash = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    old = user.password_hash
    assert user.check_password(PASSWORD)
    assert user.password_hash != old
    assert user.check_password(PASSWORD)


def test_disabled_user_cannot_log_in():
    from portal.security import User

    user = User('anna')
    user.set_password(PASSWORD)
    user.set_disabled(True)
    assert not user.check_password(PASSWORD)


# portal-adduser --------------------------------------------------------------------------------------
def _ini(tmp_path):
    ini = tmp_path / 'test.ini'
    ini.write_text(
        '[app:main]\nuse = egg:kaiku-portal\n'
        f'zodbconn.uri = file://{tmp_path}/Data.fs\n'
        f'zodbconn.uri.audit = file://{tmp_path}/Audit.fs\n'
        'portal.load_on_start = false\n'
        f'portal.session_secret_file = {tmp_path}/secret\n'
    )
    return str(ini)


def _adduser(*argv, stdin=PASSWORD + '\n'):
    from portal.scripts.adduser import main

    return main(list(argv), stdin=io.StringIO(stdin))


def test_adduser_creates_and_updates(tmp_path, capsys):
    ini = _ini(tmp_path)
    assert _adduser(ini, 'Admin', '--role', 'Administrator') == 0
    assert 'created admin (Administrator)' in capsys.readouterr().out
    assert _adduser(ini, 'admin', stdin='another long passphrase\n') == 0
    assert 'updated admin (Administrator)' in capsys.readouterr().out
    assert (tmp_path / 'secret').stat().st_mode & 0o077 == 0


def test_adduser_refuses_weak_password_and_unknown_role(tmp_path, capsys):
    ini = _ini(tmp_path)
    assert _adduser(ini, 'admin', '--role', 'Administrator', stdin='password\n') == 2
    assert 'at least 12' in capsys.readouterr().err
    assert _adduser(ini, 'admin', '--role', 'Pope') == 2
    assert 'unknown role' in capsys.readouterr().err


# Login and logout ------------------------------------------------------------------------------------
def test_login_renews_session_and_logout_ends_it_on_the_server(site):
    app, browser = site
    browser.get('/login')
    anonymous_cookie = browser.cookies['kaiku_session']
    res = log_in(browser, 'admin', PASSWORD)
    assert res.location == 'http://example.com/@@contents'  # the administrator's landing page
    logged_in_cookie = browser.cookies['kaiku_session']
    assert logged_in_cookie != anonymous_cookie
    assert browser.get('/@@contents', status=200)
    # Logging out ends the session on the server: the old cookie, replayed, is worth nothing.
    browser.get('/').forms['logout-form'].submit(status=303)
    browser.get('/@@contents', status=403)
    replay = webtest.TestApp(app, extra_environ={'HTTP_HOST': 'example.com'})
    replay.set_cookie('kaiku_session', logged_in_cookie)
    replay.get('/@@contents', status=403)


def test_wrong_password_and_unknown_user_say_the_same(site):
    browser = site[1]
    wrong = log_in(browser, 'admin', 'not the password at all', status=400)
    unknown = log_in(browser, 'nobody', 'not the password at all', status=400)
    assert 'The login name or the password is wrong.' in wrong.text
    assert 'The login name or the password is wrong.' in unknown.text
    assert 'value="nobody"' in unknown.text


def test_absolute_session_lifetime(make_app, monkeypatch):
    app = _app(make_app, **{'portal.session_max_age': '60'})
    add_user(app, 'admin', PASSWORD, roles=['Administrator'])
    browser = webtest.TestApp(app, extra_environ={'HTTP_HOST': 'example.com'})
    log_in(browser, 'admin', PASSWORD)
    browser.get('/@@contents', status=200)
    real = time.time
    monkeypatch.setattr(time, 'time', lambda: real() + 61)
    browser.get('/@@contents', status=403)


def test_idle_session_lifetime(make_app, monkeypatch):
    app = _app(make_app, **{'portal.session_idle_timeout': '60'})
    add_user(app, 'admin', PASSWORD, roles=['Administrator'])
    browser = webtest.TestApp(app, extra_environ={'HTTP_HOST': 'example.com'})
    log_in(browser, 'admin', PASSWORD)
    real = time.time
    monkeypatch.setattr(time, 'time', lambda: real() + 50)
    browser.get('/@@contents', status=200)
    monkeypatch.setattr(time, 'time', lambda: real() + 200)
    browser.get('/@@contents', status=403)


@pytest.mark.parametrize(
    ('came_from', 'expected'),
    [
        ('/@@users', 'http://example.com/@@users'),
        ('http://example.com/kunnille', 'http://example.com/kunnille'),
        # elsewhere: the administrator's own landing page instead
        ('https://evil.example/', 'http://example.com/@@contents'),
        ('//evil.example/', 'http://example.com/@@contents'),
        ('/\\evil.example/', 'http://example.com/@@contents'),
        ('javascript:alert(1)', 'http://example.com/@@contents'),
    ],
)
def test_came_from_stays_on_the_site(site, came_from, expected):
    browser = site[1]
    form = browser.get('/login', params={'came_from': came_from}).forms[1]
    form['login'] = 'admin'
    form['password'] = PASSWORD
    assert form.submit(status=303).location == expected


def test_login_without_csrf_token_is_refused(site):
    browser = site[1]
    browser.get('/login')
    browser.post('/login', {'login': 'admin', 'password': PASSWORD}, status=400)


def test_csrf_token_has_at_least_128_bits(site):
    browser = site[1]
    token = browser.get('/login').forms[1]['csrf_token'].value
    assert len(token) >= 43  # 32 random bytes in URL-safe base64


# Brute force -----------------------------------------------------------------------------------------
def test_throttle_after_ten_failures_for_one_account_at_one_address(site):
    browser = site[1]
    for _ in range(10):
        log_in(browser, 'admin', 'wrong password here', status=400)
    res = log_in(browser, 'admin', PASSWORD, status=429)
    assert 'Too many failed logins' in res.text
    assert int(res.headers['Retry-After']) > 0
    # An unknown account is refused the same way, so the answer does not tell which accounts exist.
    third = webtest.TestApp(site[0], extra_environ={'HTTP_HOST': 'example.com', 'REMOTE_ADDR': '10.2.2.2'})
    for _ in range(10):
        log_in(third, 'ghost', 'wrong password here', status=400)
    assert 'Too many failed logins' in log_in(third, 'ghost', 'whatever', status=429).text


def test_throttle_window_passes(app):
    from portal.security import Throttle

    now = [1000.0]
    throttle = Throttle(app.registry, 'test-window', 60, clock=lambda: now[0])
    throttle.failed([('k', 3)])
    throttle.failed([('k', 3)])
    assert throttle.retry_after([('k', 3)]) == 0
    throttle.failed([('k', 3)])
    assert throttle.retry_after([('k', 3)]) > 0
    now[0] += 61
    assert throttle.retry_after([('k', 3)]) == 0


# Headers ---------------------------------------------------------------------------------------------
def test_security_headers_on_every_response(site):
    browser = site[1]
    for url, status in (('/', 200), ('/login', 200), ('/no-such-page', 404)):
        res = browser.get(url, status=status)
        csp = res.headers['Content-Security-Policy']
        for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'self'", 'script-src'):
            assert directive in csp
        assert 'unsafe-inline' not in csp
        assert res.headers['X-Content-Type-Options'] == 'nosniff'
        assert res.headers['Referrer-Policy']
        assert 'no-store' not in res.headers.get('Cache-Control', '')
        assert 'Strict-Transport-Security' not in res.headers


def test_no_store_for_logged_in_users_and_hsts_when_set(make_app):
    app = _app(make_app, **{'portal.hsts': 'max-age=31536000'})
    add_user(app, 'editor', PASSWORD, roles=['Editor'])
    browser = webtest.TestApp(app, extra_environ={'HTTP_HOST': 'example.com'})
    log_in(browser, 'editor', PASSWORD)
    res = browser.get('/')
    assert 'no-store' in res.headers['Cache-Control']
    assert res.headers['Strict-Transport-Security'] == 'max-age=31536000'


def test_session_cookie_flags(make_app):
    app = _app(make_app, **{'portal.secure_cookies': 'true'})
    browser = webtest.TestApp(app, extra_environ={'HTTP_HOST': 'example.com'})
    cookie = browser.get('/login').headers['Set-Cookie']
    assert 'HttpOnly' in cookie
    assert 'SameSite=Lax' in cookie
    assert 'secure' in cookie.lower()


def test_production_ini_turns_on_secure_cookies_and_hsts():
    import configparser
    import os

    from portal.testing import REPO

    parser = configparser.ConfigParser(interpolation=None)
    parser.read(os.path.join(REPO, 'production.ini'))
    app = parser['app:main']
    assert app['portal.secure_cookies'] == 'true'
    assert app['portal.hsts'].startswith('max-age=')
    assert app['zodbconn.uri.audit']


# The GET-write guard ---------------------------------------------------------------------------------
class _Conn:
    def __init__(self, written):
        self._registered_objects = [object()] if written else []
        self._added = {}
        self.connections = {'': self}


class _TM:
    doomed = False

    def doom(self):
        self.doomed = True


@pytest.mark.parametrize(
    ('method', 'written', 'doomed'),
    [('GET', True, True), ('HEAD', True, True), ('GET', False, False), ('POST', True, False)],
)
def test_get_write_guard(method, written, doomed):
    from pyramid.testing import DummyRequest

    from portal.security import no_write_on_get_tween_factory

    request = DummyRequest()
    request.method = method
    request._primary_zodb_conn = _Conn(written)
    request.tm = _TM()
    tween = no_write_on_get_tween_factory(lambda r: 'response', None)
    assert tween(request) == 'response'
    assert request.tm.doomed is doomed


# Roles, groups, local roles ------------------------------------------------------------------------------
def _config():
    from pyramid.config import Configurator

    config = Configurator(settings={'portal.session_secret': 's' * 64})
    config.include('portal.security')
    return config


def test_plugins_add_roles_and_duplicates_fail_loudly():
    from pyramid.exceptions import ConfigurationConflictError

    config = _config()
    config.add_role('Reviewer', 'Reviewer', ('view', 'review'))
    config.commit()
    assert config.registry.roles['Reviewer'].permissions == ('view', 'review')
    config.add_role('Reviewer', 'Again', ('view',))
    config.add_role('Reviewer', 'Twice', ('view',))
    with pytest.raises(ConfigurationConflictError):
        config.commit()


def test_group_roles_and_local_roles_give_permissions():
    from portal.resources.folder import Folder
    from portal.resources.site import Site
    from portal.security import Principals, acl_permits, local_roles_of, role_acl

    config = _config()
    config.commit()
    principals = Principals()
    principals.add_group('publishers', roles=('Publisher',))
    anna = principals.add_user('anna')
    anna.groups = ('publishers',)
    assert principals.principals_of(anna) == ['user:anna', 'group:publishers', 'role:Publisher']

    site = Site()
    site.add('turku', Folder(), send_events=False)
    site.add('oulu', Folder(), send_events=False)
    site['turku'].set_local_roles('user:anna', ['Editor'])
    roles = role_acl(config.registry)
    base = ['system.Everyone', 'system.Authenticated', 'user:anna']
    for town, allowed in (('turku', True), ('oulu', False)):
        context = site[town]
        effective = base + local_roles_of(context, base)
        assert bool(acl_permits(context, effective, 'edit', roles)) is allowed
