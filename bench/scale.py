"""Scale-out benchmark: page and card-verification throughput with one and with two app processes on one
database.

For each storage (ZEO always; RelStorage on PostgreSQL when ``--pg-dsn`` or ``KAIKU_TEST_PG_DSN`` names a
server) it starts a storage, one and then two production-like app processes (``pserve`` on a
generated ini: no debug toolbar, waitress with 4 threads), drives them with client processes that
send keep-alive requests (spread evenly over the app processes), and prints requests per second and the
ratio two/one for each workload in :data:`WORKLOADS`:

``pages``
    GETs of the paths in :data:`URLS`;
``verify``
    ``POST /registry/api/v1/verify`` with ``{"code": ...}`` and a venue's bearer token, over the cards
    that :func:`prepare_registry` issues into the database once the first app process has made the site
    and its registry, before the second process starts.

Every server listens on a free loopback port and is stopped when the run ends.  Extend :data:`URLS` as
pages are added (each entry is a path on the site and must answer 200), and :data:`WORKLOADS` with a
function that makes the raw requests of a new API call.  Run with ``make bench`` or
``.venv/bin/python bench/scale.py``.
"""

import argparse
import contextlib
import dataclasses
import json
import multiprocessing
import os
import secrets
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

#: The registry API's verification call.
VERIFY = '/registry/api/v1/verify'


@dataclasses.dataclass(frozen=True)
class Fixture:
    """What :func:`prepare_registry` put into the database: a venue's API token and issued card codes."""

    token: str
    codes: list


def get(path):
    return f'GET {path} HTTP/1.1\r\nHost: example.com\r\n\r\n'.encode()


def post_json(path, data, token=None):
    body = json.dumps(data).encode()
    head = f'POST {path} HTTP/1.1\r\nHost: example.com\r\nContent-Type: application/json\r\n'
    if token:
        head += f'Authorization: Bearer {token}\r\n'
    return (head + f'Content-Length: {len(body)}\r\n\r\n').encode() + body


def page_requests(args, fixture):
    return [get(url) for url in args.urls]


def verify_requests(args, fixture):
    return [post_json(VERIFY, {'code': code}, fixture.token) for code in fixture.codes]


#: What is measured: a name and a function ``(args, fixture) -> raw HTTP requests`` that every client
#: connection sends in turn (each from its own offset).  Every request must answer 200.
WORKLOADS = {
    'pages': page_requests,
    'verify': verify_requests,
}


def prepare_registry(uri, n_cards):
    """Issue ``n_cards`` cards and a venue's API token into the registry of the database at ``uri``.

    The first app process has made the site and its registry (``kaiku_registry`` is in the ini's
    ``pyramid.includes``); this opens the storage directly, as one more ZODB client, and commits.
    """
    import transaction
    from pyramid_zodbconn import db_from_uri

    from kaiku_registry import REGISTRY_NAME, today
    from portal import SITE_KEY

    db = db_from_uri(uri, 'unnamed', {})
    tm = transaction.TransactionManager()
    conn = db.open(transaction_manager=tm)
    try:
        registry = conn.root()[SITE_KEY][REGISTRY_NAME]
        city = registry.add_partner('Bench city', 'municipality', 'Tampere', 'Pirkanmaa')
        issuer = registry.add_site(city, 'Bench library', 'issuer')
        venue = registry.add_site(city, 'Bench venue', 'venue')
        token = registry.new_token(venue)
        day = today()
        codes = [registry.issue_card(issuer, day, 1980, '33100', i % 4).code for i in range(n_cards)]
        tm.commit()
    finally:
        conn.close()
        db.close()
    return Fixture(token, codes)


#: The app processes' session secret, one for the run, shared by all of them.
SECRET = secrets.token_hex(32)

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
portal.session_secret = {secret}

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
        content = os.path.join(REPO, 'content')
        f.write(INI.format(uri=uri, content=content, load=load, port=port, secret=SECRET))
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


def client(port, requests, offset, start, stop, results):
    """One client connection: send the raw ``requests`` in turn, from ``offset`` on, between ``start`` and
    ``stop`` (monotonic)."""
    sock = socket.create_connection(('127.0.0.1', port))
    done = errors = 0
    i = offset
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


def measure(processes, requests, connections, seconds, warmup):
    """Requests per second over all app ``processes`` with ``connections`` client processes in all, and
    the share of one core each app process used meanwhile."""
    ports = [process.port for process in processes]
    results = multiprocessing.Queue()
    start = time.monotonic() + warmup + 0.5
    stop = start + seconds
    workers = [
        multiprocessing.Process(
            target=client,
            args=(ports[n % len(ports)], requests, n * len(requests) // connections, start, stop, results),
        )
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


def check_requests(port, name, requests, limit=20):
    with socket.create_connection(('127.0.0.1', port)) as sock:
        for request in requests[:limit]:
            status = _get(sock, request)
            if status != 200:
                line = request.split(b'\r\n', 1)[0].decode()
                raise SystemExit(f'{name}: {line} answers {status}: fix WORKLOADS or URLS in bench/scale.py')


def run(name, uri_for, directory, args):
    """Measure each workload with one and two processes in turn, ``args.rounds`` times, and keep the best
    of each: the machine may be busy with other work, and alternating spreads that over both."""
    processes = [start_app(directory, 0, uri_for(0), load='true')]
    ratios = {}
    try:
        fixture = prepare_registry(uri_for('setup'), args.cards) if 'verify' in args.workloads else None
        processes.append(start_app(directory, 1, uri_for(1), load='false'))
        workloads = {w: WORKLOADS[w](args, fixture) for w in args.workloads}
        for workload, requests in workloads.items():
            for process in processes:
                check_requests(process.port, workload, requests)
        for workload, requests in workloads.items():
            best = {1: (0.0, 0, [0.0]), 2: (0.0, 0, [0.0, 0.0])}
            for _ in range(args.rounds):
                for count in (1, 2):
                    result = measure(processes[:count], requests, args.connections, args.seconds, args.warmup)
                    if result[0] > best[count][0]:
                        best[count] = result
            ratios[workload] = report(f'{name} {workload}', best)
    finally:
        for process in processes:
            servers.stop(process)
    return ratios


def report(label, best):
    (one, errors_one, cpu_one), (two, errors_two, cpu_two) = best[1], best[2]
    ratio = two / one if one else 0.0
    cores = ' + '.join(f'{c:.2f}' for c in cpu_two)
    print(
        f'{label:<29} 1 process {one:7.0f} req/s   2 processes {two:7.0f} req/s   ratio {ratio:4.2f}'
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
    parser.add_argument('--url', dest='urls', action='append', help='a page path to measure (repeatable)')
    parser.add_argument(
        '--workload', dest='workloads', action='append', choices=sorted(WORKLOADS), help='default: all'
    )
    parser.add_argument('--cards', type=int, default=1000, help='cards issued for the verify workload')
    args = parser.parse_args(argv)
    args.urls = args.urls or URLS
    args.workloads = args.workloads or list(WORKLOADS)
    print(
        f'{os.cpu_count()} cores; {args.connections} client connections; best of {args.rounds} runs of '
        f'{args.seconds:.0f} s each; load average before: {os.getloadavg()[0]:.1f}'
    )
    print('workloads: ' + ', '.join(args.workloads) + '; pages: ' + ', '.join(args.urls), end='')
    verify = f'; verify: POST {VERIFY} over {args.cards:,} cards' if 'verify' in args.workloads else ''
    print(verify, flush=True)
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
