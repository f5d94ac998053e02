"""Benchmark of a data subject's export and an erasure at a busy issuing site.

    .venv/bin/python bench/erasure.py            # 20,000 cards at one site
    .venv/bin/python bench/erasure.py 100000     # any number of cards

Builds a registry in a temporary FileStorage with N cards at one issuing site (half of them used once),
reopens it with a cold cache, then prints the time to export one card's holder data (the card page's
"show all the card's data") and to erase the card and commit.  Both must stay independent of how many
cards the site has: a holder's cards are found through their replacement links, not by reading the site's
cards.
"""

import datetime
import os
import sys
import tempfile
import time

import transaction
from ZODB import DB
from ZODB.FileStorage import FileStorage

from kaiku_registry.models import CardRegistry


def build(path, count):
    db = DB(FileStorage(path))
    conn = db.open()
    registry = conn.root()['registry'] = CardRegistry()
    partner = registry.add_partner('Tampereen kaupunki', 'municipality', 'Tampere')
    issuer = registry.add_site(partner, 'Sosiaalitoimi', 'issuer')
    venue = registry.add_site(partner, 'Uimahalli', 'venue')
    day = datetime.date(2026, 11, 2)
    at = datetime.datetime(2026, 11, 2, 10, tzinfo=datetime.UTC)
    with registry.bulk():
        cards = [registry.issue_card(issuer, day, 1980, '33100', 1) for _ in range(count)]
        for card in cards[: count // 2]:
            registry.record_visit(card, venue, day, 'sport', now=at)
    transaction.commit()
    db.close()


def main(count):
    path = os.path.join(tempfile.mkdtemp(prefix='bench-erasure-'), 'Data.fs')
    build(path, count)
    db = DB(FileStorage(path))
    registry = db.open().root()['registry']
    card = registry.card_by_code(next(iter(registry.card_ids_by_code.keys())))
    start = time.perf_counter()
    registry.card_export(card)
    exported = time.perf_counter() - start
    start = time.perf_counter()
    registry.erase_card(card)
    transaction.commit()
    erased = time.perf_counter() - start
    db.close()
    print(f'{count} cards at the site: export {exported * 1000:.1f} ms, ', end='')
    print(f'erase and commit {erased * 1000:.1f} ms (cold cache)')


if __name__ == '__main__':
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
