"""Console scripts.  Each opens the site named by an ini file in one transaction.

Every script reads its ini file through the functions here, which give the values that the shipped ini
files expect from pserve's command line (``pserve production.ini http_port=6543``), so that every
shipped ini works for every script.  ``production.ini`` names a ZEO blob cache per process after
``http_port``; a script's is ``var/blobcache-script``.

An embedded FileStorage (``development.ini``) is locked by the one process that has it open: a script run
while ``make serve`` runs cannot open it.  The functions that open the site say so in one line and end the
script with :data:`EXIT_LOCKED` (:func:`storage_lock_explained`), instead of ZODB's traceback.
"""

import contextlib
import os
import re
import sys

import zc.lockfile
from pyramid.paster import bootstrap, get_appsettings, setup_logging

#: The values a console script gives the ini file's ``%(name)s`` references that pserve's command line
#: would give; ``console_script`` tells the application it is not starting to serve (no setup link).
SCRIPT_DEFAULTS = {'http_port': 'script', 'console_script': 'true'}


def ini_settings(config_uri):
    """The ``[app:main]`` settings of an ini file, as a console script reads them."""
    return get_appsettings(config_uri, options=dict(SCRIPT_DEFAULTS))


def ini_logging(config_uri):
    setup_logging(config_uri, global_conf=dict(SCRIPT_DEFAULTS))


#: The exit status of a script that found the database locked: sysexits' EX_TEMPFAIL, "try again later".
EXIT_LOCKED = 75

_LOCK_FILE_RE = re.compile(r"""Couldn't lock ['"](?P<path>.+?)(?:\.lock)?['"]""")


def locked_message(error, hint=None):
    """One line for a person who ran a script while the site (or another script) holds the database."""
    found = _LOCK_FILE_RE.search(str(error))
    path = found.group('path') if found else 'the database'
    if found and os.path.isabs(path) and not os.path.relpath(path).startswith('..'):
        path = os.path.relpath(path)
    message = (
        f'{path} is in use by another process, most likely the running site: stop the site '
        '(Ctrl+C where it runs) and run this command again.'
    )
    return f'{message} {hint}' if hint else message


@contextlib.contextmanager
def storage_lock_explained(hint=None):
    """End the script with :func:`locked_message` and :data:`EXIT_LOCKED` when a storage it opens is
    locked by another process: zc.lockfile's ``LockError``, which FileStorage raises for ``Data.fs`` and
    the audit log's ``Audit.fs`` alike."""
    try:
        yield
    except zc.lockfile.LockError as error:
        print(locked_message(error, hint), file=sys.stderr)
        raise SystemExit(EXIT_LOCKED) from None


def ini_bootstrap(config_uri, locked_hint=None):
    """Pyramid's :func:`~pyramid.paster.bootstrap` of the application an ini file describes.

    When the database is locked by the running site, the script ends with one line saying what to do
    (and ``locked_hint``, another way, when given).
    """
    with storage_lock_explained(locked_hint):
        return bootstrap(config_uri, options=dict(SCRIPT_DEFAULTS))


def ini_app(config_uri, **overrides):
    """The WSGI application an ini file describes, its settings changed by ``overrides``; a locked
    database ends the script as :func:`ini_bootstrap` does."""
    from portal import main

    settings = dict(ini_settings(config_uri), **overrides)
    with storage_lock_explained():
        return main(dict(SCRIPT_DEFAULTS), **settings)


@contextlib.contextmanager
def site_from_ini(config_uri):
    """Yield ``(site, registry)`` inside a transaction that commits when the block ends cleanly."""
    ini_logging(config_uri)
    env = ini_bootstrap(config_uri)
    try:
        with env['request'].tm:
            yield env['root'], env['registry']
    finally:
        env['closer']()
        for db in getattr(env['registry'], '_zodb_databases', {}).values():
            db.close()
