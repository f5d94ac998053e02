"""Several app processes on one database: ZEO always, RelStorage on PostgreSQL when one is reachable.

Each test starts real servers on free loopback ports: a storage (a ZEO server, or a fresh PostgreSQL
database for RelStorage) and two app processes of ``tests/serve_app.py`` served by waitress.  Then:

* a write through one process is seen by the other at once, 100 times in a row;
* 8 client threads make 1,600 edits of one object in all, half through each process.  Overlapping edits
  that the object's conflict-resolving structures cannot merge conflict, and pyramid_retry runs them
  again, so no answer is a 5xx and no edit is lost: the object's Length counter and its log of edit ids
  hold exactly the 1,600 answered edits.  Eight writers with no pause between edits into one BTree is the
  worst case there is: on RelStorage, whose row locks make inner BTree nodes conflict, a few requests in
  a thousand needed more than ten attempts on a busy machine, so the test app allows 20
  (``retry.attempts``; production.ini has 5, see the README's "Operations").
"""

import concurrent.futures
import os
import threading

import pytest
import servers

THREADS = 8
VISIBILITY_ROUNDS = 100
#: 200 each: about 570 conflicts retried on ZEO and 1,340 on RelStorage, so the retries are exercised many
#: times over (4,000 edits in all took 63 s of the suite on RelStorage; tests/test_faults.py and
#: bench/writes.py load the storages longer).
EDITS_PER_THREAD = 200
PG_DSN_VARIABLE = 'KAIKU_TEST_PG_DSN'


def _two_apps(uri_for, tmp_path):
    """Start the first process (it creates the site), then the second; return both."""
    first = servers.start_test_app(uri_for(0), tmp_path / 'app0.log', load=True)
    try:
        second = servers.start_test_app(uri_for(1), tmp_path / 'app1.log')
    except Exception:
        servers.stop(first)
        raise
    return first, second


def _check_write_is_seen_by_the_other(first, second):
    """A save through one process, then a page from the other: the other shows it, every time (a user
    behind a load balancer must see their own change)."""
    a, b = servers.Client(first.port), servers.Client(second.port)
    try:
        for i in range(VISIBILITY_ROUNDS):
            writer, reader = (a, b) if i % 2 else (b, a)
            assert writer.request('POST', '/__test__/edit', {'id': f'seen-{i}'})[0] == 200
            assert reader.request('GET', f'/__test__/edit?id=seen-{i}')[0] == 200, f'round {i}'
        # The content is shared too: both processes serve the site the first one loaded.
        assert a.request('GET', '/')[0] == b.request('GET', '/')[0] == 200
        assert a.request('GET', '/healthz') == b.request('GET', '/healthz') == (200, b'ok\n')
    finally:
        a.close()
        b.close()


def _check_concurrent_edits(first, second):
    statuses = {}
    lock = threading.Lock()
    done_ids = set()

    def worker(number):
        client = servers.Client((first, second)[number % 2].port)
        mine = {}
        ids = set()
        try:
            for i in range(EDITS_PER_THREAD):
                edit_id = f't{number}-{i}'
                status, _ = client.request('POST', '/__test__/edit', {'id': edit_id})
                mine[status] = mine.get(status, 0) + 1
                if status == 200:
                    ids.add(edit_id)
        finally:
            client.close()
        with lock:
            for status, count in mine.items():
                statuses[status] = statuses.get(status, 0) + count
            done_ids.update(ids)

    with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(worker, range(THREADS)))

    total = THREADS * EDITS_PER_THREAD
    errors = sum(count for status, count in statuses.items() if status >= 500)
    assert errors == 0, statuses
    assert statuses == {200: total}, statuses
    for process in (first, second):
        client = servers.Client(process.port)
        seen = client.json('/__test__/edits')
        client.close()
        recorded = {i for i in seen['ids'] if not i.startswith('seen-')}
        assert recorded == done_ids, 'every answered edit is recorded, no other'
        lost = total + VISIBILITY_ROUNDS - seen['count']
        assert lost == 0, f'{lost} lost updates'
    retries = [servers.Client(p.port).json('/__test__/edits')['retries'] for p in (first, second)]
    print(f'{total} concurrent edits, 0 lost, 0 errors; conflicts retried: {retries}')
    return retries


def _run_two_process_checks(uri_for, tmp_path):
    first, second = _two_apps(uri_for, tmp_path)
    try:
        _check_write_is_seen_by_the_other(first, second)
        _check_concurrent_edits(first, second)
    finally:
        servers.stop(first)
        servers.stop(second)


def test_two_processes_on_zeo(tmp_path):
    zeo, port = servers.start_zeo(str(tmp_path / 'zeo'))
    try:
        _run_two_process_checks(lambda n: servers.zeo_uri(port, tmp_path / f'blobcache{n}'), tmp_path)
    finally:
        servers.stop(zeo)


@pytest.fixture
def postgres_uri(tmp_path):
    """A zodburi for RelStorage on a fresh PostgreSQL database, dropped afterwards."""
    dsn = os.environ.get(PG_DSN_VARIABLE)
    if not dsn:
        pytest.skip(f'RelStorage tests skipped: no PostgreSQL server ({PG_DSN_VARIABLE} is not set)')
    pytest.importorskip('relstorage')
    with servers.postgres_database(dsn) as database_dsn:
        yield lambda n: servers.relstorage_uri(database_dsn, tmp_path / f'rs{n}')


def test_two_processes_on_relstorage(postgres_uri, tmp_path):
    _run_two_process_checks(postgres_uri, tmp_path)
