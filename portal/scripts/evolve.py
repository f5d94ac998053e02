"""``portal-evolve <ini>``: bring the database up to date with the evolve steps it has not had yet.

The application does the same when it starts (unless ``portal.evolve_on_start = false``); this script lets
an operator run the steps on their own, e.g. before starting new app processes after an upgrade.
``--status`` only tells which declared steps the database has not had.
"""

import argparse
import sys

import transaction

from portal.evolve import evolve, pending, steps
from portal.scripts import ini_app, ini_logging


def main(argv=None):
    parser = argparse.ArgumentParser(prog='portal-evolve', description=__doc__)
    parser.add_argument('config_uri', help='the ini file, e.g. development.ini')
    parser.add_argument('--status', action='store_true', help='only show the generations, change nothing')
    args = parser.parse_args(argv)
    ini_logging(args.config_uri)
    # Build the application without its own evolve run, so this script is the one that reports the steps.
    registry = ini_app(args.config_uri, **{'portal.evolve_on_start': 'false'}).registry
    db = registry._zodb_databases['']
    try:
        tm = transaction.TransactionManager()
        with tm:
            conn = db.open(transaction_manager=tm)
            waiting = [step.name for step in pending(conn.root(), registry)]
        conn.close()
        declared = len(steps(registry))
        if args.status:
            names = ', '.join(waiting) or 'none'
            print(f'{declared - len(waiting)} of {declared} evolve steps done; pending: {names}')
            return 0
        done = evolve(db, registry)
    finally:
        for each in registry._zodb_databases.values():
            each.close()
    for name in done:
        print(f'ran evolve step {name}')
    print(f'{declared - len(waiting) + len(done)} of {declared} evolve steps done')
    return 0


if __name__ == '__main__':
    sys.exit(main())
