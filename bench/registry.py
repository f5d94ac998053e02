"""CardRegistry benchmark: build a large registry in a temporary FileStorage and time what the door and the
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
import array
import contextlib
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
DOOR = 'bench-door'
PASSWORD = 'bench-password-not-for-production'


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_site(directory):
    """Start the real app once on the new database, so the site and its registry exist, then stop it."""
    app = scale.start_app(directory, 0, servers.file_uri(directory), load='false')
    servers.stop(app)


def build(registry, n_cards, n_visits, rng, today, batch=50_000):
    """Issue ``n_cards`` cards over the past year, then record ``n_visits`` visits of random cards in
    date order, through the model's own methods inside :meth:`CardRegistry.bulk` (the rules are checked as
    for one record; the statistics tallies change once per batch), committing every ``batch`` records.

    Returns the card ids (an array) and a count of records per second for cards and for visits.
    """
    city = registry.add_partner('Bench city', 'municipality', 'Tampere', 'Pirkanmaa')
    issuers = [registry.add_site(city, f'Issuer {i}', 'issuer') for i in range(40)]
    venues = [registry.add_site(city, f'Venue {i}', 'venue') for i in range(200)]
    transaction.commit()
    card_ids, issued_on = array.array('q'), array.array('i')
    first = today.toordinal() - 360
    started = time.perf_counter()
    for low in range(0, n_cards, batch):
        with registry.bulk():
            for _ in range(low, min(n_cards, low + batch)):
                issued = first + rng.randrange(0, 361)
                day = datetime.date.fromordinal(issued)
                card = registry.issue_card(rng.choice(issuers), day, 1980, '33100', rng.randrange(0, 4))
                card_ids.append(card.id)
                issued_on.append(issued)
        transaction.commit()
        registry._p_jar.cacheGC()
        progress('cards', min(n_cards, low + batch), n_cards, started)
    cards_rate = n_cards / max(time.perf_counter() - started, 1e-9)
    # Each visit picks a random card and a day from its issue to today; recorded in date order, as the
    # door would, so that the per-site time index grows at its end.
    by_day = [array.array('i') for _ in range(361)]
    for _ in range(n_visits):
        index = rng.randrange(n_cards)
        issued = issued_on[index]
        by_day[issued - first + rng.randrange(0, today.toordinal() - issued + 1)].append(index)
    sectors = ('culture', 'education', 'science', 'sport')
    started = time.perf_counter()
    done, pending = 0, 0
    bulk = registry.bulk().__enter__()
    for offset, indexes in enumerate(by_day):
        day = datetime.date.fromordinal(first + offset)
        noon = datetime.datetime.combine(day, datetime.time(12), datetime.UTC)
        for n, index in enumerate(indexes):
            card = registry.cards[card_ids[index]]
            at = noon + datetime.timedelta(microseconds=n)
            registry.record_visit(card, rng.choice(venues), day, rng.choice(sectors), children=0, now=at)
            pending += 1
            if pending == batch:
                bulk.__exit__(None, None, None)
                transaction.commit()
                registry._p_jar.cacheGC()
                done += pending
                pending = 0
                progress('visits', done, n_visits, started)
                bulk = registry.bulk().__enter__()
        by_day[offset] = None
    bulk.__exit__(None, None, None)
    transaction.commit()
    visits_rate = n_visits / max(time.perf_counter() - started, 1e-9)
    return card_ids, cards_rate, visits_rate


def progress(what, done, total, started):
    if total >= 200_000:
        elapsed = time.perf_counter() - started
        print(f'  {what}: {done:,} of {total:,} in {elapsed:.0f} s', file=sys.stderr, flush=True)


def check_sample(registry, card_ids, rng, n_cards, n_visits, sample=200):
    """The built registry's counts agree with its records: totals equal the record counts, and for a
    sample of cards the use count equals the visits kept for the card."""
    problems = []
    if registry.totals('cards') != n_cards or registry.card_count() != n_cards:
        problems.append(f'cards: totals {registry.totals("cards")}, count {registry.card_count()}')
    if registry.totals('adult_uses') != n_visits or registry.visit_count() != n_visits:
        problems.append(f'visits: totals {registry.totals("adult_uses")}, count {registry.visit_count()}')
    activated = 0
    for _ in range(sample):
        card = registry.cards[card_ids[rng.randrange(len(card_ids))]]
        kept = len(registry.visit_ids_by_card.get(card.id, ()))
        activated += bool(kept)
        if card.uses != kept or (card.first_use is None) != (kept == 0):
            problems.append(f'card {card.id}: uses {card.uses}, visits kept {kept}')
    if registry.totals('activated') > n_cards:
        problems.append('more cards activated than issued')
    return problems


def add_http_users(registry):
    """A coordinator of the bench city (for the statistics pages), a venue's staff member (for the door
    view) and a venue's API token; commits."""
    from portal.security import ensure_principals, hash_password

    principals = ensure_principals(registry._p_jar.root())
    venue = next(site for site in registry.sites.values() if site.kind == 'venue')
    for login, roles in ((COORDINATOR, ('Coordinator',)), (DOOR, ('VenueStaff',))):
        user = principals.get_user(login) or principals.add_user(login)
        user.roles = roles
        user.password_hash = hash_password(PASSWORD)
    registry.set_area(COORDINATOR, 'municipality', 'Tampere')
    registry.set_member(DOOR, venue)
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


def log_in(port, login):
    """An opener that holds ``login``'s session, logged in through the real login form."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    base = f'http://127.0.0.1:{port}'
    csrf = csrf_of(opener.open(base + '/login', timeout=60).read().decode())
    form = urllib.parse.urlencode({'login': login, 'password': PASSWORD, 'csrf_token': csrf})
    opener.open(base + '/login', data=form.encode(), timeout=60).read()
    return opener


def csrf_of(page):
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def timed(opener, url, times, data=None):
    """Milliseconds of the first request to ``url``, then of ``times`` more: ``(first, [ms, ...])``."""
    elapsed = []
    for _ in range(times + 1):
        t = time.perf_counter()
        with opener.open(url, data=data() if data else None, timeout=600) as response:
            response.read()
            if response.status != 200 or response.url.rstrip('/').endswith('/login'):
                raise SystemExit(f'{url} answers {response.status} at {response.url}')
        elapsed.append((time.perf_counter() - t) * 1000)
    return elapsed[0], sorted(elapsed[1:])


def describe(first, rest):
    return (
        f'first {first:.1f} ms, then median {statistics.median(rest):.1f} ms, '
        f'p95 {rest[int(len(rest) * 0.95)]:.1f} ms over {len(rest)}'
    )


def pages_over_http(port, codes, times):
    """Print the times of the statistics pages, the CSV, the public impact page and the door check."""
    base = f'http://127.0.0.1:{port}/registry'
    coordinator = log_in(port, COORDINATOR)
    print(
        f'statistics page (GET /registry/stats as a Tampere coordinator): '
        f'{describe(*timed(coordinator, base + "/stats", times))}',
        flush=True,
    )
    print(
        'statistics CSV (GET /registry/stats.csv): '
        f'{describe(*timed(coordinator, base + "/stats.csv", times))}',
        flush=True,
    )
    public = urllib.request.build_opener()
    print(
        f'public impact page (GET /registry/impact?municipality=Tampere, anonymous): '
        f'{describe(*timed(public, base + "/impact?municipality=Tampere", times))}',
        flush=True,
    )
    door = log_in(port, DOOR)
    csrf = csrf_of(door.open(base + '/door', timeout=60).read().decode())
    picks = iter(codes * (times // len(codes) + 2))

    def form():
        return urllib.parse.urlencode({'code': next(picks), 'csrf_token': csrf}).encode()

    print(
        f'door check (POST /registry/door as venue staff, session + CSRF): '
        f'{describe(*timed(door, base + "/door", times * 4, form))}',
        flush=True,
    )


def memory_of(pid):
    """``(peak, current)`` resident set size in MB of the process ``pid`` (Linux /proc)."""
    values = {}
    with open(f'/proc/{pid}/status') as f:
        for line in f:
            name, _, value = line.partition(':')
            if name in ('VmHWM', 'VmRSS'):
                values[name] = int(value.split()[0]) / 1024
    return values.get('VmHWM', 0.0), values.get('VmRSS', 0.0)


def start_app(directory, cache_size):
    """Serve the real app (as :func:`scale.start_app` does) with an explicit ZODB cache size and an audit
    database, as production has, so that the door check's audit record is part of what is measured."""
    uri = f'file://{directory}/Data.fs?blobstorage_dir={directory}/blobs&connection_cache_size={cache_size}'
    port = servers.free_port()
    ini = os.path.join(directory, 'serve.ini')
    template = scale.INI.replace(
        'zodbconn.uri = {uri}\n', 'zodbconn.uri = {uri}\nzodbconn.uri.audit = file://{directory}/Audit.fs\n'
    )
    with open(ini, 'w') as f:
        f.write(
            template.format(
                uri=uri,
                directory=directory,
                content=os.path.join(scale.REPO, 'content'),
                load='false',
                port=port,
                secret=scale.SECRET,
            )
        )
    process = servers._start([os.path.join(servers.BIN, 'pserve'), ini], os.path.join(directory, 'serve.log'))
    servers.wait_for_port(port, process, timeout=120)
    process.port = port
    return process


def over_http(directory, token, codes, args):
    """Serve the real app and the hello-world; print verification req/s of both, the pages' times and
    the serving process's memory."""
    requests = [scale.post_json(scale.VERIFY, {'code': code}, token) for code in codes]
    app = start_app(directory, args.cache_size)
    try:
        print(
            f'serving: pserve, waitress 4 threads, zodbconn.uri connection_cache_size={args.cache_size:,} '
            f'objects per connection; RSS after start {memory_of(app.pid)[1]:.0f} MB',
            flush=True,
        )
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
        pages_over_http(app.port, codes, args.page_requests)
        peak, now = memory_of(app.pid)
        print(
            f'serving process RSS: peak {peak:.0f} MB, now {now:.0f} MB '
            f'(connection_cache_size={args.cache_size:,})',
            flush=True,
        )
    finally:
        servers.stop(app)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('--cards', type=int, default=1_000_000)
    parser.add_argument('--visits', type=int, default=5_000_000)
    parser.add_argument('--lookups', type=int, default=20_000)
    parser.add_argument('--codes', type=int, default=2000, help='distinct card codes verified')
    parser.add_argument('--http-requests', type=int, default=10_000, help='verify requests per HTTP run')
    parser.add_argument('--connections', type=int, default=4, help='client connections over HTTP')
    parser.add_argument('--rounds', type=int, default=2, help='alternating HTTP runs; the best counts')
    parser.add_argument('--page-requests', type=int, default=20, help='timed requests of each page')
    parser.add_argument(
        '--cache-size',
        type=int,
        default=20_000,
        help="the serving app's ZODB cache, objects per connection (zodbconn.uri)",
    )
    parser.add_argument('--build-cache-size', type=int, default=3_000_000, help='the build connection cache')
    parser.add_argument('--no-http', dest='http', action='store_false', help='in process only')
    parser.add_argument(
        '--db-dir',
        help='build into this directory and keep it; when it holds a built registry, measure that one again',
    )
    args = parser.parse_args(argv)
    rng = random.Random(1)
    today = datetime.date(2026, 11, 29)
    from kaiku_registry import REGISTRY_NAME
    from kaiku_registry.models import CardRegistry
    from portal import SITE_KEY

    print(
        f'{os.cpu_count()} cores, load average {" ".join(f"{x:.2f}" for x in os.getloadavg())} at start',
        flush=True,
    )
    if args.db_dir:
        os.makedirs(args.db_dir, exist_ok=True)
        holder = contextlib.nullcontext(args.db_dir)
    else:
        holder = tempfile.TemporaryDirectory()
    with holder as directory:
        existing = os.path.exists(f'{directory}/Data.fs')
        if args.http and not existing:
            make_site(directory)
        db = DB(
            FileStorage(f'{directory}/Data.fs', blob_dir=f'{directory}/blobs'),
            cache_size=args.build_cache_size,
        )
        conn = db.open()
        root = conn.root()
        if REGISTRY_NAME not in root.get(SITE_KEY, {}):
            root[SITE_KEY] = {REGISTRY_NAME: CardRegistry()}  # --no-http: the registry alone
        registry = root[SITE_KEY][REGISTRY_NAME]
        if existing and len(registry.cards):
            card_ids = array.array('q', registry.cards.keys())
            print(
                f'reusing the registry in {directory}: {len(card_ids):,} cards, '
                f'{registry.visit_count():,} visits (no build)',
                flush=True,
            )
        else:
            start = time.perf_counter()
            card_ids, cards_rate, visits_rate = build(registry, args.cards, args.visits, rng, today)
            built = time.perf_counter() - start
            print(
                f'build: {args.cards:,} cards, {args.visits:,} visits in {built:.1f} s '
                f'({cards_rate:,.0f} cards/s, {visits_rate:,.0f} visits/s, CardRegistry.bulk(), '
                f'build cache {args.build_cache_size:,} objects); '
                f'Data.fs {os.path.getsize(f"{directory}/Data.fs") / 2**20:,.0f} MB',
                flush=True,
            )
            problems = check_sample(registry, card_ids, rng, args.cards, args.visits)
            print(
                'sample check: '
                + (
                    '; '.join(problems)
                    if problems
                    else 'totals equal the record counts; sampled cards agree with their visits'
                ),
                flush=True,
            )
        token = add_http_users(registry) if args.http else None
        print(f'build process peak RSS: {peak_rss_mb():.0f} MB', flush=True)
        conn.close()

        conn = db.open()
        registry = conn.root()[SITE_KEY][REGISTRY_NAME]
        code_list = [registry.cards[card_ids[rng.randrange(len(card_ids))]].code for _ in range(args.codes)]
        del card_ids
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
        from kaiku_registry.reports import (
            area_months,
            breakdown,
            expiring_by_site,
            summary,
            uses_by,
        )

        for label in ('cold cache', 'warm cache'):
            t = time.perf_counter()
            summary(registry, today, municipality='Tampere')
            breakdown(registry, 'adult_uses', 'month', municipality='Tampere')
            uses_by(registry, 'municipality', municipality='Tampere')
            uses_by(registry, 'site', municipality='Tampere')
            expiring_by_site(registry, today, municipality='Tampere')
            elapsed = (time.perf_counter() - t) * 1000
            t = time.perf_counter()
            area_months(registry, today, municipality='Tampere')
            csv_elapsed = (time.perf_counter() - t) * 1000
            t = time.perf_counter()
            national_rows = len(area_months(registry, today))
            national_elapsed = (time.perf_counter() - t) * 1000
            print(
                f'statistics in process, {label}: the stats page figures {elapsed:.1f} ms, '
                f'the CSV rows of Tampere {csv_elapsed:.1f} ms, '
                f'of the whole registry ({national_rows:,} rows) {national_elapsed:.1f} ms'
            )
        print(
            f'statistics tallies: {len(registry.tallies):,}; '
            f'open-card tallies: {len(registry.open_tallies):,}'
        )
        conn.close()
        db.close()
        if args.http:
            over_http(directory, token, code_list, args)
        print(f'load average at the end: {" ".join(f"{x:.2f}" for x in os.getloadavg())}', flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
