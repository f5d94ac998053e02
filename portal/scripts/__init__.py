"""Console scripts.  Each opens the site named by an ini file in one transaction.

Every script reads its ini file through the functions here, which give the values that the shipped ini
files expect from pserve's command line (``pserve production.ini http_port=6543``), so that every
shipped ini works for every script.  ``production.ini`` names a ZEO blob cache per process after
``http_port``; a script's is ``var/blobcache-script``.
"""

import contextlib

from pyramid.paster import bootstrap, get_appsettings, setup_logging

#: The values a console script gives the ini file's ``%(name)s`` references that pserve's command line
#: would give.
SCRIPT_DEFAULTS = {'http_port': 'script'}


def ini_settings(config_uri):
    """The ``[app:main]`` settings of an ini file, as a console script reads them."""
    return get_appsettings(config_uri, options=dict(SCRIPT_DEFAULTS))


def ini_logging(config_uri):
    setup_logging(config_uri, global_conf=dict(SCRIPT_DEFAULTS))


def ini_bootstrap(config_uri):
    """Pyramid's :func:`~pyramid.paster.bootstrap` of the application an ini file describes."""
    return bootstrap(config_uri, options=dict(SCRIPT_DEFAULTS))


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
