"""Kaiku Portal: the Kaikukortti network's site.

:func:`main` builds the WSGI application.  Content lives in ZODB under ``root['site']`` and is reached by
traversal; the site is created and filled from the ``content/`` files the first time the application
starts on an empty database.  Plugins join through ``pyramid.includes`` and the portal never imports them.
"""

import logging
import random
import time
from dataclasses import dataclass

from pyramid.config import Configurator
from pyramid.decorator import reify
from pyramid.request import Request
from pyramid.settings import asbool, aslist
from pyramid_retry import IBeforeRetry, RetryableExecutionPolicy, mark_error_retryable
from pyramid_tm import create_tm
from pyramid_zodbconn import get_connection
from transaction.interfaces import TransientError

from portal.startup import in_own_transaction

log = logging.getLogger(__name__)

SITE_KEY = 'site'


@dataclass(frozen=True)
class PortalSettings:
    """The portal's own settings, read from the ini file in one place."""

    content_dir: str | None
    secure_cookies: bool
    accessibility_page: str
    privacy_page: str
    load_on_start: bool
    evolve_on_start: bool
    backup_dir: str | None
    retry_backoff: float
    zeo_server_sync: bool
    max_upload_bytes: int
    #: Where the file of a form that failed validation waits for the form's next round.
    held_upload_dir: str | None
    #: Roles whose holders (site-wide or on any folder) must log in with a second factor.
    second_factor_roles: tuple

    @classmethod
    def from_settings(cls, settings):
        from portal.security.twofactor import DEFAULT_REQUIRED_ROLES

        return cls(
            content_dir=settings.get('portal.content_dir') or None,
            secure_cookies=asbool(settings.get('portal.secure_cookies', True)),
            accessibility_page=settings.get('portal.accessibility_page', 'saavutettavuusseloste'),
            privacy_page=settings.get('portal.privacy_page', 'tietosuojaseloste'),
            load_on_start=asbool(settings.get('portal.load_on_start', True)),
            evolve_on_start=asbool(settings.get('portal.evolve_on_start', True)),
            backup_dir=settings.get('portal.backup_dir') or None,
            retry_backoff=float(settings.get('portal.retry_backoff', 0.004)),
            zeo_server_sync=asbool(settings.get('portal.zeo_server_sync', True)),
            max_upload_bytes=int(settings.get('portal.max_upload_bytes', 20 * 1024 * 1024)),
            held_upload_dir=settings.get('portal.held_upload_dir') or None,
            second_factor_roles=tuple(
                aslist(settings.get('portal.second_factor_roles', ' '.join(DEFAULT_REQUIRED_ROLES)))
            ),
        )


def appmaker(zodb_root, registry):
    """Return the site, creating it (and loading the initial content) when the database is empty."""
    from portal.security import ensure_principals

    ensure_principals(zodb_root)
    site = zodb_root.get(SITE_KEY)
    if site is None:
        from portal.catalog import SiteCatalog
        from portal.evolve import mark_current
        from portal.loader import Loader

        site = registry.content_types['Site'].create(state='published')
        site.catalog = SiteCatalog()
        zodb_root[SITE_KEY] = site
        mark_current(zodb_root, registry)
        content_dir = registry.portal_settings.content_dir
        if content_dir and registry.portal_settings.load_on_start:
            report = Loader(registry).load(site, content_dir)
            for problem in report.problems:
                log.warning('initial content: %s', problem)
            log.info('initial content loaded: %d items', len(report.added))
    return site


def root_factory(request):
    return appmaker(get_connection(request).root(), request.registry)


def sync_with_zeo_server(db):
    """Make each transaction of a ZEO client begin with a round trip to the server.

    Without it a process learns of other processes' commits when the server's invalidation messages
    arrive, which is usually before its next request but not always: a page loaded from another process
    right after a save showed the old text about once in a hundred tries here.  The round trip costs a
    fraction of a millisecond.  ZEO's ``server_sync`` option does this, but ``zeo://`` URIs cannot set it.
    """
    storage = db.storage
    if getattr(storage, 'server_sync', None) is not False:
        return  # not a ZEO client, or one that syncs already
    storage.server_sync = True  # kept across reconnections: ZEO then points sync at ping again
    if getattr(storage, 'ping', None) is not None:
        storage.sync = storage.ping
    # Connections opened before now hold the old sync; new ones pick up the round trip.
    db.pool.clear()


def forget_oids_on_reconnect(db):
    """Make a ZEO client drop the object ids it fetched in advance whenever it (re)connects.

    A ZEO client asks the server for a hundred new object ids at a time and hands them out as objects
    are added.  A server that restarts after a crash (SIGKILL, power) starts counting from the highest
    id it has *stored*, so it hands the same ids that were still unused in the client to other clients:
    two processes then store different objects under one id ("A different object already has the same
    oid", ``POSKeyError``, a BTree bucket replaced by another process's object).  Ids fetched from a
    server that has gone are thrown away; the next new object asks the new server.
    """
    storage = db.storage
    if not hasattr(storage, '_oids') or not hasattr(storage, 'notify_connected'):
        return  # not a ZEO client
    connected = storage.notify_connected

    def notify_connected(conn, info):
        storage._oids[:] = []
        return connected(conn, info)

    storage.notify_connected = notify_connected
    storage._oids[:] = []


def ensure_site(registry, site_url=None):
    """Create the site in its own transaction at start-up, so the first request finds it ready, then
    bring an existing database up to date with the evolve steps it has not had yet.

    With a ``site_url`` (the site is starting to serve, not a console script), while the site has no user
    at all, log the one-time link to the page that makes the first administrator
    (:mod:`portal.security.firstrun`): ``site_url`` + ``/@@setup?token=…``.
    """
    from portal.security.firstrun import offer_setup, setup_link

    db = registry._zodb_databases['']
    for each in registry._zodb_databases.values():
        forget_oids_on_reconnect(each)
    if registry.portal_settings.zeo_server_sync:
        for each in registry._zodb_databases.values():
            sync_with_zeo_server(each)

    def make_site(root):
        appmaker(root, registry)
        return offer_setup(root) if site_url is not None else None

    token = in_own_transaction(db, make_site)
    if token is not None:
        log.warning('No user yet: make the first administrator at %s', setup_link(site_url, token))
    if registry.portal_settings.evolve_on_start:
        from portal.evolve import evolve

        evolve(db, registry)
    return db


#: The wait before a retry doubles with each attempt up to ``2 ** BACKOFF_DOUBLINGS`` times
#: ``portal.retry_backoff`` (about 1 s with the shipped 4 ms).  The first attempts wait a few ms, so five
#: attempts (ZEO) cost as before; the nine waits of ten attempts (RelStorage) add up to 1 s on average
#: and at most 2 s, longer than PostgreSQL's ``deadlock_timeout`` (1 s), so the storm of lock failures
#: while two commits wait for each other no longer outlasts every attempt of a request caught in it
#: (with 6 doublings the waits added up to 0.5 s, and the fault test answered a few 503s about one run
#: in ten).
BACKOFF_DOUBLINGS = 8


def back_off_before_retry(event):
    """Wait a random moment, longer after each attempt, before pyramid_retry runs a conflicted request
    again, so that requests which collided on one object do not all collide again at once.

    Many processes writing into one BTree (RelStorage locks the rows it reads as current) need this.
    """
    backoff = event.request.registry.portal_settings.retry_backoff
    if backoff > 0:
        attempt = event.environ.get('retry.attempt', 0)
        ceiling = backoff * 2 ** min(attempt, BACKOFF_DOUBLINGS)
        time.sleep(random.uniform(0, ceiling))  # noqa: S311 - jitter, not a secret


class PortalRequest(Request):
    """The request, with pyramid_tm's ``request.tm`` defined on the class.

    pyramid_tm adds ``tm`` with ``add_request_method(reify=True)``, and Pyramid applies such a property by
    making a new subclass of the request for every request (``InstancePropertyHelper``): about 25 µs each,
    a third of a card check's whole time in the registry's fast lane.  Defined here once, it costs nothing
    until it is used; :func:`includeme` then overrides pyramid_tm's registration with none.
    """

    @reify
    def tm(self):
        return create_tm(self)


def includeme(config):
    """The portal's parts, in the order they depend on each other."""
    from portal.security.tweens import guarded_execution_policy

    settings = config.get_settings()
    settings.setdefault('tm.manager_hook', 'pyramid_tm.explicit_manager')
    config.registry.portal_settings = PortalSettings.from_settings(settings)
    config.include('pyramid_chameleon')
    config.include('pyramid_tm')
    # request.tm comes from PortalRequest; this action overrides pyramid_tm's per-request property.
    config.set_request_factory(PortalRequest)
    config.add_request_method(None, name='tm')
    config.include('pyramid_retry')
    # pyramid_retry's own policy, wrapped so that no exception reaches the WSGI server; set here, it
    # overrides the one pyramid_retry sets.
    attempts = int(settings.get('retry.attempts') or 3)
    config.set_execution_policy(guarded_execution_policy(RetryableExecutionPolicy(attempts)))
    mark_error_retryable(TransientError)  # every conflict, on every route, before pyramid_tm tags it
    config.add_subscriber(back_off_before_retry, IBeforeRetry)
    config.include('pyramid_zodbconn')
    config.include('portal.i18n')
    config.include('portal.security')
    config.include('portal.audit')
    config.include('portal.feedback')
    config.include('portal.history')
    config.include('portal.resources')
    config.include('portal.forms')
    config.include('portal.catalog')
    config.include('portal.translations')
    config.include('portal.evolve')
    config.include('portal.static')
    config.include('kaiku_theme')
    config.include('portal.views')
    config.include('portal.pagecache')
    config.set_root_factory(root_factory)


#: Templates every error path uses; compiled at start so that threads never compile them at once.
WARM_TEMPLATES = (
    'kaiku_theme:templates/layout.pt',
    'kaiku_theme:templates/macros.pt',
    'kaiku_theme:templates/error.pt',
)


def warm_templates():
    """Compile the templates of the page frame and the error page before any request.

    Chameleon compiles a template on its first use; two waitress threads compiling the same template at
    once (the first conflict-storm error page, say) can fail inside Python's compiler with a SystemError,
    which turned a retried conflict into a 500.
    """
    from pyramid.renderers import get_renderer

    for name in WARM_TEMPLATES:
        get_renderer(name).implementation().cook_check()


def main(global_config, **settings):
    """The WSGI application: ``paste.app_factory`` entry point.

    ``pyramid.includes`` (plugins, the debug toolbar) are included after the portal's own parts, so a
    plugin can use the portal's configuration directives; Pyramid itself would include them first.
    """
    from portal.security.firstrun import server_url

    includes = aslist(settings.pop('pyramid.includes', ''))
    settings['portal.includes'] = includes
    with Configurator(settings=settings) as config:
        config.include(includeme)
        for name in includes:
            config.include(name)
        config.commit()
        warm_templates()
        # Console scripts build the application too (portal.scripts.SCRIPT_DEFAULTS says so): no link.
        serving = not asbool(global_config.get('console_script'))
        ensure_site(config.registry, server_url(global_config) if serving else None)
    return config.make_wsgi_app()
