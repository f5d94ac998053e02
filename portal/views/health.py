"""``/healthz``: the load balancer's question "does this process and its database answer?".

It answers 200 ``ok`` when the database's root object can be read from the storage (through ZEO or
RelStorage when those are used, not from this process's object cache), and 503 otherwise.  It reads and
never writes, needs no login, is never cached, and does not build the site or touch the content tree, so
it stays cheap enough to poll every few seconds.
"""

import logging

from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config
from ZODB.utils import z64

log = logging.getLogger(__name__)


def database_answers(db):
    """True when the storage under ``db`` can load the root object now."""
    storage = db.storage
    is_connected = getattr(storage, 'is_connected', None)
    if is_connected is not None and not is_connected():
        return False
    storage.load(z64, '')
    return True


class HealthCheck:
    """The route's context: no ACL of the content tree applies to it."""

    def __init__(self, request):
        self.request = request


@view_config(route_name='healthz', permission=NO_PERMISSION_REQUIRED, require_csrf=False)
def healthz(context, request):
    if request.method not in ('GET', 'HEAD'):
        # Answered here in plain text: the themed error pages expect a content item as the context.
        response = Response('GET or HEAD only\n', status=405, content_type='text/plain', charset='utf-8')
        response.allow = ('GET', 'HEAD')
        return response
    try:
        ok = all(database_answers(db) for db in request.registry._zodb_databases.values())
    except Exception:
        log.warning('health check: the database does not answer', exc_info=True)
        ok = False
    response = Response(
        'ok\n' if ok else 'database unavailable\n', content_type='text/plain', charset='utf-8'
    )
    response.status_int = 200 if ok else 503
    response.cache_control.no_store = True
    return response


def includeme(config):
    config.add_route('healthz', '/healthz', factory=HealthCheck)
