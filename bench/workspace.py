"""Onboarding workspace benchmark: how long the workspace page and the registry's figures take.

    .venv/bin/python bench/workspace.py [--sites 2000] [--cards 20000] [--requests 200]

Builds the app on a temporary database filled from ``content/`` (with development.ini's ZODB cache of
20,000 objects), adds ``--sites`` partner sites (a fifth of them in Jyväskylä, each with a partner of its
own) and ``--cards`` cards spread over the issuing sites and over 24 months, then prints, in process: the
time of the registry's figures provider (median and p95), and the time of ``GET /tyotilat/jyvaskyla/`` as
an Administrator (with and without the figures) and of the published summary as an anonymous visitor,
through WebTest (median and p95).

Figures, not assertions: the tests check behaviour.
"""

import argparse
import datetime
import os
import random
import statistics
import sys
import tempfile
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tests'))
warnings.simplefilter('ignore')


def fill(site, sites, cards):
    from portal import places

    registry = site['registry']
    rng = random.Random(7)
    today = datetime.date.today()
    made = []
    towns = [place.name_fi for place in places.municipalities(region='13') if place.name_fi != 'Jyväskylä']
    for n in range(sites):
        municipality = 'Jyväskylä' if n % 10 < 2 else towns[n % len(towns)]
        partner = registry.add_partner(f'Kumppani {n}', 'issuer_ngo', municipality, 'Keski-Suomi')
        partner.commitment_signed = today - datetime.timedelta(days=rng.randrange(700))
        partner.trained = today - datetime.timedelta(days=rng.randrange(700))
        made.append(registry.add_site(partner, f'Toimipiste {n}', 'issuer' if n % 2 else 'venue'))
    issuers = [site for site in made if site.kind == 'issuer'] or made
    for _ in range(cards):
        day = today - datetime.timedelta(days=rng.randrange(730))
        registry.issue_card(rng.choice(issuers), day, 1960 + rng.randrange(40), '40100', 0)


def timed(func, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sites', type=int, default=2000)
    parser.add_argument('--cards', type=int, default=20000)
    parser.add_argument('--requests', type=int, default=200)
    args = parser.parse_args(argv)

    from kaiku_registry.workspace import municipality_figures
    from portal.testing import TEST_PASSWORD, add_user, browser, build_app, close_app, edit_site
    from portal.workflow import transition

    with tempfile.TemporaryDirectory() as directory:
        uri = f'file://{directory}/Data.fs?blobstorage_dir={directory}/blobs&connection_cache_size=20000'
        app = build_app(directory, **{'zodbconn.uri': uri})
        start = time.perf_counter()
        with edit_site(app) as site:
            fill(site, args.sites, args.cards)
        print(f'filled {args.sites} sites and {args.cards} cards in {time.perf_counter() - start:.1f} s')
        with edit_site(app) as site:
            workspace = site['tyotilat']['jyvaskyla']
            today = datetime.date.today()
            median, p95 = timed(lambda: municipality_figures(workspace, today), args.requests)
            figures = dict(municipality_figures(workspace, today))
        print(f'figures provider: median {median:.2f} ms, p95 {p95:.2f} ms; {figures}')
        add_user(app, 'bench-admin', TEST_PASSWORD, roles=['Administrator'])
        admin = browser(app, 'bench-admin')
        median, p95 = timed(lambda: admin.get('/tyotilat/jyvaskyla/'), args.requests)
        print(f'workspace page (Administrator): median {median:.1f} ms, p95 {p95:.1f} ms')
        providers = app.registry.workspace_figures.providers
        app.registry.workspace_figures.providers = []
        median, p95 = timed(lambda: admin.get('/tyotilat/jyvaskyla/'), args.requests)
        app.registry.workspace_figures.providers = providers
        print(f'the same page without the figures: median {median:.1f} ms, p95 {p95:.1f} ms')
        with edit_site(app) as site:
            transition(site['tyotilat']['jyvaskyla'], 'publish', app.registry)
        anonymous = browser(app)
        median, p95 = timed(lambda: anonymous.get('/tyotilat/jyvaskyla/'), args.requests)
        print(f'published summary (anonymous): median {median:.1f} ms, p95 {p95:.1f} ms')
        close_app(app)


if __name__ == '__main__':
    main()
