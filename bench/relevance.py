"""Relevance of the venue catalogue and site search on a shipped judgement set.

    .venv/bin/python bench/relevance.py             # every query of bench/relevance.csv
    .venv/bin/python bench/relevance.py --worst 20  # and the 20 worst queries

The script builds a site from the initial content (``content/``, its sample venues and pages) in a
temporary database, and runs each query of ``bench/relevance.csv`` as a reader types it (inflected,
misspelt by one letter, compound parts, place names, questions; in Finnish, Swedish and English): a
``catalogue`` query through the catalogue's open data (``/venues/search.json``), a ``site`` query
through site search (``/search``).  The relevant answers are given by facts, not by text: ``category=``,
``access=``, ``municipality=`` (joined with ``&``: all must hold) or ``venue=`` a venue's name, and
``page=`` a page's path; alternatives are separated by ``;``.

For each language it prints recall@10 (relevant answers among the first ten, out of all relevant ones or
ten), precision@10 (relevant answers among the first ten shown), the mean reciprocal rank of the first
relevant answer, and the median time of a query; then the worst queries with what came first.  Goal:
recall@10 >= 0.95 and MRR >= 0.8 in each language.
"""

import argparse
import csv
import logging
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from urllib.parse import urlsplit

warnings.filterwarnings('ignore')
logging.disable(logging.WARNING)

import webtest  # noqa: E402

from portal.testing import build_app, close_app  # noqa: E402

JUDGEMENTS = Path(__file__).with_name('relevance.csv')
TOP = 10
GOAL_RECALL, GOAL_MRR = 0.95, 0.8


def read_judgements(path=JUDGEMENTS):
    with path.open(encoding='utf-8', newline='') as f:
        return list(csv.DictReader(f))


def venue_facts(app):
    """name → {'category': set, 'access': set, 'municipality': set, 'venue': {name}} of every venue."""
    conn = app.registry._zodb_databases[''].open()
    try:
        venues = conn.root()['site']['venues']
        return {
            name: {
                'category': set(venue.categories),
                'access': set(venue.accessibility),
                'municipality': {venue.municipality},
                'venue': {name},
            }
            for name, venue in venues.items()
        }
    finally:
        conn.close()


def _holds(facts, condition):
    return all(
        value in facts.get(key, ()) for key, value in (part.split('=', 1) for part in condition.split('&'))
    )


def relevant(judgement, facts):
    """The set of answers (venue names, or page paths) that are relevant to a judgement."""
    alternatives = judgement['relevant'].split(';')
    if judgement['where'] == 'site':
        return {alt.split('=', 1)[1] for alt in alternatives}
    return {name for name, each in facts.items() if any(_holds(each, alt) for alt in alternatives)}


def answers(testapp, judgement):
    """The first ``TOP`` answers to a judgement's query: venue names, or page paths."""
    if judgement['where'] == 'site':
        res = testapp.get('/search', params={'q': judgement['query']})
        paths = [urlsplit(a['href']).path.rstrip('/') for a in res.html.select('.listing-title a')]
        return paths[:TOP]
    res = testapp.get('/venues/search.json', params={'q': judgement['query']})
    return [item['name'] for item in res.json['items'][:TOP]]


def score(found, wanted):
    hits = [answer in wanted for answer in found]
    recall = sum(hits) / min(len(wanted), TOP) if wanted else 1.0
    precision = sum(hits) / len(found) if found else 0.0
    rank = hits.index(True) + 1 if any(hits) else None
    return recall, precision, (1 / rank if rank else 0.0)


def run(worst=10):
    directory = tempfile.mkdtemp(prefix='relevance-')
    app = build_app(directory)
    try:
        testapp = webtest.TestApp(app, extra_environ={'HTTP_HOST': 'example.com'})
        facts = venue_facts(app)
        judgements = read_judgements()
        rows = []
        for judgement in judgements:
            started = time.perf_counter()
            found = answers(testapp, judgement)
            elapsed = time.perf_counter() - started
            wanted = relevant(judgement, facts)
            rows.append((judgement, found, wanted, *score(found, wanted), elapsed))
    finally:
        close_app(app)
    print(f'{len(rows)} judged queries; first {TOP} answers each')
    print(f'{"language":8} {"queries":>7} {"recall@10":>9} {"prec@10":>8} {"MRR":>6} {"median ms":>9}')
    failed = False
    for language in ('fi', 'sv', 'en'):
        mine = [row for row in rows if row[0]['language'] == language]
        recall = statistics.mean(row[3] for row in mine)
        precision = statistics.mean(row[4] for row in mine)
        mrr = statistics.mean(row[5] for row in mine)
        median = statistics.median(row[6] for row in mine) * 1000
        failed |= recall < GOAL_RECALL or mrr < GOAL_MRR
        print(f'{language:8} {len(mine):7} {recall:9.3f} {precision:8.3f} {mrr:6.3f} {median:9.1f}')
    print(
        f'goal: recall@10 >= {GOAL_RECALL} and MRR >= {GOAL_MRR} in each language: '
        f'{"missed" if failed else "met"}'
    )
    if worst:
        print(f'\nthe {worst} worst queries (recall, reciprocal rank, precision):')
        for judgement, found, wanted, recall, precision, rr, _t in sorted(
            rows, key=lambda r: (r[3], r[5], r[4])
        )[:worst]:
            print(
                f'  {judgement["language"]} {judgement["where"]:9} {judgement["query"]!r}: '
                f'recall {recall:.2f}, '
                f'RR {rr:.2f}, precision {precision:.2f}; wanted {len(wanted)}, first {found[:3]}'
            )
    return 1 if failed else 0


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('--worst', type=int, default=10, help='how many of the worst queries to print')
    args = parser.parse_args(argv)
    return run(args.worst)


if __name__ == '__main__':
    sys.exit(main())
