"""Kaiku Portal: the Kaikukortti network's site.

:func:`main` builds the WSGI application.  Content lives in ZODB under ``root['site']`` and is reached by
traversal; the site is created and filled from the ``content/`` files the first time the application
starts on an empty database.  Plugins join through ``pyramid.includes`` and the portal never imports them.
"""

import logging
from dataclasses import dataclass

import transaction
from pyramid.config import Configurator
from pyramid.settings import asbool, aslist
from pyramid_zodbconn import get_connection

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

    @classmethod
    def from_settings(cls, settings):
        return cls(
            content_dir=settings.get('portal.content_dir') or None,
            secure_cookies=asbool(settings.get('portal.secure_cookies', True)),
            accessibility_page=settings.get('portal.accessibility_page', 'saavutettavuusseloste'),
            privacy_page=settings.get('portal.privacy_page', 'tietosuojaseloste'),
            load_on_start=asbool(settings.get('portal.load_on_start', True)),
        )


def appmaker(zodb_root, registry):
    """Return the site, creating it (and loading the initial content) when the database is empty."""
    site = zodb_root.get(SITE_KEY)
    if site is None:
        from portal.catalog import SiteCatalog
        from portal.loader import Loader

        site = registry.content_types['Site'].create(state='published')
        site.catalog = SiteCatalog()
        zodb_root[SITE_KEY] = site
        content_dir = registry.portal_settings.content_dir
        if content_dir and registry.portal_settings.load_on_start:
            report = Loader(registry).load(site, content_dir)
            for problem in report.problems:
                log.warning('initial content: %s', problem)
            log.info('initial content loaded: %d items', len(report.added))
    return site


def root_factory(request):
    return appmaker(get_connection(request).root(), request.registry)


def ensure_site(registry):
    """Create the site in its own transaction at start-up, so the first request finds it ready."""
    db = registry._zodb_databases['']
    tm = transaction.TransactionManager()
    for attempt in tm.attempts(3):
        with attempt:
            conn = db.open(transaction_manager=tm)
            try:
                appmaker(conn.root(), registry)
            finally:
                tm.get().addAfterCommitHook(lambda ok, conn=conn: conn.close())
    return db


def includeme(config):
    """The portal's parts, in the order they depend on each other."""
    settings = config.get_settings()
    settings.setdefault('tm.manager_hook', 'pyramid_tm.explicit_manager')
    config.registry.portal_settings = PortalSettings.from_settings(settings)
    config.include('pyramid_chameleon')
    config.include('pyramid_tm')
    config.include('pyramid_retry')
    config.include('pyramid_zodbconn')
    config.include('portal.i18n')
    config.include('portal.security')
    config.include('portal.resources')
    config.include('portal.catalog')
    config.include('kaiku_theme')
    config.include('portal.views')
    config.set_root_factory(root_factory)


def main(global_config, **settings):
    """The WSGI application: ``paste.app_factory`` entry point.

    ``pyramid.includes`` (plugins, the debug toolbar) are included after the portal's own parts, so a
    plugin can use the portal's configuration directives; Pyramid itself would include them first.
    """
    includes = aslist(settings.pop('pyramid.includes', ''))
    settings['portal.includes'] = includes
    with Configurator(settings=settings) as config:
        config.include(includeme)
        for name in includes:
            config.include(name)
        config.commit()
        ensure_site(config.registry)
    return config.make_wsgi_app()
