"""Console scripts.  Each opens the site named by an ini file in one transaction."""

import contextlib

from pyramid.paster import bootstrap, setup_logging


@contextlib.contextmanager
def site_from_ini(config_uri):
    """Yield ``(site, registry)`` inside a transaction that commits when the block ends cleanly."""
    setup_logging(config_uri)
    env = bootstrap(config_uri)
    try:
        with env['request'].tm:
            yield env['root'], env['registry']
    finally:
        env['closer']()
        for db in getattr(env['registry'], '_zodb_databases', {}).values():
            db.close()
