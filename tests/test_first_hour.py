"""A newcomer's first hour, in the README's order: ``make serve`` in one terminal, then the first
administrator (by the setup link the first start prints, or ``portal-adduser`` once the site is stopped),
then the other console scripts.

A console script run while the site holds the embedded FileStorage says in one line what to do and ends
with exit status 75, never with ZODB's ``LockError`` traceback.
"""

import io
import logging
import os
import shutil
import subprocess
import sys

import pytest

from portal.testing import REPO

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
