"""The audit log: who did what, when and from where, kept in a database of its own.

The log lives in the ``audit`` database (``zodbconn.uri.audit`` in the ini file), not in the content
database, so undoing or packing the content cannot erase it.  Both databases join the request's one
transaction: an action and its entry are committed together or not at all.

Entries are recorded by :func:`record` (logins, logouts, user changes) and by subscribers to the content
events (add, edit, delete, state change).  An entry holds the time, the acting login, the action, the
path of the item or user concerned, the client address and a small ``detail`` mapping (field names,
states, a login name tried).  Passwords, hashes, session ids and tokens are never recorded: callers pass
names of what changed, never values of secrets.

Entries are kept in an ``LOBTree`` keyed by microseconds since the epoch (times 1,000, plus a random
tail so two processes writing in the same microsecond do not collide), so reading the newest first and
filtering by time are cheap.  Every write of the site writes an entry, so entries written at the same
moment must merge: each is an :class:`Entry`, a mapping that compares by value, because a BTree bucket
resolves two transactions' inserts only when it can tell that the entries both left alone are equal
(plain dicts cannot be ordered, and made every two concurrent writes of the site conflict).
"""

import atexit
import datetime
import logging
import secrets
import threading

import transaction
from BTrees.Length import Length
from BTrees.LOBTree import LOBTree
from persistent import Persistent
from pyramid.events import ApplicationCreated
from pyramid.threadlocal import get_current_request
from pyramid.traversal import resource_path
from pyramid_zodbconn import get_connection
from ZODB.POSException import ConflictError

from portal.events import ObjectAdded, ObjectModified, ObjectRemoved, StateChanged
from portal.i18n import _
from portal.startup import in_own_transaction

log = logging.getLogger(__name__)

AUDIT_DB = 'audit'
LOG_KEY = 'audit_log'

#: The portal's own actions and their titles, declared in :func:`includeme`; a plugin declares its own with
#: ``config.add_audit_action(name, title)``.
ACTIONS = (
    ('login', _('Logged in')),
    ('login-failed', _('Failed login')),
    ('login-throttled', _('Login refused: too many failures')),
    ('logout', _('Logged out')),
    ('user-add', _('User added')),
    ('user-edit', _('User changed')),
    ('add', _('Added')),
    ('edit', _('Edited')),
    ('delete', _('Deleted')),
    ('state', _('State changed')),
    ('rename', _('Renamed')),
    ('move', _('Moved')),
    ('reorder', _('Reordered')),
    ('revert', _('Reverted')),
    ('feedback.sent', _('Accessibility feedback sent')),
    ('feedback.answered', _('Accessibility feedback answered')),
)
SECRET_WORDS = ('password', 'token', 'secret', 'hash', 'sid', 'session')


class Entry(dict):
    """One audit entry (see the module docstring): a dict that a bucket's conflict resolution can
    compare.  Entries are never sorted by value; the order only has to be consistent."""

    __slots__ = ()

    def __lt__(self, other):
        if not isinstance(other, dict):
            return NotImplemented
        return sorted(map(repr, self.items())) < sorted(map(repr, other.items()))


def new_entry(time, actor, action, path, address, detail):
    """An :class:`Entry` made from plain values only, so it can be made again for each attempt."""
    return Entry(
        time=time,
        actor=actor or '',
        action=action,
        path=path or '',
        address=address or '',
        detail=dict(detail or {}),
    )


class AuditLog(Persistent):
    """Audit entries, oldest to newest."""

    def __init__(self):
        self.entries = LOBTree()
        self.count = Length()

    def add(self, entry):
        entry = new_entry(**entry)
        key = int(entry['time'].timestamp() * 1_000_000) * 1000 + secrets.randbelow(1000)
        while key in self.entries:
            key += 1
        self.entries[key] = entry
        self.count.change(1)
        return key

    def __len__(self):
        return self.count()

    def newest(self, since=None, until=None):
        """Entries from the newest back, optionally within ``since``..``until`` (datetimes)."""
        low = int(since.timestamp() * 1_000_000) * 1000 if since else None
        high = int(until.timestamp() * 1_000_000) * 1000 + 999 if until else None
        if not self.entries:
            return
        key = self.entries.maxKey(high) if high is not None else self.entries.maxKey()
        while True:
            if low is not None and key < low:
                return
            yield self.entries[key]
            try:
                key = self.entries.maxKey(key - 1)
            except ValueError:
                return

    def query(self, action=None, actor=None, path=None, since=None, until=None, offset=0, limit=50):
        """(entries, more): matching entries newest first, and whether more follow the page."""
        found = []
        skipped = 0
        for entry in self.newest(since, until):
            if action and entry['action'] != action:
                continue
            if actor and entry['actor'] != actor:
                continue
            if path and not (entry['path'] or '').startswith(path):
                continue
            if skipped < offset:
                skipped += 1
                continue
            if len(found) == limit:
                return found, True
            found.append(entry)
        return found, False


def ensure_audit_log(event):
    """Create the audit log when the application starts, in a transaction of its own: made by the first
    write instead, two first writes at once both added it to the database root and one failed."""
    db = getattr(event.app.registry, '_zodb_databases', {}).get(AUDIT_DB)
    if db is None:
        return

    def make_log(root):
        if LOG_KEY not in root:
            root[LOG_KEY] = AuditLog()

    in_own_transaction(db, make_log)


def has_audit_db(request):
    return AUDIT_DB in getattr(request.registry, '_zodb_databases', {})


def audit_log(request, create=True):
    """The audit log of this site (created when first written), or None when there is none yet."""
    root = get_connection(request, AUDIT_DB).root()
    entries = root.get(LOG_KEY)
    if entries is None and create:
        entries = root[LOG_KEY] = AuditLog()
    return entries


def _clean(detail):
    """Drop anything in ``detail`` whose key names a secret; keep values short and plain."""
    cleaned = {}
    for key, value in (detail or {}).items():
        if any(word in key.lower() for word in SECRET_WORDS):
            continue
        if isinstance(value, (list, tuple, set, frozenset)):
            value = tuple(str(v)[:200] for v in value)
        else:
            value = str(value)[:500]
        cleaned[key] = value
    return cleaned


def record(request, action, path=None, actor=None, detail=None):
    """Add an entry for ``action`` done by ``actor`` (the requester by default)."""
    if not has_audit_db(request):
        log.warning('no audit database configured (zodbconn.uri.%s); %s not recorded', AUDIT_DB, action)
        return None
    if actor is None:
        actor = request.authenticated_userid
    entry = {
        'time': datetime.datetime.now(datetime.UTC),
        'actor': actor or '',
        'action': action,
        'path': path if path is not None else '',
        'address': request.client_addr or '',
        'detail': _clean(detail),
    }
    return audit_log(request).add(entry)


class DeferredAudit:
    """Entries for reads too frequent to give each a transaction (a ticketing system checking cards),
    written to the audit database in batches by a background thread.

    :meth:`record` only queues the entry; the thread writes what has queued at most ``interval`` seconds
    later, in one transaction (retried on a conflict), and the process writes what is left when it
    exits.  The queue holds plain values only, and each attempt makes the stored entries anew from them
    (:meth:`AuditLog.add`), so nothing of an attempt that failed (a conflict, a storage server that went
    away) is kept and added again by a later one.  A crash of the process can lose at most the last
    ``interval`` seconds of such entries, which is the price of not writing on every read; actions that
    change data are never recorded this way.
    """

    def __init__(self, db, interval=0.5):
        self.db = db
        self.interval = interval
        self.pending = []
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.thread = None

    def record(self, action, actor, address='', detail=None):
        entry = {
            'time': datetime.datetime.now(datetime.UTC),
            'actor': actor or '',
            'action': action,
            'path': '',
            'address': address or '',
            'detail': _clean(detail),
        }
        with self.lock:
            self.pending.append(entry)
            if self.thread is None:
                self.thread = threading.Thread(target=self._run, name='deferred-audit', daemon=True)
                self.thread.start()
                atexit.register(self.flush)

    def _run(self):
        failing = False
        while True:
            self.wake.wait(self.interval)
            self.wake.clear()
            if self.closed():
                self.flush()  # says what is lost
                return
            try:
                self.flush()
                failing = False
            except Exception:  # the thread must go on; the entries stay queued for the next round
                if not failing:
                    log.exception('deferred audit entries could not be written; trying again')
                failing = True

    def closed(self):
        return not hasattr(self.db, '_mvcc_storage')  # ZODB's DB.close() deletes it

    def flush(self):
        """Write the queued entries now; the number written."""
        with self.lock:
            entries, self.pending = self.pending, []
        if not entries:
            return 0
        if self.closed():
            log.warning('audit database closed; %d deferred entries not written', len(entries))
            return 0
        try:
            for attempt in range(5):
                conn = self.db.open(transaction_manager=transaction.TransactionManager())
                try:
                    with conn.transaction_manager as tm:
                        root = conn.root()
                        entries_log = root.get(LOG_KEY)
                        if entries_log is None:
                            entries_log = root[LOG_KEY] = AuditLog()
                        for entry in entries:
                            entries_log.add(entry)
                        tm.note(f'deferred audit: {len(entries)} entries')
                    return len(entries)
                except ConflictError:
                    if attempt == 4:
                        raise
                finally:
                    conn.close()
        except BaseException:
            with self.lock:
                self.pending[:0] = entries
            raise
        return 0  # pragma: no cover


def deferred_audit(registry):
    """The process's :class:`DeferredAudit` for the audit database, or None when there is none."""
    deferred = getattr(registry, 'deferred_audit', None)
    if deferred is None:
        db = getattr(registry, '_zodb_databases', {}).get(AUDIT_DB)
        if db is None:
            return None
        deferred = registry.deferred_audit = DeferredAudit(db)
    return deferred


def _request():
    request = get_current_request()
    if request is None or not has_audit_db(request):
        return None  # start-up loading and scripts without a request are not audited
    return request


def item_added(event):
    request = _request()
    if request is not None:
        record(request, 'add', resource_path(event.item), detail={'type': event.item.type_name})


def item_removed(event):
    request = _request()
    if request is not None:
        parent_path = resource_path(event.parent).rstrip('/')
        record(request, 'delete', f'{parent_path}/{event.name}', detail={'type': event.item.type_name})


def item_modified(event):
    request = _request()
    if request is not None:
        record(request, 'edit', resource_path(event.item), detail={'fields': event.fields})


def state_changed(event):
    request = _request()
    if request is not None:
        record(request, 'state', resource_path(event.item), detail={'from': event.old, 'to': event.new})


def parse_day(value, end=False):
    """A ``YYYY-MM-DD`` filter value as a UTC datetime (the day's end with ``end``), or None."""
    try:
        day = datetime.datetime.strptime(value, '%Y-%m-%d').replace(tzinfo=datetime.UTC)
    except (TypeError, ValueError):
        return None
    return day + datetime.timedelta(days=1, microseconds=-1) if end else day


def add_audit_action(config, name, title):
    """Configurator directive: declare the audit action ``name`` and its (translation string) title, shown
    in the audit view's filter and beside each entry.  Whoever records an action declares it; declaring one
    name twice is a ``ConfigurationConflictError``."""
    intr = config.introspectable('audit actions', name, name, 'audit action')
    intr['title'] = title

    def register():
        config.registry.audit_actions[name] = title

    config.action(('portal.audit_action', name), register, introspectables=(intr,))


def audit_actions(registry):
    """The declared actions, ``{name: title}`` in the order declared."""
    return getattr(registry, 'audit_actions', {})


def includeme(config):
    config.registry.audit_actions = {}
    config.add_directive('add_audit_action', add_audit_action)
    for name, title in ACTIONS:
        config.add_audit_action(name, title)
    config.add_subscriber(ensure_audit_log, ApplicationCreated)
    config.add_subscriber(item_added, ObjectAdded)
    config.add_subscriber(item_removed, ObjectRemoved)
    config.add_subscriber(item_modified, ObjectModified)
    config.add_subscriber(state_changed, StateChanged)
