"""``portal-reindex <ini>``: rebuild the site's catalog from the content tree.

A site made before the catalog existed gets one; an existing catalog gains any newly declared indexes and
is emptied and refilled, so it matches the tree exactly.
"""

import argparse
import sys
import time

from portal.catalog import install_catalog
from portal.scripts import site_from_ini


def main(argv=None):
    parser = argparse.ArgumentParser(prog='portal-reindex', description=__doc__)
    parser.add_argument('config_uri', help='the ini file, e.g. development.ini')
    args = parser.parse_args(argv)
    started = time.perf_counter()
    with site_from_ini(args.config_uri) as (site, _registry):
        catalog = install_catalog(site)
        count = len(catalog.objects)
    print(f'{count} items indexed in {time.perf_counter() - started:.1f} s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
