"""Scale-out benchmark: page throughput with one and with two app processes on one database.

For each storage (ZEO always; RelStorage on PostgreSQL when ``--pg-dsn`` or ``KAIKU_TEST_PG_DSN`` names a
server) it starts a storage, one and then two production-like app processes (``pserve`` on a
generated ini: no debug toolbar, waitress with 4 threads), drives them with client processes that
send keep-alive GETs for the URLs in :data:`URLS` (spread evenly over the app processes), and prints
requests per second and the ratio two/one.  Every server listens on a free loopback port and is stopped
when the run ends.

Extend :data:`URLS` as pages are added (the catalogue search, card verification): each entry is a path
on the site and must answer 200.  Run with ``make bench`` or ``.venv/bin/python bench/scale.py``.
"""

import argparse
import contextlib
import multiprocessing
import os
import shutil
import socket
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, 'tests'))

import servers  # noqa: E402

#: The pages measured, each requested in turn by every client connection.
URLS = [
    '/venues/hietasarkan-uimahalli',  # a content page: one venue
    '/venues',  # a listing: the venues folder
]

INI = """\
[app:main]
use = egg:kaiku-portal
pyramid.reload_templates = false
pyramid.default_locale_name = fi
pyramid.includes = kaiku_registry
zodbconn.uri = {uri}
retry.attempts = 5
portal.content_dir = {content}
portal.load_on_start = {load}
portal.secure_cookies = false

[server:main]
use = egg:waitress#main
listen = 127.0.0.1:{port}
threads = 4

[loggers]
keys = root

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARN
handlers = console

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(asctime)s %(levelname)-5.5s [%(name)s] %(message)s
"""


def start_app(directory, number, uri, load):
    port = servers.free_port()
    ini = os.path.join(directory, f'app{number}.ini')
    with open(ini, 'w') as f:
        f.write(INI.format(uri=uri, content=os.path.join(REPO, 'content'), load=load, port=port))
    pserve = os.path.join(servers.BIN, 'pserve')
    process = servers._start([pserve, ini], os.path.join(directory, f'app{number}.log'))
    servers.wait_for_port(port, process, timeout=60)
    process.port = port
    return process


def _get(sock, request):
    """Send one keep-alive GET and read the whole answer; return its status."""
    sock.sendall(request)
    data = b''
    while b'\r\n\r\n' not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError('closed')
        data += chunk
    head, _, body = data.partition(b'\r\n\r\n')
    length = 0
    for line in head.split(b'\r\n')[1:]:
        name, _, value = line.partition(b':')
        if name.strip().lower() == b'content-length':
            length = int(value)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError('closed')
        body += chunk
    return int(head.split(b' ', 2)[1])


def client(port, urls, start, stop, results):
    """One client connection: request the URLs in turn between ``start`` and ``stop`` (monotonic)."""
    requests = [f'GET {url} HTTP/1.1\r\nHost: example.com\r\n\r\n'.encode() for url in urls]
    sock = socket.create_connection(('127.0.0.1', port))
    done = errors = 0
    i = 0
    while time.monotonic() < start:
        _get(sock, requests[i % len(requests)])
        i += 1
    while time.monotonic() < stop:
        status = _get(sock, requests[i % len(requests)])
        i += 1
        done += 1
        errors += status != 200
    sock.close()
    results.put((done, errors))


def cpu_seconds(pid):
    """User plus system CPU time a process has used so far (Linux /proc)."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            fields = f.read().rsplit(')', 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def measure(processes, urls, connections, seconds, warmup):
    """Requests per second over all app ``processes`` with ``connections`` client processes in all, and
    the share of one core each app process used meanwhile."""
    ports = [process.port for process in processes]
    results = multiprocessing.Queue()
    start = time.monotonic() + warmup + 0.5
    stop = start + seconds
    workers = [
        multiprocessing.Process(target=client, args=(ports[n % len(ports)], urls, start, stop, results))
        for n in range(connections)
    ]
    for worker in workers:
        worker.start()
    time.sleep(max(0.0, start - time.monotonic()))
    cpu_before = [cpu_seconds(process.pid) for process in processes]
    time.sleep(max(0.0, stop - time.monotonic()))
    cpu = [(cpu_seconds(p.pid) - before) / seconds for p, before in zip(processes, cpu_before, strict=True)]
    totals = [results.get(timeout=seconds + warmup + 60) for _ in workers]
    for worker in workers:
        worker.join()
    done = sum(d for d, _ in totals)
    errors = sum(e for _, e in totals)
    return done / seconds, errors, cpu


def check_urls(port, urls):
    with socket.create_connection(('127.0.0.1', port)) as sock:
        for url in urls:
            status = _get(sock, f'GET {url} HTTP/1.1\r\nHost: example.com\r\n\r\n'.encode())
            if status != 200:
                raise SystemExit(f'{url} answers {status}: fix URLS in bench/scale.py')


def run(name, uri_for, directory, args):
    """Measure one and two processes in turn, ``args.rounds`` times, and keep the best of each: the
    machine may be busy with other work, and alternating spreads that over both."""
    processes = [start_app(directory, 0, uri_for(0), load='true')]
    try:
        processes.append(start_app(directory, 1, uri_for(1), load='false'))
        for process in processes:
            check_urls(process.port, args.urls)
        best = {1: (0.0, 0, [0.0]), 2: (0.0, 0, [0.0, 0.0])}
        for _ in range(args.rounds):
            for count in (1, 2):
                result = measure(processes[:count], args.urls, args.connections, args.seconds, args.warmup)
                if result[0] > best[count][0]:
                    best[count] = result
    finally:
        for process in processes:
            servers.stop(process)
    (one, errors_one, cpu_one), (two, errors_two, cpu_two) = best[1], best[2]
    ratio = two / one if one else 0.0
    cores = ' + '.join(f'{c:.2f}' for c in cpu_two)
    print(
        f'{name:<22} 1 process {one:7.0f} req/s   2 processes {two:7.0f} req/s   ratio {ratio:4.2f}'
        f'   (app CPU, cores: {cpu_one[0]:.2f} | {cores}; load average {os.getloadavg()[0]:.1f})'
        + (f'   {errors_one + errors_two} non-200 answers!' if errors_one + errors_two else ''),
        flush=True,
    )
    return ratio


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--seconds', type=float, default=10.0, help='measuring time per run')
    parser.add_argument('--warmup', type=float, default=2.0)
    parser.add_argument('--connections', type=int, default=8, help='client connections in all')
    parser.add_argument('--rounds', type=int, default=3, help='alternating measurements; the best counts')
    parser.add_argument('--pg-dsn', default=os.environ.get('KAIKU_TEST_PG_DSN'), help='PostgreSQL DSN')
    parser.add_argument('--url', dest='urls', action='append', help='a path to measure (repeatable)')
    args = parser.parse_args(argv)
    args.urls = args.urls or URLS
    print(
        f'{os.cpu_count()} cores; {args.connections} client connections; best of {args.rounds} runs of '
        f'{args.seconds:.0f} s each; load average before: {os.getloadavg()[0]:.1f}'
    )
    print('URLs: ' + ', '.join(args.urls), flush=True)
    directory = tempfile.mkdtemp(prefix='kaiku-bench-')
    try:
        zeo, port = servers.start_zeo(os.path.join(directory, 'zeo'))
        try:
            run(
                'ZEO',
                lambda n: servers.zeo_uri(port, os.path.join(directory, f'blobcache{n}')),
                directory,
                args,
            )
        finally:
            servers.stop(zeo)
        if args.pg_dsn:
            with servers.postgres_database(args.pg_dsn) as dsn:
                run(
                    'RelStorage/PostgreSQL',
                    lambda n: servers.relstorage_uri(dsn, os.path.join(directory, f'rs{n}')),
                    directory,
                    args,
                )
        else:
            print('RelStorage/PostgreSQL  skipped: no --pg-dsn or KAIKU_TEST_PG_DSN')
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(directory)
    return 0


if __name__ == '__main__':
    sys.exit(main())
