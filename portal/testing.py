"""Test fixtures that the portal's tests and every plugin's tests share.

The cookiecutter's pattern: one application for the whole test session on a temporary FileStorage filled
from ``content/``, and for each test a transaction manager that is begun and doomed, so nothing a test
does through ``testapp`` is ever committed.  Tests that must see writes committed (a form post followed by
a page load, two processes, a restart) use ``make_app``, which builds an application on a fresh database
of its own.
"""

import contextlib
import os

import pytest
import transaction
import webtest
from pyramid import testing
from transaction.interfaces import NoTransaction
from webob.acceptparse import create_accept_language_header

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
CONTENT_DIR = os.path.join(REPO, 'content')


def app_settings(directory, **overrides):
    """Settings for an application whose database and blobs live in ``directory``."""
    settings = {
        'zodbconn.uri': (
            f'file://{directory}/Data.fs?blobstorage_dir={directory}/blobs&connection_cache_size=5000'
        ),
        'zodbconn.uri.audit': f'file://{directory}/Audit.fs',
        'retry.attempts': '3',
        'pyramid.default_locale_name': 'fi',
        'pyramid.includes': 'kaiku_registry',
        'portal.content_dir': CONTENT_DIR,
        'portal.secure_cookies': 'false',
        'portal.session_secret': 'test-secret-not-for-production-' + '0' * 32,
        # Tests log the same users in many times a minute, which a one-time code cannot follow: no role
        # needs a second factor here unless a test asks (tests/test_twofactor.py uses the default).
        'portal.second_factor_roles': '',
    }
    settings.update(overrides)
    return settings


def write_ini(directory, **overrides):
    """An ini file in ``directory`` for console scripts, with the same settings as :func:`build_app`."""
    settings = app_settings(directory, **overrides)
    lines = ['[app:main]', 'use = egg:kaiku-portal']
    lines += [f'{name} = {value}' for name, value in settings.items()]
    path = os.path.join(str(directory), 'test.ini')
    with open(path, 'w', encoding='utf-8') as f:
        f.write('\n'.join(lines) + '\n')
    return path


#: The databases :func:`build_app` has made once in this process, by the settings that shaped them: the
#: folder of a first build's ``Data.fs``, ``Audit.fs`` and blobs.  Loading and indexing ``content/`` is
#: nine tenths of building an application (0.40 s of 0.45); a later build with the same settings starts
#: from a copy of those files (0.05 s), exactly as a restarted site starts from its database.
_built_databases = {}
_DATABASE_FILES = ('Data.fs', 'Data.fs.index', 'Audit.fs', 'Audit.fs.index')


def _shaping_key(directory, overrides):
    """The key of the database these settings make, or None when it cannot be shared: the folder is not
    empty, the storage is not the default one, or a setting names a file or folder (its content may be
    a test's own and change between builds)."""
    if os.listdir(directory) or any(name.startswith('zodbconn.') for name in overrides):
        return None
    values = [str(value) for value in overrides.values()]
    if any(os.sep in value or '://' in value for value in values):
        return None
    return tuple(sorted(zip(overrides, values, strict=True)))


def _copy_database(source, directory):
    import shutil

    for name in _DATABASE_FILES:
        if os.path.exists(os.path.join(source, name)):
            shutil.copyfile(os.path.join(source, name), os.path.join(directory, name))
    if os.path.isdir(os.path.join(source, 'blobs')):
        shutil.copytree(os.path.join(source, 'blobs'), os.path.join(directory, 'blobs'))


def build_app(directory, **overrides):
    """An application on the FileStorage in ``directory``, made as :func:`app_settings` says.

    An empty ``directory`` gets a copy of the database that the same settings made before in this
    process (see :data:`_built_databases`), so the content is loaded and indexed once per process, not
    once per application; the copy is the database that first start left, as a restart finds it.
    """
    import atexit
    import shutil
    import tempfile

    from portal import main

    directory = str(directory)
    key = _shaping_key(directory, overrides)
    if key is not None:
        source = _built_databases.get(key)
        if source is None:
            source = tempfile.mkdtemp(prefix='kaiku-built-')
            atexit.register(shutil.rmtree, source, True)
            # Made as a console script makes it: no one-time setup link, which the copy's start offers.
            close_app(main({'console_script': 'true'}, **app_settings(source, **overrides)))
            _built_databases[key] = source
        _copy_database(source, directory)
    return main({}, **app_settings(directory, **overrides))


def close_app(app):
    """Close the databases an application opened."""
    registry = getattr(app, 'registry', None)
    for db in getattr(registry, '_zodb_databases', {}).values():
        db.close()


@pytest.fixture(scope='session')
def app(tmp_path_factory):
    app = build_app(str(tmp_path_factory.mktemp('db')))
    yield app
    close_app(app)


@pytest.fixture
def tm():
    tm = transaction.TransactionManager(explicit=True)
    tm.begin()
    tm.doom()
    yield tm
    with contextlib.suppress(NoTransaction):  # the request's connection may have ended it already
        tm.abort()


class DoomedTestApp(webtest.TestApp):
    """A WebTest client whose every request runs in a transaction of its own that is begun and doomed,
    so nothing it does is ever committed, however many requests a test makes."""

    def do_request(self, req, status=None, expect_errors=None):
        tm = transaction.TransactionManager(explicit=True)
        tm.begin()
        tm.doom()
        req.environ['tm.active'] = True
        req.environ['tm.manager'] = tm
        try:
            return super().do_request(req, status=status, expect_errors=expect_errors)
        finally:
            with contextlib.suppress(NoTransaction):  # the request's connection may have ended it
                tm.abort()


@pytest.fixture
def testapp(app):
    """A WebTest client on the session's application whose requests never commit."""
    return DoomedTestApp(app, extra_environ={'HTTP_HOST': 'example.com'})


@pytest.fixture
def make_app(tmp_path):
    """Build applications on fresh databases of their own, with settings overridden per call."""
    built = []

    def factory(**overrides):
        directory = tmp_path / f'db{len(built)}'
        directory.mkdir()
        app = build_app(str(directory), **overrides)
        built.append(app)
        return app

    yield factory
    for app in built:
        close_app(app)


@pytest.fixture
def committing_testapp(make_app):
    """A WebTest client on a fresh database whose requests commit, like a real browser's."""
    return webtest.TestApp(make_app(), extra_environ={'HTTP_HOST': 'example.com'})


@pytest.fixture
def config():
    with testing.testConfig() as config:
        yield config


@pytest.fixture
def dummy_request(app, tm):
    """A dummy request in a doomed transaction; the database connection it opened (pyramid_zodbconn's
    ``get_connection``) is closed afterwards, as a real request's finished callback closes it: left open,
    it made the application's ``close`` fail on its transaction manager."""
    request = testing.DummyRequest()
    request.registry = app.registry
    request.tm = tm
    request.accept_language = create_accept_language_header(None)  # as a browser that names no language
    yield request
    with contextlib.suppress(NoTransaction):
        tm.abort()
    request._process_finished_callbacks()


@contextlib.contextmanager
def edit_site(app):
    """Open the application's site outside any request and commit what the block changes."""
    from portal import SITE_KEY

    db = app.registry._zodb_databases['']
    tm = transaction.TransactionManager()
    conn = db.open(transaction_manager=tm)
    try:
        with tm:
            yield conn.root()[SITE_KEY]
    finally:
        conn.close()


@pytest.fixture(scope='session', autouse=True)
def cheap_password_hashing():
    """Passwords hashed and checked with argon2's cheapest parameters during the tests (a check takes
    microseconds instead of 0.1 s).  ``tests/test_security.py`` checks what the site uses otherwise."""
    from argon2 import PasswordHasher, profiles

    from portal.security import passwords

    previous = passwords.use_hasher(PasswordHasher.from_parameters(profiles.CHEAPEST))
    yield
    passwords.use_hasher(previous)


_hashes = {}


def password_hash(password):
    """The argon2id hash of ``password``, made once per test session."""
    from portal.security import hash_password

    if password not in _hashes:
        _hashes[password] = hash_password(password)
    return _hashes[password]


def add_user(app, login, password, roles=(), local_roles=None, title=''):
    """Create (or update) a user in ``app``'s database and commit: ``local_roles`` maps a path such as
    ``'/kunnat'`` to the roles the user holds there."""
    from pyramid.traversal import find_resource

    from portal import SITE_KEY
    from portal.events import LocalRolesChanged, notify
    from portal.security import ensure_principals

    db = app.registry._zodb_databases['']
    tm = transaction.TransactionManager()
    with tm:
        conn = db.open(transaction_manager=tm)
        try:
            root = conn.root()
            principals = ensure_principals(root)
            user = principals.get_user(login) or principals.add_user(login)
            user.roles = tuple(roles)
            user.title = title
            user.password_hash = password_hash(password)
            user.end_all_sessions()
            for path, local in (local_roles or {}).items():
                item = find_resource(root[SITE_KEY], path)
                item.set_local_roles(user.principal, local)
                notify(LocalRolesChanged(item), app.registry)  # as the sharing page does
        finally:
            tm.get().addAfterCommitHook(lambda ok, conn=conn: conn.close())
    return login


def enrol_second_factor(app, login):
    """Give ``login`` in ``app``'s database a second factor and commit; return (secret, recovery codes)."""
    import time

    import pyotp

    from portal.security import ensure_principals, twofactor

    secret = twofactor.new_secret()
    now = time.time()
    db = app.registry._zodb_databases['']
    tm = transaction.TransactionManager()
    with tm:
        conn = db.open(transaction_manager=tm)
        try:
            user = ensure_principals(conn.root()).get_user(login)
            codes = twofactor.enrol(user, secret, pyotp.TOTP(secret).at(now), now)
            user.totp_last_step = -1  # the enrolling code was never shown: the test may use it
        finally:
            tm.get().addAfterCommitHook(lambda ok, conn=conn: conn.close())
    return secret, codes


def log_in(testapp, login, password, status=303):
    """Log in through the real form, the way a browser does; return the response."""
    form = form_with(testapp.get('/login'), 'login')
    form['login'] = login
    form['password'] = password
    return form.submit(status=status)


TEST_PASSWORD = 'correct horse battery staple'  # noqa: S105 - a test fixture's password


def browser(app, login=None, password=TEST_PASSWORD, addr='198.51.100.7'):
    """A WebTest client on ``app`` whose requests commit, logged in as ``login`` when one is given."""
    client = webtest.TestApp(app, extra_environ={'HTTP_HOST': 'example.com', 'REMOTE_ADDR': addr})
    if login:
        log_in(client, login, password)
    return client


@pytest.fixture
def english_interface(monkeypatch):
    """For tests that read the interface's messages in English (the msgids): Finnish is the default."""
    monkeypatch.setattr('portal.i18n.FALLBACK_LANGUAGE', 'en')


def form_with(res, field):
    """The form of a page that has a field called ``field`` (pages have a search form too)."""
    for form in res.forms.values():
        if field in form.fields:
            return form
    raise AssertionError(f'no form with a field {field!r} on {res.request.url}')
