"""Anonymous page throughput: every kind of public page, uncached, cached and revalidated with 304.

    .venv/bin/python bench/pages.py              # the initial content, 8 s a measurement
    .venv/bin/python bench/pages.py --seconds 3

The site is built from ``content/`` in a temporary database.  For the front page, a venue page, a content
page and the catalogue the script prints requests a second served by waitress (4 threads, as
``development.ini``) to four keep-alive clients in another process:

* uncached: the page cache's size set to 0, so every request renders the page;
* cached: the page kept by :mod:`portal.pagecache` after the first request;
* 304: the client sends the page's ``ETag`` back in ``If-None-Match``;

each beside a bare WSGI application (one that answers a fixed body, no framework) measured in turns with
it, and the ratio page / bare.  The target is a ratio of at least 0.25 for every cached page.  The load
average is printed, since the machine may be shared.
"""

import argparse
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import warnings

warnings.filterwarnings('ignore')
logging.getLogger('waitress.queue').setLevel(logging.ERROR)

from waitress.server import create_server  # noqa: E402
from webob import Request  # noqa: E402

from portal.pagecache import PAGE_CACHE_SIZE, page_cache  # noqa: E402
from portal.testing import build_app, close_app  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLIENT = """
import http.client, sys, threading, time
port, seconds, clients, etag = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
url = sys.stdin.read().strip()
headers = {'Host': 'example.com'}
if etag != '-':
    headers['If-None-Match'] = etag
counts = [0] * clients
def work(k):
    conn = http.client.HTTPConnection('127.0.0.1', port)
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        conn.request('GET', url, headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status not in (200, 304):
            raise SystemExit(f'{url}: {response.status}')
        counts[k] += 1
threads = [threading.Thread(target=work, args=(k,)) for k in range(clients)]
started = time.perf_counter()
for t in threads: t.start()
for t in threads: t.join()
print(sum(counts) / (time.perf_counter() - started))
"""


def bare_app(environ, start_response):
    body = b'Hello world!'
    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', str(len(body)))])
    return [body]


def served(app, url, seconds, etag=None, clients=4):
    server = create_server(app, host='127.0.0.1', port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        done = subprocess.run(
            [
                sys.executable,
                '-c',
                CLIENT,
                str(server.effective_port),
                str(seconds),
                str(clients),
                etag or '-',
            ],
            input=url,
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        server.close()
    return float(done.stdout)


def in_turns(app, url, seconds, etag=None, rounds=2):
    bare, page = [], []
    for _ in range(rounds):
        bare.append(served(bare_app, '/', seconds / rounds))
        page.append(served(app, url, seconds / rounds, etag))
    return statistics.mean(bare), statistics.mean(page)


def first_venue_and_page(app):
    venue = page = None
    for url in ('/venues/', '/'):
        res = Request.blank(url, environ={'HTTP_HOST': 'example.com'}).get_response(app)
        text = res.text
        for href in text.split('href="')[1:]:
            href = href.split('"', 1)[0].replace('http://example.com', '')
            if venue is None and href.startswith('/venues/') and href.count('/') == 3 and '?' not in href:
                venue = href
            plain = href.count('/') == 2 and href not in ('/venues/', '/') and '?' not in href
            if page is None and plain and not href.startswith(('/static', '/login', '/haku')):
                page = href
    return venue, page


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--seconds', type=float, default=8.0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as directory:
        app = build_app(directory, **{'portal.content_dir': os.path.join(ROOT, 'content')})
        try:
            venue, page = first_venue_and_page(app)
            pages = {'front page': '/', 'venue page': venue, 'content page': page, 'catalogue': '/venues/'}
            cache = page_cache(app.registry)
            print(f'load average: {os.getloadavg()}')
            print(f'{"page":<14}{"mode":<10}{"bare req/s":>12}{"page req/s":>12}{"ratio":>8}')
            for name, url in pages.items():
                if url is None:
                    print(f'{name:<14}(none found in the content)')
                    continue
                for mode in ('uncached', 'cached', '304'):
                    cache.clear()
                    cache.size = 0 if mode == 'uncached' else PAGE_CACHE_SIZE
                    res = Request.blank(url, environ={'HTTP_HOST': 'example.com'}).get_response(app)
                    etag = res.headers.get('ETag') if mode == '304' else None
                    if mode != 'uncached' and not res.headers.get('ETag'):
                        print(f'{name:<14}{mode:<10}not cacheable ({res.status})')
                        continue
                    bare, rate = in_turns(app, url, args.seconds, etag)
                    print(f'{name:<14}{mode:<10}{bare:>12,.0f}{rate:>12,.0f}{rate / bare:>8.2f}')
            print(f'load average: {os.getloadavg()}')
        finally:
            close_app(app)


if __name__ == '__main__':
    main()
