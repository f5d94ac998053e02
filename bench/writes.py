"""Write benchmark: visits recorded through the registry's API by concurrent writers, on each storage.

    .venv/bin/python bench/writes.py [--seconds 4] [--writers 1,8,16] [--storages file,zeo,relstorage]

For each storage it prepares a registry (one venue, ``--cards`` valid cards, ``--visits`` visits made
beforehand: a registry in use has big trees, and a young one splits its few buckets often) and starts
the test app (``tests/serve_app.py``: the portal with the registry, waitress with ``--threads`` threads,
``retry.attempts`` as the README advises for the storage, or ``--retry``): one process on the embedded
FileStorage, ``--processes`` (two) on a ZEO server and as many on RelStorage (PostgreSQL from ``--pg-dsn`` or
``KAIKU_TEST_PG_DSN``; left out when none answers).  Run it with ``--processes 1`` too to see what a
second process adds.  Then, for each number of writers, that many client threads (spread over the processes)
each record visits of random cards, one after another, for ``--seconds``, and it prints one table:

* visits/s: acknowledged visits (201) a second;
* p50 and p99: the latency of the answers, in milliseconds;
* conflicts/1000: conflicts per 1,000 acknowledged visits: the requests the app processes ran again
  after a conflict (counted by the test app's retry subscriber), plus the answers that were not 201;
* 5xx: answers with a 5xx status.

Figures, not assertions: ``tests/test_faults.py`` checks behaviour.
"""

import argparse
import contextlib
import os
import random
import statistics
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'tests'))

import servers  # noqa: E402 - tests/servers.py

#: ``retry.attempts`` by storage: production.ini's 5, and 10 on RelStorage, as the README advises (the
#: doubling waits of ten attempts outlast PostgreSQL's deadlock detection).
RETRY_ATTEMPTS = {'file': 5, 'zeo': 5, 'relstorage': 10}


def writer(client, token, codes, seed, until, results):
    rng = random.Random(seed)
    while time.monotonic() < until:
        started = time.perf_counter()
        try:
            status, _body = servers.record_visit(client, token, rng.choice(codes))
        except OSError:
            status = 0
        results.append((status, time.perf_counter() - started))
    client.close()


def retries(processes):
    return sum(servers.Client(process.port).json('/__test__/edits')['retries'] for process in processes)


def run(processes, token, codes, writers, seconds):
    """One measurement: ``writers`` clients spread over ``processes`` for ``seconds``."""
    before = retries(processes)
    results = []
    until = time.monotonic() + seconds
    threads = [
        threading.Thread(
            target=writer,
            args=(servers.Client(processes[i % len(processes)].port), token, codes, i, until, results),
        )
        for i in range(writers)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    retried = retries(processes) - before
    ok = [latency for status, latency in results if status == 201]
    failed = len(results) - len(ok)
    latencies = sorted(latency for _status, latency in results)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else 0
    return {
        'visits/s': len(ok) / elapsed,
        'p50 ms': statistics.median(latencies) * 1000 if latencies else 0,
        'p99 ms': p99 * 1000,
        'conflicts/1000': (retried + failed) * 1000 / max(1, len(ok)),
        '5xx': sum(1 for status, _latency in results if status >= 500 or status == 0),
        'answers': len(results),
    }


@contextlib.contextmanager
def storage(name, directory, dsn, processes=2):
    """Yields ``(uri, number of app processes)`` with the storage's server running."""
    if name == 'file':
        yield servers.file_uri(directory), 1
    elif name == 'zeo':
        zeo, port = servers.start_zeo(os.path.join(directory, 'zeo'))
        try:
            yield servers.zeo_uri(port, os.path.join(directory, 'blobcache')), processes
        finally:
            servers.stop(zeo)
    else:
        with servers.postgres_database(dsn) as database:
            yield servers.relstorage_uri(database, directory), processes


def bench_storage(name, args):
    rows = []
    with (
        tempfile.TemporaryDirectory(prefix=f'bench-writes-{name}-') as directory,
        storage(name, directory, args.pg_dsn, args.processes) as (uri, count),
    ):
        token, codes = servers.prepare_registry(uri, directory, cards=args.cards, visits=args.visits)
        retry = args.retry or RETRY_ATTEMPTS[name]
        processes = [
            servers.start_test_app(
                uri, os.path.join(directory, f'app{i}.log'), threads=args.threads, retry=retry
            )
            for i in range(count)
        ]
        try:
            for writers in args.writers:
                figures = run(processes, token, codes, writers, args.seconds)
                rows.append((name, count, writers, {**figures, 'retry': retry}))
        finally:
            for process in processes:
                servers.stop(process)
    return rows


def postgres_answers(dsn):
    if not dsn:
        return False
    try:
        import psycopg2

        psycopg2.connect(dsn, connect_timeout=2).close()
    except Exception:
        return False
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('--seconds', type=float, default=4)
    parser.add_argument('--writers', default='1,8,16')
    parser.add_argument('--storages', default='file,zeo,relstorage')
    parser.add_argument('--cards', type=int, default=200)
    parser.add_argument('--visits', type=int, default=0, help='visits recorded before the measurement')
    parser.add_argument('--threads', type=int, default=8, help='waitress threads of each app process')
    parser.add_argument('--processes', type=int, default=2, help='app processes on ZEO and on RelStorage')
    parser.add_argument('--retry', type=int, help='their retry.attempts (default: RETRY_ATTEMPTS)')
    parser.add_argument('--pg-dsn', default=os.environ.get('KAIKU_TEST_PG_DSN'), help='PostgreSQL DSN')
    args = parser.parse_args(argv)
    args.writers = [int(n) for n in args.writers.split(',')]
    names = args.storages.split(',')
    if 'relstorage' in names and not postgres_answers(args.pg_dsn):
        print('relstorage left out: no PostgreSQL answers (--pg-dsn or KAIKU_TEST_PG_DSN)', file=sys.stderr)
        names.remove('relstorage')
    rows = []
    for name in names:
        rows.extend(bench_storage(name, args))
    columns = ('visits/s', 'p50 ms', 'p99 ms', 'conflicts/1000', '5xx', 'answers', 'retry')
    print(f'{"storage":<11}{"procs":>6}{"writers":>8}' + ''.join(f'{c:>16}' for c in columns))
    for name, count, writers, figures in rows:
        cells = ''.join(
            f'{figures[c]:>16.1f}' if isinstance(figures[c], float) else f'{figures[c]:>16}' for c in columns
        )
        print(f'{name:<11}{count:>6}{writers:>8}' + cells)
    return 0


if __name__ == '__main__':
    sys.exit(main())
