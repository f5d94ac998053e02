"""A test-only application server: the portal plus a write path that the production app does not have.

The scale-out and crash tests need many small committed writes through real app processes before the
editing forms exist, so this module wraps :func:`portal.main` and adds, to this application only:

``POST /__test__/edit`` with ``id=...``
    one edit of the shared edited object: the edit goes into its log (an OOBTree, keyed by the edit's
    id) and its counter (a :class:`BTrees.Length.Length`).  Both resolve the usual conflicts of
    concurrent edits themselves; the rest (a bucket split under a concurrent insert) reach
    pyramid_retry, which runs the request again.  Answers ``{"id": ..., "count": ...}``.
``GET /__test__/edit?id=...``
    200 when that edit is in the database, 404 when it is not.
``GET /__test__/edits``
    the counter, every recorded id, how many times this process retried a request after a
    conflict, and how many objects its database connections loaded from and stored to the storage.

Run as ``python tests/serve_app.py --uri ZODB_URI --port PORT``; it serves with waitress until killed.
"""

import argparse
import os
import sys
import threading

import transaction
from BTrees.Length import Length
from BTrees.OOBTree import OOBTree
from persistent.mapping import PersistentMapping
from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPBadRequest, HTTPNotFound
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid_retry import IBeforeRetry
from pyramid_zodbconn import get_connection

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from portal.testing import app_settings  # noqa: E402

TARGET = 'test_edited'
RETRIES = {'count': 0}


def _edited(request):
    return get_connection(request).root()[TARGET]


def edit(request):
    edit_id = request.POST.get('id')
    if not edit_id:
        raise HTTPBadRequest()
    edited = _edited(request)
    edited['log'][edit_id] = request.POST.get('value', '')
    edited['count'].change(1)
    return {'id': edit_id, 'count': edited['count']()}


def show_edit(request):
    log = _edited(request)['log']
    edit_id = request.GET.get('id')
    if edit_id not in log:
        raise HTTPNotFound()
    return {'id': edit_id, 'value': log[edit_id]}


def edits(request):
    edited = _edited(request)
    return {
        'count': edited['count'](),
        'ids': list(edited['log'].keys()),
        'retries': RETRIES['count'],
        **TRANSFERS.totals(),
    }


class Transfers:
    """Counts the objects every database connection loaded and stored, as ZODB reports them when a
    connection closes (the activity monitor's hook): the write benchmark's objects per visit."""

    def __init__(self):
        self.loads = self.stores = 0
        self.lock = threading.Lock()

    def closedConnection(self, conn):
        loads, stores = conn.getTransferCounts(True)
        with self.lock:
            self.loads += loads
            self.stores += stores

    def totals(self):
        with self.lock:
            return {'loads': self.loads, 'stores': self.stores}


TRANSFERS = Transfers()


def count_retry(event):
    RETRIES['count'] += 1


def prepare(db):
    """Create the records the edit path writes to, once, before any request."""
    tm = transaction.TransactionManager()
    for attempt in tm.attempts(5):
        conn = db.open(transaction_manager=tm)
        try:
            with attempt:
                root = conn.root()
                if TARGET not in root:
                    root[TARGET] = PersistentMapping(log=OOBTree(), count=Length())
        finally:
            conn.close()


def main(global_config, **settings):
    from portal import main as portal_main

    app = portal_main(global_config, **settings)
    prepare(app.registry._zodb_databases[''])
    app.registry._zodb_databases[''].setActivityMonitor(TRANSFERS)
    config = Configurator(registry=app.registry)
    plain = {'permission': NO_PERMISSION_REQUIRED, 'require_csrf': False, 'renderer': 'json'}
    config.add_route('test_edit', '/__test__/edit')
    config.add_route('test_edits', '/__test__/edits')
    config.add_view(edit, route_name='test_edit', request_method='POST', **plain)
    config.add_view(show_edit, route_name='test_edit', request_method='GET', **plain)
    config.add_view(edits, route_name='test_edits', request_method='GET', **plain)
    config.add_subscriber(count_retry, IBeforeRetry)
    config.commit()
    return app


def serve(argv=None):
    import waitress

    parser = argparse.ArgumentParser()
    parser.add_argument('--uri', required=True, help='zodbconn.uri')
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--threads', type=int, default=4)
    parser.add_argument('--retry', default='5', help='retry.attempts')
    parser.add_argument('--load', action='store_true', help='load the initial content into an empty database')
    args = parser.parse_args(argv)
    settings = app_settings('/nonexistent', **{'zodbconn.uri': args.uri, 'retry.attempts': args.retry})
    settings['portal.load_on_start'] = 'true' if args.load else 'false'
    # The audit log is not what these servers test: each keeps its own in memory.
    settings['zodbconn.uri.audit'] = 'memory://'
    app = main({}, **settings)
    waitress.serve(app, host='127.0.0.1', port=args.port, threads=args.threads, _quiet=True)


if __name__ == '__main__':
    serve()
