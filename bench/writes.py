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
* 5xx: answers with a 5xx status;
* loads/visit and stores/visit: the objects the app processes' database connections loaded from the
  storage (a cache miss: never loaded, or changed by another connection since) and stored, per visit;
* CPU ms per visit, by who spent it: the app processes (``app``), the storage's server (``store``: the ZEO
  server, or every PostgreSQL process on the machine) and this benchmark's own clients (``client``), read from
  ``/proc``; ``busy %``: how much of the machine's cores were busy (``/proc/stat``).  They tell why a second
  app process adds what it adds: when one process already keeps the cores busy, a second can only share them.

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


TICKS = os.sysconf('SC_CLK_TCK') if hasattr(os, 'sysconf') else 100


def cpu_seconds(pids):
    """User plus system CPU seconds of the processes ``pids`` so far (0 for those gone)."""
    total = 0
    for pid in pids:
        try:
            with open(f'/proc/{pid}/stat') as f:
                fields = f.read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


def postgres_pids():
    pids = []
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                with open(f'/proc/{entry}/comm') as f:
                    if f.read().strip() in ('postgres', 'postmaster'):
                        pids.append(int(entry))
            except OSError:
                continue
    return pids


def machine_ticks():
    """``(busy, total)`` clock ticks of all cores so far."""
    with open('/proc/stat') as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return sum(values) - idle, sum(values)


class CPU:
    """CPU spent by the app processes, the storage's server and this process between two readings."""

    def __init__(self, apps, store):
        self.apps = [process.pid for process in apps]
        self.store = store  # a function returning the storage server's pids
        self.supported = os.path.exists('/proc/stat')

    def read(self):
        if not self.supported:
            return None
        return (cpu_seconds(self.apps), cpu_seconds(self.store()), time.process_time(), *machine_ticks())

    @staticmethod
    def spent(before, after):
        if before is None or after is None:
            return None
        app, store, client, busy, total = (b - a for a, b in zip(before, after, strict=True))
        return {'app': app, 'store': store, 'client': client, 'busy %': 100 * busy / max(1, total)}


def counters(processes):
    """``{'retries': ..., 'loads': ..., 'stores': ...}`` summed over the app processes."""
    totals = {'retries': 0, 'loads': 0, 'stores': 0}
    for process in processes:
        answer = servers.Client(process.port).json('/__test__/edits')
        for name in totals:
            totals[name] += answer[name]
    return totals


def run(processes, token, codes, writers, seconds, cpu):
    """One measurement: ``writers`` clients spread over ``processes`` for ``seconds``."""
    before = counters(processes)
    cpu_before = cpu.read()
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
    spent = CPU.spent(cpu_before, cpu.read())
    after = counters(processes)
    retried = after['retries'] - before['retries']
    ok = [latency for status, latency in results if status == 201]
    failed = len(results) - len(ok)
    latencies = sorted(latency for _status, latency in results)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else 0
    per_visit = {}
    if spent is not None:
        per_visit = {f'{who} ms': spent[who] * 1000 / max(1, len(ok)) for who in ('app', 'store', 'client')}
        per_visit['busy %'] = spent['busy %']
    for name in ('loads', 'stores'):
        per_visit[f'{name}/visit'] = (after[name] - before[name]) / max(1, len(ok))
    return {
        **per_visit,
        'visits/s': len(ok) / elapsed,
        'p50 ms': statistics.median(latencies) * 1000 if latencies else 0,
        'p99 ms': p99 * 1000,
        'conflicts/1000': (retried + failed) * 1000 / max(1, len(ok)),
        '5xx': sum(1 for status, _latency in results if status >= 500 or status == 0),
        'answers': len(results),
    }


@contextlib.contextmanager
def storage(name, directory, dsn, processes=2):
    """Yields ``(uri, number of app processes, the storage server's pids)`` with the storage's server
    running (no server for the embedded FileStorage: the app process does its storage's work itself)."""
    if name == 'file':
        yield servers.file_uri(directory), 1, list
    elif name == 'zeo':
        zeo, port = servers.start_zeo(os.path.join(directory, 'zeo'))
        try:
            yield servers.zeo_uri(port, os.path.join(directory, 'blobcache')), processes, lambda: [zeo.pid]
        finally:
            servers.stop(zeo)
    else:
        with servers.postgres_database(dsn) as database:
            yield servers.relstorage_uri(database, directory), processes, postgres_pids


def bench_storage(name, args, processes):
    rows = []
    with (
        tempfile.TemporaryDirectory(prefix=f'bench-writes-{name}-') as directory,
        storage(name, directory, args.pg_dsn, processes) as (uri, count, store),
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
                figures = run(processes, token, codes, writers, args.seconds, CPU(processes, store))
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
    parser.add_argument(
        '--processes', default='1,2', help='app processes on ZEO and on RelStorage, each number in turn'
    )
    parser.add_argument('--retry', type=int, help='their retry.attempts (default: RETRY_ATTEMPTS)')
    parser.add_argument('--pg-dsn', default=os.environ.get('KAIKU_TEST_PG_DSN'), help='PostgreSQL DSN')
    args = parser.parse_args(argv)
    args.writers = [int(n) for n in args.writers.split(',')]
    args.processes = [int(n) for n in args.processes.split(',')]
    names = args.storages.split(',')
    if 'relstorage' in names and not postgres_answers(args.pg_dsn):
        print('relstorage left out: no PostgreSQL answers (--pg-dsn or KAIKU_TEST_PG_DSN)', file=sys.stderr)
        names.remove('relstorage')
    rows = []
    for name in names:
        for processes in [1] if name == 'file' else args.processes:
            rows.extend(bench_storage(name, args, processes))
    columns = ('visits/s', 'p50 ms', 'p99 ms', 'conflicts/1000', '5xx', 'answers', 'retry')
    extra = ('loads/visit', 'stores/visit', 'app ms', 'store ms', 'client ms', 'busy %')
    columns += tuple(c for c in extra if c in rows[0][3]) if rows else ()
    widths = [max(9, len(c) + 2) for c in columns]
    print(
        f'{"storage":<11}{"procs":>6}{"writers":>8}'
        + ''.join(f'{c:>{w}}' for c, w in zip(columns, widths, strict=True))
    )
    for name, count, writers, figures in rows:
        cells = ''.join(
            f'{figures[c]:>{w}.1f}' if isinstance(figures[c], float) else f'{figures[c]:>{w}}'
            for c, w in zip(columns, widths, strict=True)
        )
        print(f'{name:<11}{count:>6}{writers:>8}' + cells)
    rate = {(name, count, writers): figures['visits/s'] for name, count, writers, figures in rows}
    for name, count, writers in rate:
        if count > 1 and (name, 1, writers) in rate:
            ratio = rate[name, count, writers] / max(0.1, rate[name, 1, writers])
            print(f'{name}: {count} processes / 1 at {writers} writers: {ratio:.2f} x')
    print(f'cores: {os.cpu_count()}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
