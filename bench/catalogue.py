"""Benchmark of the venue catalogue: indexing, in-process queries and catalogue page throughput.

    .venv/bin/python bench/catalogue.py            # N = 10,000 and 100,000
    .venv/bin/python bench/catalogue.py 2000       # any N given on the command line

For each N the script builds a site in a temporary database with N synthetic venues (added through the
folder, so the catalog subscribers index them), then prints:

* indexing time (adding the venues, indexing included, and committing);
* median and p95 in-process query time for text + two facet filters + sort + first page, and the same
  with the four facet lists counted as the catalogue page does;
* the Finnish analyser's cost (each implementation that loads: libvoikko, pyvoikko) per new word, the
  cost of a query word's terms once its analysis is remembered, and of a query with a misspelt word
  (the correction looks up every string one edit away);
* catalogue page throughput against a Pyramid hello-world measured in the same run, and their ratio,
  without and then with the anonymous page cache (:mod:`portal.pagecache`):
  first served by waitress (4 threads, as in ``development.ini``) to four keep-alive clients in another
  process, which is the comparison the target is set for; then with both WSGI applications called
  directly in this process, one request at a time, which compares only the work of the application.

``--profile`` prints where a catalogue page spends its time.  ``--db DIR`` keeps the database in ``DIR``
and reuses it when it already holds N venues (then no indexing time is printed).  Each run prints the
load average, since the machine may be shared.
"""

import argparse
import cProfile
import logging
import os
import pstats
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path
from urllib.parse import urlencode

warnings.filterwarnings('ignore', category=UserWarning)
logging.getLogger('waitress.queue').setLevel(logging.ERROR)

import transaction  # noqa: E402
from pyramid.authorization import Everyone  # noqa: E402
from pyramid.config import Configurator  # noqa: E402
from pyramid.response import Response  # noqa: E402
from waitress.server import create_server  # noqa: E402
from webob import Request  # noqa: E402

from portal.catalog import Query, facet_counts, morphology, search  # noqa: E402
from portal.catalog.text import query_terms  # noqa: E402
from portal.pagecache import PAGE_CACHE_SIZE, page_cache  # noqa: E402
from portal.testing import build_app, close_app  # noqa: E402

KINDS = [
    ('uimahalli', 'swimming'),
    ('museo', 'museum'),
    ('taidemuseo', 'museum'),
    ('teatteri', 'theatre'),
    ('kirjasto', 'library'),
    ('konserttisali', 'music'),
    ('elokuvateatteri', 'cinema'),
    ('liikuntakeskus', 'sport'),
    ('kansalaisopisto', 'course'),
    ('festivaali', 'festival'),
]
REGIONS = [
    'Uusimaa', 'Varsinais-Suomi', 'Satakunta', 'Kanta-Häme', 'Pirkanmaa', 'Päijät-Häme', 'Kymenlaakso',
    'Etelä-Karjala', 'Etelä-Savo', 'Pohjois-Savo', 'Pohjois-Karjala', 'Keski-Suomi', 'Etelä-Pohjanmaa',
    'Pohjanmaa', 'Keski-Pohjanmaa', 'Pohjois-Pohjanmaa', 'Kainuu', 'Lappi', 'Ahvenanmaa',
]  # fmt: skip
ACCESS = [
    'step_free', 'accessible_toilet', 'induction_loop', 'sign_language', 'easy_language', 'assistance_dogs',
]  # fmt: skip
SYLLABLES = [
    'kal', 'lio', 'ran', 'ta', 'hie', 'sar', 'kan', 'ter', 'va', 'väy', 'län', 'jo', 'ki', 'suu',
    'mä', 'en', 'pu', 'ro', 'lah', 'ti', 'nie', 'mi', 'kos', 'ken', 'har', 'jun', 'met', 'sän',
]  # fmt: skip
QUERIES = ['uimahalliin', 'museoihin', 'teatteri', 'kirjastossa', 'konserttisali', 'liikuntakeskukseen']


def synthetic_word(rng, parts=3):
    return ''.join(rng.choice(SYLLABLES) for _ in range(parts))


def make_venues(app, n, seed=1):
    """Add ``n`` venues to a new ``venues`` folder; return the seconds it took, commits included."""
    rng = random.Random(seed)
    registry = app.registry
    types = registry.content_types
    municipalities = [(synthetic_word(rng).capitalize(), REGIONS[i % len(REGIONS)]) for i in range(300)]
    vocabulary = [synthetic_word(rng, rng.randint(2, 4)) for _ in range(3000)]
    if n == 0:
        return 0.0, municipalities
    db = registry._zodb_databases['']
    conn = db.open()
    site = conn.root()['site']
    started = time.perf_counter()
    venues = types['Folder'].create({'title': 'Kohteet'}, state='published')
    site.add('venues', venues, registry=registry)
    for i in range(n):
        kind, category = rng.choice(KINDS)
        municipality, region = rng.choice(municipalities)
        place = synthetic_word(rng).capitalize()
        values = {
            'title': f'{place}n {kind}',
            'description': f'{municipality}n {kind}, jonne pääsee Kaikukortilla.',
            'body': ' '.join(rng.choice(vocabulary) for _ in range(25)),
            'card_benefit': 'Maksuton pääsylippu.',
            'categories': (category,) if rng.random() < 0.8 else (category, rng.choice(KINDS)[1]),
            'municipality': municipality,
            'region': region,
            'accessibility': tuple(a for a in ACCESS if rng.random() < 0.4),
        }
        state = 'published' if rng.random() < 0.95 else 'private'
        venues.add(f'kohde-{i}', types['Venue'].create(values, state=state), registry=registry)
        if i % 5000 == 4999:
            transaction.commit()
    transaction.commit()
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed, municipalities


def query_times(app, municipalities, rounds=300, seed=2):
    rng = random.Random(seed)
    db = app.registry._zodb_databases['']
    conn = db.open()
    catalog = conn.root()['site'].catalog
    plain, with_facets, totals = [], [], []
    for _ in range(rounds):
        query = Query(
            text=rng.choice(QUERIES),
            filters={'region': [rng.choice(REGIONS)], 'accessibility': [rng.choice(ACCESS)]},
            types=('Venue',),
            path='/venues',
            sort='relevance',
            limit=20,
        )
        started = time.perf_counter()
        result = search(catalog, [Everyone], query)
        plain.append(time.perf_counter() - started)
        for name in ('region', 'municipality', 'categories', 'accessibility'):
            facet_counts(catalog, name, result.hits)
        with_facets.append(time.perf_counter() - started)
        totals.append(result.total)
    conn.close()
    return plain, with_facets, totals


def analyser_costs(app, seed=4, count=300):
    """Print the Finnish analyser's cost per new word for each implementation that loads, a query word's
    cost once remembered, and a query with a misspelt word."""
    rng = random.Random(seed)
    new_words = [
        synthetic_word(rng, rng.randint(2, 4)) + rng.choice(['ssa', 'lla', 'n', '']) for _ in range(count)
    ]
    for name, load_implementation in morphology.IMPLEMENTATIONS:
        try:
            analyse = load_implementation()
        except Exception as error:
            print(f'Finnish analyser {name}: not available ({type(error).__name__})')
            continue
        started = time.perf_counter()
        for word in new_words:
            analyse(word)
        print(f'Finnish analyser {name}: {ms((time.perf_counter() - started) / count)} a new word')
    print(f'Finnish analyser in use: {morphology.analyser()[0] or "none (Snowball only)"}')
    started = time.perf_counter()
    for _ in range(10):
        for word in QUERIES:
            query_terms('fi', word)
    each = (time.perf_counter() - started) / (10 * len(QUERIES))
    print(f"a query word's terms, analysis remembered: {ms(each)}")
    db = app.registry._zodb_databases['']
    conn = db.open()
    catalog = conn.root()['site'].catalog
    times = []
    for word in ('uimahali', 'museoihn', 'teatteeri', 'kirjstossa'):
        started = time.perf_counter()
        search(catalog, [Everyone], Query(text=word, types=('Venue',), path='/venues', limit=20))
        times.append(time.perf_counter() - started)
    conn.close()
    print(f'query with a misspelt word (corrected): median {ms(statistics.median(times))}')


def hello_world_app():
    with Configurator() as config:
        config.add_route('hello', '/')
        config.add_view(lambda request: Response('Hello world!'), route_name='hello')
    return config.make_wsgi_app()


def catalogue_urls(seed=3, count=50):
    rng = random.Random(seed)
    urls = []
    for _ in range(count):
        query = {
            'q': rng.choice(QUERIES),
            'region': rng.choice(REGIONS),
            'access': rng.choice(ACCESS),
            'sort': rng.choice(['relevance', 'name']),
        }
        urls.append(f'/venues/?{urlencode(query)}')
    urls.append('/venues/')
    return urls


def alternating(measure, hello, app, urls, seconds, rounds=3):
    """Requests a second of hello-world and of the catalogue, measured in turns of ``seconds / rounds``
    each, so that a change in the machine's load falls on both alike."""
    hello_rates, page_rates = [], []
    for _ in range(rounds):
        hello_rates.append(measure(hello, ['/'], seconds / rounds))
        page_rates.append(measure(app, urls, seconds / rounds))
    return statistics.mean(hello_rates), statistics.mean(page_rates)


def cpu_per_request(app, urls, rounds=3):
    """Seconds of this process's CPU time a request, calling ``app`` directly: less sensitive than
    requests a second to other work on a shared machine."""
    started = time.process_time()
    for _ in range(rounds):
        for url in urls:
            Request.blank(url, environ={'HTTP_HOST': 'example.com'}).get_response(app)
    return (time.process_time() - started) / (rounds * len(urls))


def throughput(app, urls, seconds):
    """Requests a second, calling ``app`` as a WSGI application one request at a time."""
    count = 0
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        request = Request.blank(urls[count % len(urls)], environ={'HTTP_HOST': 'example.com'})
        response = request.get_response(app)
        if response.status_int != 200:
            raise SystemExit(f'{request.url}: {response.status}')
        count += 1
    return count / (time.perf_counter() - started)


CLIENT = """
import http.client, sys, threading, time
port, seconds, clients = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
urls = sys.stdin.read().split()
counts = [0] * clients
def work(k):
    conn = http.client.HTTPConnection('127.0.0.1', port)
    deadline = time.perf_counter() + seconds
    n = k
    while time.perf_counter() < deadline:
        conn.request('GET', urls[n % len(urls)], headers={'Host': 'example.com'})
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f'{urls[n % len(urls)]}: {response.status}')
        counts[k] += 1
        n += clients
threads = [threading.Thread(target=work, args=(k,)) for k in range(clients)]
started = time.perf_counter()
for t in threads: t.start()
for t in threads: t.join()
print(sum(counts) / (time.perf_counter() - started))
"""


def http_throughput(app, urls, seconds, clients=4):
    """Requests a second with ``app`` served by waitress (4 threads) and ``clients`` keep-alive clients
    in another process, as ``development.ini`` serves the site."""
    server = create_server(app, host='127.0.0.1', port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        done = subprocess.run(
            [sys.executable, '-c', CLIENT, str(server.effective_port), str(seconds), str(clients)],
            input='\n'.join(urls),
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        server.close()
    return float(done.stdout)


def ms(seconds):
    return f'{seconds * 1000:.2f} ms'


def load():
    return 'load average ' + ', '.join(f'{value:.2f}' for value in os.getloadavg())


def page_times(app, urls, rounds=3):
    """Median milliseconds of each page in ``urls``, called directly."""
    times = {}
    for url in urls:
        runs = []
        for _ in range(rounds):
            started = time.perf_counter()
            Request.blank(url, environ={'HTTP_HOST': 'example.com'}).get_response(app)
            runs.append(time.perf_counter() - started)
        times[url] = statistics.median(runs)
    return times


def run(n, seconds, profile, cache_size, keep=None):
    with tempfile.TemporaryDirectory() as scratch:
        directory = keep or scratch
        os.makedirs(directory, exist_ok=True)
        marker = os.path.join(directory, 'venues.count')
        reuse = keep and os.path.exists(marker) and Path(marker).read_text().strip() == str(n)
        if keep and not reuse:
            for name in os.listdir(directory):
                if name.startswith('Data.fs'):
                    os.remove(os.path.join(directory, name))
        uri = (
            f'file://{directory}/Data.fs?blobstorage_dir={directory}/blobs&connection_cache_size={cache_size}'
        )
        settings = {'portal.load_on_start': 'false', 'pyramid.includes': '', 'zodbconn.uri': uri}
        print(f'\n== N = {n:,} venues ({load()})', flush=True)
        app = build_app(directory, **settings)
        try:
            indexing, municipalities = make_venues(app, 0 if reuse else n)
            if reuse:
                print(f'indexing: database reused from {directory}')
            else:
                if keep:
                    with open(marker, 'w') as out:
                        out.write(str(n))
                print(
                    f'indexing (add + index + commit): {indexing:.1f} s, {indexing / n * 1000:.2f} ms a venue'
                )
            plain, with_facets, totals = query_times(app, municipalities)
            quantiles = statistics.quantiles(plain, n=20)
            print(
                f'query (text + 2 facet filters + relevance sort + first page): '
                f'median {ms(statistics.median(plain))}, p95 {ms(quantiles[18])}'
                f'  (hits: median {statistics.median(totals):.0f}, max {max(totals)})'
            )
            quantiles = statistics.quantiles(with_facets, n=20)
            print(
                f'query + 4 facet lists counted: median {ms(statistics.median(with_facets))}, '
                f'p95 {ms(quantiles[18])}'
            )
            analyser_costs(app)
            urls = catalogue_urls()
            hello = hello_world_app()
            hello_cpu = cpu_per_request(hello, ['/'] * 200)
            for cached in (False, True):
                pages = page_cache(app.registry)
                pages.clear()
                pages.size = PAGE_CACHE_SIZE if cached else 0
                print(f'-- catalogue pages {"with" if cached else "without"} the anonymous page cache')
                http_throughput(app, urls, seconds)  # warm each server thread's ZODB cache and the templates
                hello_http, page_rate = alternating(http_throughput, hello, app, urls, seconds)
                print(
                    f'over HTTP (waitress): hello-world {hello_http:,.0f} req/s, catalogue {page_rate:,.0f}'
                )
                print(f'ratio catalogue / hello-world: {page_rate / hello_http:.2f} (target >= 0.35)')
                hello_direct, page_rate = alternating(throughput, hello, app, urls, seconds)
                print(
                    f'WSGI called directly: hello-world {hello_direct:,.0f} req/s, catalogue {page_rate:,.0f}'
                )
                print(f'ratio catalogue / hello-world without a server: {page_rate / hello_direct:.3f}')
                page_cpu = cpu_per_request(app, urls)
                print(
                    f'CPU a request, called directly: hello-world {ms(hello_cpu)}, catalogue {ms(page_cpu)}'
                )
                if not cached:
                    times = page_times(app, [urls[0], urls[1], '/venues/', '/venues/?page=3&sort=newest'])
                    print(
                        'single pages, median of 3: '
                        + ', '.join(f'{url} {ms(t)}' for url, t in times.items())
                    )
            page_cache(app.registry).size = 0  # the profile shows rendering
            print(load())
            if profile:
                profiler = cProfile.Profile()
                profiler.enable()
                throughput(app, urls, seconds)
                profiler.disable()
                pstats.Stats(profiler).sort_stats('cumulative').print_stats(35)
        finally:
            close_app(app)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('sizes', nargs='*', type=int, default=[10_000, 100_000], help='numbers of venues')
    parser.add_argument('--seconds', type=float, default=5.0, help='seconds per throughput measurement')
    parser.add_argument('--profile', action='store_true', help='profile the catalogue page')
    parser.add_argument('--db', help='keep the database in this directory and reuse it')
    parser.add_argument(
        '--cache-size', type=int, default=20_000, help='ZODB connection cache size (development.ini: 20,000)'
    )
    args = parser.parse_args(argv)
    for n in args.sizes:
        run(n, args.seconds, args.profile, args.cache_size, args.db and f'{args.db}-{n}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
