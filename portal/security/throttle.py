"""Throttles: failures (or sends) counted per key within a sliding window, shared by every process.

A :class:`Throttle` keeps, for each key, the times of its most recent failures, and refuses a try while a
key has reached its limit within the window.  One implementation serves every configuration: the counts
live in ZODB, in the ``throttle`` database when ``zodbconn.uri.throttle`` names one and otherwise in the
main database under ``root['throttle']``, so with several processes on one ZEO or RelStorage database
they share the counts and N processes do not give N times the tries.  Each write is a transaction of
its own on a connection of the throttle's own, so a failure counts even when the request's transaction
is aborted or doomed; reads begin and abort a transaction, which brings in what other processes wrote.
Keys live in an ``OOBTree`` whose buckets resolve concurrent changes to different keys; two processes
changing the same key conflict and the write is tried again.  Only failures write: a try that is let
through reads, and a success writes only when there was a failure to forget.

Entries are never evicted while their key is locked, nor while any failure of theirs is within the
window: forgetting a live entry is what let junk failures lift a lock before.  Expired entries are swept
a few at a time by each write.  The table therefore holds only keys that failed within the window, which
the cost of each failure bounds (a failed login spends an argon2 verification, an unknown code needs a
valid API token or a logged-in user); the database, not the process, holds it, and a process keeps in
memory only the buckets its connection cache holds.  Every failure is a small transaction: a database
of its own (``zodbconn.uri.throttle``, on the same ZEO server or RelStorage database as the rest, so
shared in the same way) keeps them out of the content database's history and can be packed often.

Logins are throttled per (login name, client address) pair at ``portal.login_max_failures`` failures
within ``portal.login_window`` seconds, so a person mistyping their password, or an attacker on one
address, locks only that address's tries at that login, never the login for everybody, nor every login
behind a shared address (a school's or an office's).  Ceilings ten times as high per login name and per
address bound a distributed guess at one login and one address spraying many logins.  An IPv6 client is
counted by its /64 network, which one host usually holds whole.
"""

import contextlib
import ipaddress
import threading
import time

import transaction
from BTrees.OOBTree import OOBTree
from persistent import Persistent

from portal.security.principals import normalize_login

THROTTLE_KEY = 'throttle'  # the root key, in the throttle database or the main one
THROTTLE_DB = 'throttle'
CEILING_FACTOR = 10  # the per-login and per-address ceilings, as multiples of the per-pair limit
WRITE_ATTEMPTS = 5
SWEEP = 20  # expired entries looked at by each write


def client_network(request):
    """The client's address, or its /64 network for IPv6, as the text a key holds."""
    address = getattr(request, 'client_addr', None) or ''
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:100]
    if parsed.version == 6:
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f'{parsed}/64', strict=False))
    return str(parsed)


def login_key(login):
    return f'login:{normalize_login(login)}'


def address_key(request):
    return f'addr:{client_network(request)}'


def login_address_key(login, request):
    return f'login:{normalize_login(login)}|addr:{client_network(request)}'


def login_limits(request, login, max_failures):
    """The keys a login try from ``request`` counts against, each with its limit."""
    ceiling = max_failures * CEILING_FACTOR
    return (
        (login_address_key(login, request), max_failures),
        (login_key(login), ceiling),
        (address_key(request), ceiling),
    )


class ThrottleBox(Persistent):
    """The throttles' counts, one ``OOBTree`` a throttle: key → tuple of failure times, oldest first."""

    def __init__(self):
        self.tables = OOBTree()

    def table(self, name):
        table = self.tables.get(name)
        if table is None:
            table = self.tables[name] = OOBTree()
        return table


def ensure_throttle_box(event):
    """Create the throttles' box at start-up (on ``ApplicationCreated``), so that the first failure does
    not change the database root under a request that changes it too (creating the feedback box)."""
    databases = getattr(event.app.registry, '_zodb_databases', {})
    db = databases.get(THROTTLE_DB) or databases.get('')
    if db is None:
        return
    tm = transaction.TransactionManager()
    conn = db.open(transaction_manager=tm)
    try:
        for attempt in tm.attempts(WRITE_ATTEMPTS):
            with attempt:
                if THROTTLE_KEY not in conn.root():
                    conn.root()[THROTTLE_KEY] = ThrottleBox()
    finally:
        conn.close()


class Throttle:
    """Failures per key within ``window`` seconds, kept in ZODB and shared by every process.

    ``retry_after`` and ``failed`` take ``(key, limit)`` pairs, so one throttle holds keys of different
    limits (a login at one address, the login as a whole).  The database is looked up in the registry on
    first use, since the throttle is made while the Configurator is still being set up.
    """

    def __init__(self, registry, name, window, clock=time.time, keep_connections=4):
        self.registry = registry
        self.name = name
        self.window = window
        self.clock = clock
        self.keep = keep_connections
        self._idle = []
        self._lock = threading.Lock()
        self._sweep_from = None  # where this process's next sweep of expired entries starts

    # connections ---------------------------------------------------------------------------------------
    def _database(self):
        databases = getattr(self.registry, '_zodb_databases', {})
        return databases.get(THROTTLE_DB) or databases['']

    @contextlib.contextmanager
    def _connection(self):
        """A connection with a transaction manager of its own, kept open for the next use when the
        block ends without an error, so that a read does not pay for opening a pooled connection."""
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = self._database().open(transaction_manager=transaction.TransactionManager())
        reusable = False
        try:
            yield conn
            reusable = True
        finally:
            if reusable:
                conn.cacheGC()
                with self._lock:
                    if len(self._idle) < self.keep:
                        self._idle.append(conn)
                        conn = None
            if conn is not None:
                conn.transaction_manager.abort()
                conn.close()

    def _table_in(self, conn):
        box = conn.root().get(THROTTLE_KEY)
        table = box.tables.get(self.name) if box is not None else None
        return table if table is not None else {}

    def _read(self, func, conn=None):
        if conn is not None and conn.db() is self._database():
            return func(self._table_in(conn))  # the caller's connection, in a transaction just begun
        with self._connection() as own:
            tm = own.transaction_manager
            tm.begin()
            try:
                return func(self._table_in(own))
            finally:
                tm.abort()

    def _write(self, func):
        with self._connection() as conn:
            tm = conn.transaction_manager
            for attempt in tm.attempts(WRITE_ATTEMPTS):
                with attempt:
                    root = conn.root()
                    box = root.get(THROTTLE_KEY)
                    if box is None:
                        box = root[THROTTLE_KEY] = ThrottleBox()
                    func(box.table(self.name))

    # counting ------------------------------------------------------------------------------------------
    def _recent(self, times, now):
        return [t for t in times if now - t < self.window]

    def retry_after(self, limits, conn=None):
        """Seconds until a try is allowed again for every key, 0 when it is allowed now.

        ``conn``, a connection whose transaction has just begun, is read instead of one of the
        throttle's own when it is of the throttle's database (the fast verification passes its own)."""
        now = self.clock()

        def wait_in(table):
            wait = 0
            for key, limit in limits:
                times = self._recent(table.get(key, ()), now)
                if len(times) >= limit:
                    wait = max(wait, int(self.window - (now - times[-limit])) + 1)
            return wait

        return self._read(wait_in, conn)

    def failed(self, limits):
        """Count one failure (or one send) against each key."""
        now = self.clock()

        def count(table):
            for key, limit in limits:
                times = self._recent(table.get(key, ()), now)
                table[key] = (*times[-(limit - 1) :], now) if limit > 1 else (now,)
            self._sweep(table, now)

        self._write(count)  # still conflicting after every attempt: the request's retry runs it again

    def forget(self, keys):
        """Forget the failures of ``keys`` (after a success); writes only when there is something to
        forget."""
        if not self._read(lambda table: any(key in table for key in keys)):
            return

        def remove(table):
            for key in keys:
                table.pop(key, None)

        self._write(remove)

    def clear(self):
        """Forget every key of this throttle (for tests and scripts)."""
        self._write(lambda table: table.clear())

    def _sweep(self, table, now):
        """Remove a few entries whose every failure has left the window, going round the table."""
        start = self._sweep_from
        keys = table.keys(min=start, excludemin=True) if start is not None else table.keys()
        seen = 0
        last = None
        expired = []
        for key in keys:
            if seen >= SWEEP:
                break
            seen += 1
            last = key
            times = table.get(key, ())
            if not times or now - times[-1] >= self.window:
                expired.append(key)
        for key in expired:
            del table[key]
        self._sweep_from = last if seen >= SWEEP else None

    def size(self):
        """The number of keys held (expired ones not yet swept included)."""
        return self._read(len)
