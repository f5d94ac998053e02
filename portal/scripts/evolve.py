"""``portal-evolve <ini>``: bring the database up to date with the evolve steps it has not had yet.

The application does the same when it starts (unless ``portal.evolve_on_start = false``); this script lets
an operator run the steps on their own, e.g. before starting new app processes after an upgrade.
``--status`` only tells the database's generation and the code's latest one.
"""

import argparse
import sys

import transaction

from portal import main as make_app
from portal.evolve import evolve, generation, latest_generation
from portal.scripts import ini_logging, ini_settings


def main(argv=None):
    parser = argparse.ArgumentParser(prog='portal-evolve', description=__doc__)
    parser.add_argument('config_uri', help='the ini file, e.g. development.ini')
    parser.add_argument('--status', action='store_true', help='only show the generations, change nothing')
    args = parser.parse_args(argv)
    ini_logging(args.config_uri)
    # Build the application without its own evolve run, so this script is the one that reports the steps.
    settings = dict(ini_settings(args.config_uri), **{'portal.evolve_on_start': 'false'})
    registry = make_app({}, **settings).registry
    db = registry._zodb_databases['']
    try:
        tm = transaction.TransactionManager()
        with tm:
            conn = db.open(transaction_manager=tm)
            before = generation(conn.root())
        conn.close()
        latest = latest_generation()
        if args.status:
            print(f'database generation {before}, code generation {latest}')
            return 0
        done = evolve(db, registry)
    finally:
        for each in registry._zodb_databases.values():
            each.close()
    for number in done:
        print(f'ran evolve step {number}')
    print(f'database generation {before} -> {max([before, *done])} (code generation {latest})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
