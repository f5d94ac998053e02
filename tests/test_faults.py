"""Faults under load: two app processes on a ZEO server (and on RelStorage when ``KAIKU_TEST_PG_DSN``
names a PostgreSQL server), writers recording visits through the registry's API and editors saving edits,
for a bounded time, while an app process is killed with SIGKILL and started again, and (on ZEO) the
storage server is killed with SIGKILL and started again on its port.

Each writer verifies the card before recording its visit, as the door does, so the verification's fast
lane (its kept read connections) is used across the kills too.  Afterwards every acknowledged visit and
edit is in the database, the registry's check (:mod:`kaiku_registry.check`) finds every derived structure
equal to a recount of the records, ``fstest`` finds the ZEO server's file sound, and no answer was a 5xx
outside the seconds the storage was down (a request cut off by a kill is no answer at all: the client sees
the connection drop).

Select these with ``-m faults``; they serve only on 127.0.0.1 and every loop is bounded in time.
"""

import contextlib
import http.client
import json
import os
import subprocess
import sys
import threading
import time

import pytest
import servers

pytestmark = pytest.mark.faults

DURATION = 16  # seconds of load
APP_KILL_AT = 4
ZEO_KILL_AT = 9
ZEO_DOWN = 1.5  # seconds between the kill and the restart
RECONNECT_GRACE = 8  # seconds after the restart in which the apps may still fail to reach the server
#: Visits recorded before the load: a registry in use, not one whose few buckets split at every turn.
PREFILLED = 3000
RELSTORAGE_RETRY_ATTEMPTS = 10
WRITERS = 6
EDITORS = 2


class Load:
    """The clients, what was acknowledged, and every answer's status with its time."""

    def __init__(self, ports, token, codes):
        self.ports = ports
        self.token = token
        self.codes = codes
        self.visits = []  # (visit id, card code)
        self.edits = []
        self.answers = []  # (monotonic time, status, start of a 5xx answer's body)
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.started = None

    def _client(self, client, i):
        port = self.ports[i % len(self.ports)]
        if client is None or client.port != port:
            if client is not None:
                client.close()
            client = servers.Client(port, timeout=20)
        return client

    def _answer(self, status, body):
        with self.lock:
            self.answers.append((time.monotonic(), status, body[:100] if status >= 500 else b''))

    def writer(self, i):
        client = None
        number = 0
        while not self.stop.is_set():
            client = self._client(client, i)
            code = self.codes[(i * 7919 + number) % len(self.codes)]
            number += 1
            try:
                # the door's two steps: verify (the fast lane's kept connections), then record
                status, body = servers.post_api(client, self.token, '/verify', {'code': code})
                self._answer(status, body)
                assert status >= 500 or json.loads(body)['status'] == 'valid', (status, body)
                status, body = servers.record_visit(client, self.token, code)
            except (OSError, http.client.HTTPException):
                time.sleep(0.1)  # the process or its connection went away: no answer
                continue
            self._answer(status, body)
            if status == 201:
                with self.lock:
                    self.visits.append((int(json.loads(body)['visit_id']), code))
        if client is not None:
            client.close()

    def editor(self, i):
        client = None
        number = 0
        while not self.stop.is_set():
            client = self._client(client, i)
            edit_id = f'editor{i}-{number}'
            number += 1
            try:
                status, body = client.request('POST', '/__test__/edit', {'id': edit_id, 'value': 'x' * 100})
            except (OSError, http.client.HTTPException):
                client.close()
                time.sleep(0.1)
                continue
            self._answer(status, body)
            if status == 200:
                with self.lock:
                    self.edits.append(edit_id)
        if client is not None:
            client.close()


def _restart_app(load, processes, index, uri, directory, retry):
    servers.kill(processes[index])
    processes[index] = servers.start_test_app(uri, os.path.join(directory, f'app{index}b.log'), retry=retry)
    load.ports[index] = processes[index].port


def _run(uri, directory, token, codes, kill_storage=None, retry=5):
    """Serve two app processes on ``uri``, load them, kill one app (and the storage, with
    ``kill_storage``: a callable that kills and restarts it); return the load and the storage's down
    windows."""
    processes = [
        servers.start_test_app(uri, os.path.join(directory, f'app{i}.log'), retry=retry) for i in range(2)
    ]
    load = Load([process.port for process in processes], token, codes)
    threads = [threading.Thread(target=load.writer, args=(i,)) for i in range(WRITERS)]
    threads += [threading.Thread(target=load.editor, args=(i,)) for i in range(EDITORS)]
    down = []
    started = load.started = time.monotonic()
    try:
        for thread in threads:
            thread.start()
        time.sleep(APP_KILL_AT)
        _restart_app(load, processes, 0, uri, directory, retry)
        if kill_storage is not None:
            time.sleep(max(0, started + ZEO_KILL_AT - time.monotonic()))
            killed = time.monotonic()
            kill_storage()
            down.append((killed, time.monotonic() + RECONNECT_GRACE))
        time.sleep(max(0, started + DURATION - time.monotonic()))
    finally:
        load.stop.set()
        for thread in threads:
            thread.join(60)
        for process in processes:
            servers.stop(process)
    return load, down


def _verify(db, load, down):
    """Every acknowledged write is there, the check finds nothing, no 5xx outside ``down``."""
    import transaction

    from kaiku_registry.check import check

    assert len(load.visits) > 50 and len(load.edits) > 20, (len(load.visits), len(load.edits))
    conn = db.open(transaction_manager=transaction.TransactionManager())
    try:
        root = conn.root()
        registry = root['site']['registry']
        missing = [visit_id for visit_id, _code in load.visits if visit_id not in registry.visits]
        assert not missing, f'{len(missing)} acknowledged visits lost'
        for visit_id, code in load.visits:
            assert registry.visits[visit_id].card_id == registry.card_by_code(code).id
        differences = check(registry)
        assert not differences, '\n'.join(map(str, differences[:20]))
        log = root['test_edited']['log']
        lost = [edit_id for edit_id in load.edits if edit_id not in log]
        assert not lost, f'{len(lost)} acknowledged edits lost'
    finally:
        conn.close()
    failed = [
        (at, status, body)
        for at, status, body in load.answers
        if status >= 500 and not any(start <= at <= end for start, end in down)
    ]
    when = [(round(at - load.started, 1), status, body) for at, status, body in failed[:10]]
    windows = [(round(start - load.started, 1), round(end - load.started, 1)) for start, end in down]
    assert not failed, f'{len(failed)} answers were 5xx while the storage was up {windows}: {when}'


def _fstest(path):
    return subprocess.run(
        [sys.executable, '-m', 'ZODB.scripts.fstest', '-v', str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


class ZEOServer:
    """A ZEO server that can be killed and started again on the same port and file."""

    def __init__(self, directory):
        self.directory = directory
        self.process, self.port = servers.start_zeo(directory)

    def kill_and_restart(self):
        servers.kill(self.process)
        time.sleep(ZEO_DOWN)
        conf = os.path.join(self.directory, 'zeo.conf')
        self.process = servers._start(
            [os.path.join(servers.BIN, 'runzeo'), '-C', conf], os.path.join(self.directory, 'zeo.log')
        )
        servers.wait_for_port(self.port, self.process)

    def stop(self):
        servers.stop(self.process)


def test_zeo_restart_under_load_loses_nothing_and_leaves_nothing_to_repair(tmp_path):
    import ZEO

    zeo = ZEOServer(str(tmp_path / 'zeo'))
    try:
        uri = servers.zeo_uri(zeo.port, tmp_path / 'blobcache')
        token, codes = servers.prepare_registry(uri, tmp_path, cards=60, visits=PREFILLED)
        load, down = _run(uri, str(tmp_path), token, codes, kill_storage=zeo.kill_and_restart)
        db = ZEO.DB(('127.0.0.1', zeo.port))
        try:
            _verify(db, load, down)
        finally:
            db.close()
    finally:
        zeo.stop()
    result = _fstest(tmp_path / 'zeo' / 'Data.fs')
    assert result.returncode == 0, result.stdout + result.stderr


def test_relstorage_under_load_with_an_app_killed(tmp_path):
    dsn = os.environ.get('KAIKU_TEST_PG_DSN')
    if not dsn:
        pytest.skip('RelStorage fault test skipped: no PostgreSQL server (KAIKU_TEST_PG_DSN is not set)')
    import ZODB.config

    with servers.postgres_database(dsn) as database:
        uri = servers.relstorage_uri(database, str(tmp_path))
        token, codes = servers.prepare_registry(uri, tmp_path, cards=60, visits=PREFILLED)
        # RelStorage locks the rows of the inner BTree nodes a commit read (readCurrent) and fails at once
        # when another commit holds one: the README's advice for RelStorage is 10-20 attempts.
        load, down = _run(uri, str(tmp_path), token, codes, retry=RELSTORAGE_RETRY_ATTEMPTS)
        db = ZODB.config.databaseFromURL(uri[len('zconfig://') :])
        try:
            _verify(db, load, down)
        finally:
            db.close()


def test_zeo_restart_does_not_hand_out_an_object_id_twice(tmp_path):
    """Ids a client fetched in advance from a server that was killed are not used after it restarts:
    the restarted server gives them to other clients."""
    import ZEO

    from portal import forget_oids_on_reconnect

    zeo = ZEOServer(str(tmp_path / 'zeo'))
    first = ZEO.DB(('127.0.0.1', zeo.port))
    other = None
    try:
        forget_oids_on_reconnect(first)
        first.storage.new_oid()  # the client now holds the next 99 ids of the server's batch
        zeo.kill_and_restart()
        deadline = time.monotonic() + 30
        while not first.storage.is_connected() and time.monotonic() < deadline:
            time.sleep(0.05)
        other = ZEO.DB(('127.0.0.1', zeo.port))
        given_to_other = {other.storage.new_oid() for _ in range(5)}
        mine = {first.storage.new_oid() for _ in range(5)}
        assert not mine & given_to_other
    finally:
        for db in (first, other):
            if db is not None:
                with contextlib.suppress(Exception):
                    db.close()
        zeo.stop()
