"""Registry benchmark: build a large registry in a temporary FileStorage and time what the door and the
coordinators do with it.

    .venv/bin/python bench/registry.py [--cards 1000000] [--visits 5000000] [--http-requests 10000]

Prints the build time, verification latency in process (median and p99), the statistics summary time in
process, and the peak RSS of this process; then serves the real app (``pserve``, waitress with 4
threads, as ``bench/scale.py`` does) on that database and a Pyramid hello-world (``bench/hello.py``) the
same way, each in a process of its own on a free loopback port, and prints:

* verification throughput over WSGI: the same client loop (``--connections`` client processes, a
  fixed number of keep-alive ``POST /registry/api/v1/verify`` requests with a venue's bearer token, the
  best of ``--rounds`` alternating runs) against both, their req/s and the ratio app/hello-world;
* the statistics page over HTTP: ``GET /registry/stats`` as a coordinator of the bench's municipality,
  logged in through the real login form.

Figures, not assertions: the tests check behaviour.
"""

import argparse
import datetime
import http.cookiejar
import multiprocessing
import os
import random
import re
import resource
import socket
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request

import scale  # bench/scale.py: its app ini, raw requests and HTTP reader (also puts tests/ on the path)
import servers  # tests/servers.py
import transaction
from ZODB import DB
from ZODB.FileStorage import FileStorage

HERE = os.path.dirname(os.path.abspath(__file__))
COORDINATOR = 'bench-coordinator'
PASSWORD = 'bench-password-not-for-production'


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_site(directory):
    """Start the real app once on the new database, so the site and its registry exist, then stop it."""
    app = scale.start_app(directory, 0, servers.file_uri(directory), load='false')
    servers.stop(app)


def build(registry, n_cards, n_visits, rng, today, batch=20_000):
    city = registry.add_partner('Bench city', 'municipality', 'Tampere', 'Pirkanmaa')
    issuers = [registry.add_site(city, f'Issuer {i}', 'issuer') for i in range(40)]
    venues = [registry.add_site(city, f'Venue {i}', 'venue') for i in range(200)]
    transaction.commit()
    cards = []
    for i in range(n_cards):
        issued = today - datetime.timedelta(days=rng.randrange(0, 360))
        card = registry.issue_card(rng.choice(issuers), issued, 1980, '33100', rng.randrange(0, 4))
        cards.append((card.id, issued))
        if i % batch == batch - 1:
            transaction.commit()
            registry._p_jar.cacheGC()
    transaction.commit()
    sectors = ('culture', 'education', 'science', 'sport')
    for i in range(n_visits):
        card_id, issued = cards[rng.randrange(len(cards))]
        card = registry.cards[card_id]
        day = issued + datetime.timedelta(days=rng.randrange(0, max(1, (today - issued).days)))
        registry.record_visit(card, rng.choice(venues), day, rng.choice(sectors), children=0)
        if i % batch == batch - 1:
            transaction.commit()
            registry._p_jar.cacheGC()
    transaction.commit()
    return registry, [card_id for card_id, _ in cards]


def add_http_users(registry):
    """A coordinator of the bench city (for the statistics page) and a venue's API token; commits."""
    from portal.security import ensure_principals, hash_password

    principals = ensure_principals(registry._p_jar.root())
    user = principals.get_user(COORDINATOR) or principals.add_user(COORDINATOR)
    user.roles = ('Coordinator',)
    user.password_hash = hash_password(PASSWORD)
    registry.set_area(user.login, 'municipality', 'Tampere')
    venue = next(site for site in registry.sites.values() if site.kind == 'venue')
    token = registry.new_token(venue)
    transaction.commit()
    return token


def fixed_client(port, requests, offset, count, start, results):
    """One keep-alive connection: a few requests to warm up, then ``count`` requests from ``start`` on
    (monotonic); reports when it finished and how many answers were not 200."""
    sock = socket.create_connection(('127.0.0.1', port))
    for i in range(20):
        scale._get(sock, requests[(offset + i) % len(requests)])
    time.sleep(max(0.0, start - time.monotonic()))
    errors = 0
    for i in range(count):
        errors += scale._get(sock, requests[(offset + i) % len(requests)]) != 200
    sock.close()
    results.put((time.monotonic(), errors))


def throughput(port, requests, connections, total):
    """Requests per second of ``total`` requests over ``connections`` client processes, and non-200s."""
    results = multiprocessing.Queue()
    start = time.monotonic() + 1.5
    each = total // connections
    workers = [
        multiprocessing.Process(
            target=fixed_client, args=(port, requests, n * len(requests) // connections, each, start, results)
        )
        for n in range(connections)
    ]
    for worker in workers:
        worker.start()
    finished = [results.get(timeout=600) for _ in workers]
    for worker in workers:
        worker.join()
    return each * connections / (max(end for end, _ in finished) - start), sum(e for _, e in finished)


def start_hello(directory):
    port = servers.free_port()
    args = [sys.executable, os.path.join(HERE, 'hello.py'), '--port', str(port), '--threads', '4']
    process = servers._start(args, os.path.join(directory, 'hello.log'))
    servers.wait_for_port(port, process)
    process.port = port
    return process


def log_in(port):
    """An opener that holds the coordinator's session, logged in through the real login form."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    base = f'http://127.0.0.1:{port}'
    page = opener.open(base + '/login', timeout=60).read().decode()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({'login': COORDINATOR, 'password': PASSWORD, 'csrf_token': csrf})
    opener.open(base + '/login', data=form.encode(), timeout=60).read()
    return opener


def stats_over_http(port, times=5):
    """Milliseconds of ``GET /registry/stats``: the first request, then the median of ``times`` more."""
    opener = log_in(port)
    elapsed = []
    for _ in range(times + 1):
        t = time.perf_counter()
        with opener.open(f'http://127.0.0.1:{port}/registry/stats', timeout=600) as response:
            response.read()
            if response.status != 200 or response.url.rstrip('/').endswith('/login'):
                raise SystemExit(f'/registry/stats answers {response.status} at {response.url}')
        elapsed.append((time.perf_counter() - t) * 1000)
    return elapsed[0], statistics.median(elapsed[1:])


def over_http(directory, token, codes, args):
    """Serve the real app and the hello-world; print verification req/s of both and the stats page time."""
    requests = [scale.post_json(scale.VERIFY, {'code': code}, token) for code in codes]
    app = scale.start_app(directory, 1, servers.file_uri(directory), load='false')
    try:
        hello = start_hello(directory)
        try:
            for name, process in (('app', app), ('hello-world', hello)):
                with socket.create_connection(('127.0.0.1', process.port)) as sock:
                    status = scale._get(sock, requests[0])
                if status != 200:
                    raise SystemExit(f'{name}: POST {scale.VERIFY} answers {status}')
            best = {'app': (0.0, 0), 'hello-world': (0.0, 0)}
            for _ in range(args.rounds):
                for name, process in (('app', app), ('hello-world', hello)):
                    result = throughput(process.port, requests, args.connections, args.http_requests)
                    if result[0] > best[name][0]:
                        best[name] = result
        finally:
            servers.stop(hello)
        (app_rate, app_errors), (hello_rate, hello_errors) = best['app'], best['hello-world']
        errors = app_errors + hello_errors
        print(
            f'verify over WSGI (POST {scale.VERIFY}, {args.connections} connections, '
            f'{args.http_requests:,} requests, best of {args.rounds}): app {app_rate:.0f} req/s, '
            f'Pyramid hello-world {hello_rate:.0f} req/s, ratio {app_rate / hello_rate:.2f}'
            + (f'   {errors} non-200 answers!' if errors else ''),
            flush=True,
        )
        first, median = stats_over_http(app.port)
        print(
            f'statistics page over HTTP (GET /registry/stats as a Tampere coordinator): '
            f'first {first:.1f} ms, then median {median:.1f} ms',
            flush=True,
        )
    finally:
        servers.stop(app)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--cards', type=int, default=1_000_000)
    parser.add_argument('--visits', type=int, default=5_000_000)
    parser.add_argument('--lookups', type=int, default=20_000)
    parser.add_argument('--http-requests', type=int, default=10_000, help='verify requests per HTTP run')
    parser.add_argument('--connections', type=int, default=4, help='client connections over HTTP')
    parser.add_argument('--rounds', type=int, default=2, help='alternating HTTP runs; the best counts')
    parser.add_argument('--no-http', dest='http', action='store_false', help='in process only')
    args = parser.parse_args(argv)
    rng = random.Random(1)
    today = datetime.date(2026, 11, 29)
    from kaiku_registry import REGISTRY_NAME
    from portal import SITE_KEY

    with tempfile.TemporaryDirectory() as directory:
        if args.http:
            make_site(directory)
        db = DB(FileStorage(f'{directory}/Data.fs', blob_dir=f'{directory}/blobs'), cache_size=100_000)
        conn = db.open()
        root = conn.root()
        if REGISTRY_NAME not in root.get(SITE_KEY, {}):
            from kaiku_registry.models import Registry

            root[SITE_KEY] = {REGISTRY_NAME: Registry()}  # --no-http: the registry alone
        start = time.perf_counter()
        registry, card_ids = build(root[SITE_KEY][REGISTRY_NAME], args.cards, args.visits, rng, today)
        built = time.perf_counter() - start
        print(f'build: {args.cards:,} cards, {args.visits:,} visits in {built:.1f} s')
        token = add_http_users(registry) if args.http else None
        conn.close()

        conn = db.open()
        registry = conn.root()[SITE_KEY][REGISTRY_NAME]
        code_list = [registry.cards[card_ids[rng.randrange(len(card_ids))]].code for _ in range(2000)]
        conn.cacheMinimize()
        timings = []
        for i in range(args.lookups):
            code = code_list[i % len(code_list)]
            t = time.perf_counter()
            registry.verify(code, today)
            timings.append((time.perf_counter() - t) * 1000)
        timings.sort()
        print(
            f'verify in process: median {statistics.median(timings):.3f} ms, '
            f'p99 {timings[int(len(timings) * 0.99)]:.3f} ms over {args.lookups:,} lookups'
        )
        from kaiku_registry.reports import breakdown, summary, uses_by

        for label in ('cold cache', 'warm cache'):
            t = time.perf_counter()
            summary(registry, today)
            breakdown(registry, 'adult_uses', 'month')
            uses_by(registry, 'site', municipality='Tampere')
            elapsed = (time.perf_counter() - t) * 1000
            print(f'statistics in process (summary + monthly + per venue), {label}: {elapsed:.1f} ms')
        print(f'aggregate counters: {len(registry.aggregates):,}')
        print(f'peak RSS: {peak_rss_mb():.0f} MB', flush=True)
        conn.close()
        db.close()
        if args.http:
            over_http(directory, token, code_list, args)
    return 0


if __name__ == '__main__':
    sys.exit(main())
