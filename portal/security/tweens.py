"""Tweens: security headers on every response; no database write on a GET or HEAD (plone.protect)."""

import logging

from portal.security.policy import SESSION_KEY

log = logging.getLogger(__name__)


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'self'; form-action 'self'"
)


def security_headers_tween_factory(handler, registry):
    """Add the security headers to every response; ``Cache-Control: no-store`` for logged-in users."""
    hsts = registry.settings.get('portal.hsts') or ''

    def security_headers_tween(request):
        response = handler(request)
        headers = response.headers
        headers.setdefault('Content-Security-Policy', CSP)
        headers.setdefault('X-Content-Type-Options', 'nosniff')
        headers.setdefault('Referrer-Policy', 'strict-origin-when-cross-origin')
        headers.setdefault('X-Frame-Options', 'SAMEORIGIN')
        if hsts:
            headers.setdefault('Strict-Transport-Security', hsts)
        session = request.__dict__.get('session')
        if session is not None and session.get(SESSION_KEY):
            response.cache_control.no_store = True
            response.cache_control.private = True
            response.cache_control.max_age = None
            response.cache_control.public = None
        return response

    return security_headers_tween


def zodb_connections(request):
    """The database connections this request opened (the content database's and those it joined)."""
    primary = request.__dict__.get('_primary_zodb_conn')
    if primary is None:
        return []
    return list(primary.connections.values())


def has_pending_writes(request):
    """True when a persistent object was changed or added during this request."""
    return any(conn._registered_objects or conn._added for conn in zodb_connections(request))


def no_write_on_get_tween_factory(handler, registry):
    """Abort the transaction of a GET or HEAD that changed the database, and log it as an error."""

    def no_write_on_get_tween(request):
        response = handler(request)
        if request.method in ('GET', 'HEAD') and has_pending_writes(request):
            log.error('a %s request tried to write to the database: %s', request.method, request.path_qs)
            request.tm.doom()
        return response

    return no_write_on_get_tween
