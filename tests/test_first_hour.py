"""A newcomer's first hour, in the README's order: ``make serve`` in one terminal, then the first
administrator (by the setup link the first start prints, or ``portal-adduser`` once the site is stopped),
then the other console scripts.

A console script run while the site holds the embedded FileStorage says in one line what to do and ends
with exit status 75, never with ZODB's ``LockError`` traceback.
"""

import hashlib
import io
import logging
import os
import shutil
import subprocess
import sys

import pytest
import webtest

from portal.testing import REPO, TEST_PASSWORD, add_user, form_with, log_in

pytestmark = pytest.mark.usefixtures('english_interface')

SETUP_MARK = '/@@setup?token='


class LinkCatcher(logging.Handler):
    """Keeps the setup links the application logs as it starts."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.links = []

    def emit(self, record):
        message = record.getMessage()
        if SETUP_MARK in message:
            self.links.append(message.rsplit(' ', 1)[1])


@pytest.fixture
def setup_links():
    catcher = LinkCatcher()
    logger = logging.getLogger('portal')
    logger.addHandler(catcher)
    yield catcher.links
    logger.removeHandler(catcher)


def _token(link):
    return link.split(SETUP_MARK, 1)[1]


# The site running, the scripts beside it ----------------------------------------------------------------
@pytest.fixture(scope='module')
def running_site(tmp_path_factory):
    """``make serve`` on a copy of development.ini: the signing key made, the application started as
    pserve starts it (``http_port=6543``), holding ``var/Data.fs`` and ``var/Audit.fs`` open.

    Yields ``(ini, app, links)``: the setup links the start logged.
    """
    from pyramid.paster import get_app

    from kaiku_registry.scripts import main as registry_main
    from portal.testing import close_app

    checkout = tmp_path_factory.mktemp('checkout')
    shutil.copy(os.path.join(REPO, 'development.ini'), checkout / 'development.ini')
    os.symlink(os.path.join(REPO, 'content'), checkout / 'content')
    (checkout / 'var').mkdir()
    ini = str(checkout / 'development.ini')
    assert registry_main([ini, 'keygen']) == 0
    catcher = LinkCatcher()
    logger = logging.getLogger('portal')
    logger.addHandler(catcher)
    try:
        app = get_app(ini, options={'http_port': '6543'})
    finally:
        logger.removeHandler(catcher)
    yield ini, app, catcher.links
    close_app(app)


@pytest.fixture
def no_logging_setup(monkeypatch):
    """The scripts' logging set-up from the ini file would reconfigure the test process's logging."""
    monkeypatch.setattr('portal.scripts.setup_logging', lambda *args, **kw: None)


class Unreadable(io.StringIO):
    def readline(self, *args):
        raise AssertionError('the password was asked for before the database was opened')


LOCKED_SCRIPTS = [
    ('portal.scripts.adduser', ['admin', '--role', 'Administrator']),
    ('portal.scripts.load', []),
    ('portal.scripts.dump', ['{tmp}/dump']),
    ('portal.scripts.evolve', []),
    ('portal.scripts.evolve', ['--status']),
    ('portal.scripts.reindex', []),
    ('kaiku_registry.scripts', ['demo']),
    ('kaiku_registry.scripts', ['sites']),
    ('kaiku_registry.scripts', ['token', '1']),
    ('kaiku_registry.scripts', ['retention']),
    ('kaiku_registry.scripts', ['import', 'partners', '{tmp}/partners.csv']),
]


@pytest.mark.parametrize(
    ('module', 'argv'),
    LOCKED_SCRIPTS,
    ids=[f'{module.rsplit(".", 1)[1]}-{" ".join(argv)}' for module, argv in LOCKED_SCRIPTS],
)
def test_script_beside_running_site_says_what_to_do(
    running_site, no_logging_setup, tmp_path, capsys, module, argv
):
    import importlib

    from portal.scripts import EXIT_LOCKED

    ini = running_site[0]
    main = importlib.import_module(module).main
    args = [ini, *(arg.format(tmp=tmp_path) for arg in argv)]
    kw = {'stdin': Unreadable()} if module.endswith('adduser') else {}
    with pytest.raises(SystemExit) as exit:
        main(args, **kw)
    assert exit.value.code == EXIT_LOCKED
    out, err = capsys.readouterr()
    assert out == ''
    assert err.count('\n') == 1, err
    assert 'Traceback' not in err and 'LockError' not in err
    assert 'var/Data.fs is in use by another process, most likely the running site' in err
    assert 'stop the site (Ctrl+C where it runs) and run this command again.' in err
    assert ('setup link' in err) is module.endswith('adduser')


def test_audit_storage_locked_alone_is_explained(tmp_path, no_logging_setup, capsys):
    """The audit log's own FileStorage is locked the same way; the line names it."""
    from ZODB.FileStorage import FileStorage

    from portal.scripts import EXIT_LOCKED
    from portal.scripts.load import main
    from portal.testing import write_ini

    ini = write_ini(tmp_path, **{'portal.load_on_start': 'false'})
    held = FileStorage(str(tmp_path / 'Audit.fs'))
    try:
        with pytest.raises(SystemExit) as exit:
            main([ini])
    finally:
        held.close()
    assert exit.value.code == EXIT_LOCKED
    err = capsys.readouterr().err
    assert err.count('\n') == 1
    assert 'Audit.fs is in use by another process' in err


def test_adduser_command_beside_running_site_prints_one_line(running_site):
    """The README's second step, run as a person runs it: the real console script, with the ini file's
    logging, while the site holds the database."""
    ini = running_site[0]
    command = os.path.join(os.path.dirname(sys.executable), 'portal-adduser')
    env = {name: value for name, value in os.environ.items() if name != 'CHAMELEON_CACHE'}
    result = subprocess.run(
        [command, ini, 'admin', '--role', 'Administrator'],
        input='a long passphrase of your own\n',
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=os.path.dirname(ini),
        env=env,
    )
    assert result.returncode == 75
    assert result.stdout == ''
    # Python's own warning that pyramid imports pkg_resources (two lines) comes before any of ours.
    lines = [line for line in result.stderr.splitlines() if 'pkg_resources' not in line]
    assert lines == [
        'var/Data.fs is in use by another process, most likely the running site: stop the site (Ctrl+C '
        'where it runs) and run this command again. For the first administrator, open instead the setup '
        'link that the site printed when it started.'
    ], result.stderr


def test_backup_and_keygen_work_beside_running_site(running_site, tmp_path, capsys):
    """repozo reads Data.fs without its lock, and keygen opens no database: both work while it runs."""
    from kaiku_registry.scripts import main as registry_main
    from portal.scripts.backup import main as backup_main

    ini = running_site[0]
    assert backup_main([ini, 'backup', '--backup-dir', str(tmp_path / 'backups')]) == 0
    assert backup_main([ini, 'list', '--backup-dir', str(tmp_path / 'backups')]) == 0
    assert registry_main([ini, 'keygen']) == 0
    assert 'exists' in capsys.readouterr().out


def test_readme_order_first_start_prints_link_that_makes_the_administrator(running_site):
    """``make serve`` prints http://127.0.0.1:6543/@@setup?token=…; the link makes the administrator
    while the site runs, who then logs in."""
    _ini, app, links = running_site
    assert len(links) == 1
    assert links[0].startswith('http://127.0.0.1:6543/@@setup?token=')
    browser = webtest.TestApp(app, extra_environ={'HTTP_HOST': '127.0.0.1:6543'})
    form = form_with(browser.get(links[0][len('http://127.0.0.1:6543') :]), 'password_again')
    form['login'] = 'admin'
    form['password'] = form['password_again'] = TEST_PASSWORD
    assert form.submit(status=303).location == 'http://127.0.0.1:6543/login'
    # development.ini asks Administrators for the second factor (the production default): the new
    # administrator's next step is to enrol it, and nothing opens before that.
    res = log_in(browser, 'admin', TEST_PASSWORD)
    assert '@@two-factor-setup' in res.location
    browser.get('/@@users', status=403)


# The setup link ------------------------------------------------------------------------------------------
@pytest.fixture
def first_start(make_app, setup_links):
    """An application started on an empty database, and the token of the link it logged."""
    app = make_app(**{'portal.load_on_start': 'false'})
    assert len(setup_links) == 1
    return app, _token(setup_links[0])


def _client(app):
    return webtest.TestApp(app, extra_environ={'HTTP_HOST': 'example.com'})


def _fill(res, login='admin', password=TEST_PASSWORD, again=None):
    form = form_with(res, 'password_again')
    form['login'] = login
    form['password'] = password
    form['password_again'] = password if again is None else again
    return form


def _users(app):
    from portal.testing import edit_site

    with edit_site(app) as site:
        from portal.security import ensure_principals

        return {user.login: user.roles for user in ensure_principals(site._p_jar.root()).list_users()}


def test_first_start_logs_a_link_with_a_256_bit_token_kept_hashed(first_start):
    from portal.security.firstrun import SETUP_KEY
    from portal.testing import edit_site

    app, token = first_start
    assert len(token) == 43  # 32 random bytes, URL-safe base64
    with edit_site(app) as site:
        kept = site._p_jar.root()[SETUP_KEY].expiries
        assert list(kept) == [hashlib.sha256(token.encode()).hexdigest()]


def test_setup_page_is_an_accessible_form(first_start):
    app, token = first_start
    res = _client(app).get(f'/@@setup?token={token}', status=200)
    assert 'no-store' in res.headers['Cache-Control']
    for field in ('login', 'password', 'password_again'):
        assert res.html.select_one(f'label[for="setup-{field}"]').get_text(strip=True)
        assert res.html.select_one(f'#setup-{field}')['required']
    assert [i['autocomplete'] for i in res.html.select('input[type=password]')] == ['new-password'] * 2
    assert res.html.select_one('input[name=csrf_token]')['value']
    # The token rides in the form's address, so the language links of an answer with errors keep it.
    assert res.html.select_one('form.setup-form')['action'] == f'http://example.com/@@setup?token={token}'
    assert not res.html.select('.error-summary, .field-error')


def test_setup_link_works_once(first_start):
    app, token = first_start
    browser = _client(app)
    res = _fill(browser.get(f'/@@setup?token={token}')).submit(status=303)
    assert res.location == 'http://example.com/login'
    assert _users(app) == {'admin': ('Administrator',)}
    log_in(browser, 'admin', TEST_PASSWORD)
    # The same link, by GET or by POST, from the same browser or another: 404.
    browser.get(f'/@@setup?token={token}', status=404)
    stranger = _client(app)
    stranger.get(f'/@@setup?token={token}', status=404)
    stranger.post('/@@setup', {'token': token, 'login': 'mallory'}, status=400)  # CSRF first
    assert list(_users(app)) == ['admin']


def test_open_form_cannot_make_a_second_administrator(first_start):
    """Two people opened the link; the second to submit gets 404 and no account."""
    app, token = first_start
    first, second = _client(app), _client(app)
    form_one = _fill(first.get(f'/@@setup?token={token}'))
    form_two = _fill(second.get(f'/@@setup?token={token}'), login='mallory')
    form_one.submit(status=303)
    form_two.submit(status=404)
    assert list(_users(app)) == ['admin']


WRONG_TOKENS = ['', '?token=', '?token=wrong', f'?token={"x" * 43}', f'?token={"x" * 5000}']


@pytest.mark.parametrize('query', WRONG_TOKENS)
def test_setup_without_a_valid_token_is_404(first_start, query):
    app, _token = first_start
    _client(app).get(f'/@@setup{query}', status=404)


def test_expired_token_is_404(first_start, monkeypatch):
    import datetime

    from portal import clock

    app, token = first_start
    later = clock.now() + datetime.timedelta(hours=24, seconds=1)
    monkeypatch.setattr(clock, 'now', lambda: later)
    _client(app).get(f'/@@setup?token={token}', status=404)


def test_setup_is_404_once_any_user_exists(first_start):
    app, token = first_start
    add_user(app, 'editor', TEST_PASSWORD, roles=['Editor'])
    _client(app).get(f'/@@setup?token={token}', status=404)


@pytest.mark.parametrize(
    ('login', 'password', 'again', 'field', 'message'),
    [
        ('admin', 'short pass', None, 'password', 'A password needs at least 12 characters.'),
        ('admin', 'password1234', None, 'password', 'This password is one of the most common ones.'),
        ('admin', 'admin is my long password', None, 'password', 'must not contain the login name'),
        ('admin', TEST_PASSWORD, TEST_PASSWORD + '!', 'password', 'The passwords differ.'),
        ('Not Valid!', TEST_PASSWORD, None, 'login', 'Use lower-case letters, digits and . _ @ - only.'),
        ('', TEST_PASSWORD, None, 'login', 'Required'),
    ],
)
def test_setup_follows_the_password_rules(first_start, login, password, again, field, message):
    app, token = first_start
    browser = _client(app)
    res = _fill(browser.get(f'/@@setup?token={token}'), login, password, again).submit(status=400)
    error = res.html.select_one(f'#setup-{field}-error')
    assert message in error.get_text()
    assert message in res.html.select_one('.error-summary[role=alert]').get_text()
    assert all(f'token={token}' in a['href'] for a in res.html.select('a[hreflang]'))
    described = res.html.select_one(f'#setup-{field}')
    assert described['aria-invalid'] == 'true'
    assert error['id'] in described['aria-describedby'].split()
    assert _users(app) == {}
    # Nothing was used up: the corrected form goes through.
    _fill(res).submit(status=303)
    assert _users(app) == {'admin': ('Administrator',)}


def test_setup_post_needs_the_csrf_token(first_start):
    app, token = first_start
    browser = _client(app)
    form = _fill(browser.get(f'/@@setup?token={token}'))
    form['csrf_token'] = 'forged'
    form.submit(status=400)
    browser.post(
        '/@@setup',
        {'token': token, 'login': 'admin', 'password': TEST_PASSWORD, 'password_again': TEST_PASSWORD},
        status=400,
    )
    assert _users(app) == {}


def test_setup_is_in_finnish_swedish_and_english(first_start, monkeypatch):
    app, token = first_start
    browser = _client(app)
    titles = {
        lang: browser.get(f'/@@setup?token={token}&lang={lang}').html.h1.get_text(strip=True)
        for lang in ('fi', 'sv', 'en')
    }
    assert titles['en'] == 'Make the first administrator'
    assert len(set(titles.values())) == 3


def test_restart_without_users_prints_a_new_link_and_with_users_none(make_app, tmp_path, setup_links):
    from portal.testing import build_app, close_app

    settings = {'portal.load_on_start': 'false'}
    app = make_app(**settings)
    directory = str(tmp_path / 'db0')
    close_app(app)
    again = build_app(directory, **settings)
    assert len(setup_links) == 2 and setup_links[0] != setup_links[1]
    # Both links are good until one is used or they expire.
    _client(again).get(f'/@@setup?token={_token(setup_links[0])}', status=200)
    add_user(again, 'admin', TEST_PASSWORD, roles=['Administrator'])
    close_app(again)
    close_app(build_app(directory, **settings))
    assert len(setup_links) == 2


def test_console_scripts_print_no_setup_link(tmp_path, setup_links, no_logging_setup, capsys):
    """A script builds the application too, but is not the site starting: no link to a port it has not."""
    from portal.scripts.load import main
    from portal.testing import write_ini

    (tmp_path / 'content').mkdir()
    (tmp_path / 'content' / '_index.md').write_text('---\ntitle: Kaiku\n---\n', encoding='utf-8')
    main([write_ini(tmp_path, **{'portal.load_on_start': 'false'}), str(tmp_path / 'content')])
    assert setup_links == []


def test_two_setups_at_once_make_one_administrator(first_start):
    """Two forms submitted at the same moment: both transactions change the one token object, so the
    later commit conflicts (and, retried as a request, finds a user and answers 404)."""
    import transaction
    from pyramid.testing import DummyRequest
    from ZODB.POSException import ConflictError

    from portal.security.firstrun import add_first_administrator, setup_allowed

    app, token = first_start
    db = app.registry._zodb_databases['']
    managers, requests = [], []
    for _ in range(2):
        tm = transaction.TransactionManager()
        request = DummyRequest()
        request.registry = app.registry
        request._primary_zodb_conn = db.open(transaction_manager=tm)
        tm.begin()
        managers.append(tm)
        requests.append(request)
    try:
        assert all(setup_allowed(request, token) for request in requests)
        add_first_administrator(requests[0], 'admin', TEST_PASSWORD)
        add_first_administrator(requests[1], 'mallory', TEST_PASSWORD)
        managers[0].commit()
        with pytest.raises(ConflictError):
            managers[1].commit()
    finally:
        for tm, request in zip(managers, requests, strict=True):
            tm.abort()
            request._primary_zodb_conn.close()
    assert _users(app) == {'admin': ('Administrator',)}


def test_readme_tells_the_first_hour_as_the_scripts_say_it():
    import zc.lockfile

    from portal.scripts import locked_message

    with open(os.path.join(REPO, 'README.md'), encoding='utf-8') as f:
        readme = f.read()
    first_hour = readme[readme.index('### Your first hour') :]
    assert first_hour.index('make serve') < first_hour.index('@@setup?token=') < first_hour.index('Ctrl+C')
    error = zc.lockfile.LockError(f"Couldn't lock '{os.getcwd()}/var/Data.fs.lock'")
    assert locked_message(error) in first_hour
