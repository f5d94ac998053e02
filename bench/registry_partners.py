"""Coordinators' pages benchmark: how long the partner, site and people lists take for a large network.

    .venv/bin/python bench/registry_partners.py [--partners 300] [--sites 2000] [--people 3000]

Builds a registry with that many partners, sites and linked people in a temporary database (a tenth of
them in the benchmark's own municipality, the rest spread over other municipalities and regions), then
asks each list page in process through WebTest, as a national admin (every record) and as the coordinator
of one municipality (the lists filter by area on each request), and prints the median and the slowest of
``--repeat`` requests per page.  Figures, not assertions: the tests check behaviour.

The defaults are about the size of the whole network.  The lists read every partner and site record of
the registry on each request (a coordinator's area is filtered in Python), so far beyond the database
connection's object cache (``connection_cache_size``, 5,000 objects in the tests) the pages slow down to
loading records: with 2,000 partners and 10,000 sites a list took about half a second here.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from portal.testing import TEST_PASSWORD, add_user, build_app, close_app, edit_site, log_in  # noqa: E402


def build(app, partners, sites, people):
    from portal import places

    towns = [place.name_fi for place in places.municipalities() if place.name_fi != 'Jyväskylä']
    with edit_site(app) as site:
        registry = site['registry']
        made_partners = []
        for n in range(partners):
            municipality = 'Jyväskylä' if n % 10 == 0 else towns[n % len(towns)]
            made_partners.append(registry.add_partner(f'Kumppani {n}', 'municipality', municipality))
        made_sites = [
            registry.add_site(made_partners[n % partners], f'Toimipiste {n}', ('issuer', 'venue')[n % 2])
            for n in range(sites)
        ]
        for n in range(people):
            registry.set_member(f'person{n}', made_sites[n % sites])
        registry.set_area('coord', 'municipality', 'Jyväskylä')


def timed(app, path, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        app.get(path, status=200)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), max(times)


def main():
    import webtest

    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--partners', type=int, default=300)
    parser.add_argument('--sites', type=int, default=2000)
    parser.add_argument('--people', type=int, default=3000)
    parser.add_argument('--repeat', type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        app = build_app(directory, **{'portal.load_on_start': 'false'})
        try:
            start = time.perf_counter()
            build(app, args.partners, args.sites, args.people)
            print(f'built {args.partners} partners, {args.sites} sites, {args.people} people '
                  f'in {time.perf_counter() - start:.1f} s')  # fmt: skip
            add_user(app, 'coord', TEST_PASSWORD, roles=['Coordinator'])
            add_user(app, 'national', TEST_PASSWORD, roles=['NationalAdmin'])
            for login in ('national', 'coord'):
                client = webtest.TestApp(app, extra_environ={'HTTP_HOST': 'example.com'})
                log_in(client, login, TEST_PASSWORD)
                for path in ('/registry/partners', '/registry/sites', '/registry/people'):
                    median, slowest = timed(client, path, args.repeat)
                    print(f'{login:9} {path:20} median {median:7.1f} ms   slowest {slowest:7.1f} ms')
        finally:
            close_app(app)


if __name__ == '__main__':
    main()
