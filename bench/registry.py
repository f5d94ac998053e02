"""Registry benchmark: build a large registry in a temporary FileStorage and time what the door and the
coordinators do with it.

    .venv/bin/python bench/registry.py [--cards 1000000] [--visits 5000000]

Prints the build time, verification latency in process (median and p99), the statistics summary time,
and the peak RSS of this process.  Figures, not assertions: the tests check behaviour.
"""

import argparse
import datetime
import random
import resource
import statistics
import sys
import tempfile
import time

import transaction
from ZODB import DB
from ZODB.FileStorage import FileStorage


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(root, n_cards, n_visits, rng, today, batch=20_000):
    from kaiku_registry.models import Registry

    registry = root['registry'] = Registry()
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
            root._p_jar.cacheGC()
    transaction.commit()
    sectors = ('culture', 'education', 'science', 'sport')
    for i in range(n_visits):
        card_id, issued = cards[rng.randrange(len(cards))]
        card = registry.cards[card_id]
        day = issued + datetime.timedelta(days=rng.randrange(0, max(1, (today - issued).days)))
        registry.record_visit(card, rng.choice(venues), day, rng.choice(sectors), children=0)
        if i % batch == batch - 1:
            transaction.commit()
            root._p_jar.cacheGC()
    transaction.commit()
    return registry, [card_id for card_id, _ in cards]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--cards', type=int, default=1_000_000)
    parser.add_argument('--visits', type=int, default=5_000_000)
    parser.add_argument('--lookups', type=int, default=20_000)
    args = parser.parse_args(argv)
    rng = random.Random(1)
    today = datetime.date(2026, 11, 29)
    with tempfile.TemporaryDirectory() as directory:
        db = DB(FileStorage(f'{directory}/Data.fs'), cache_size=100_000)
        conn = db.open()
        root = conn.root()
        start = time.perf_counter()
        registry, card_ids = build(root, args.cards, args.visits, rng, today)
        built = time.perf_counter() - start
        print(f'build: {args.cards:,} cards, {args.visits:,} visits in {built:.1f} s')
        conn.close()

        conn = db.open()
        registry = conn.root()['registry']
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
            print(f'statistics (summary + monthly + per venue), {label}: {elapsed:.1f} ms')
        print(f'aggregate counters: {len(registry.aggregates):,}')
        print(f'peak RSS: {peak_rss_mb():.0f} MB')
        conn.close()
        db.close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
