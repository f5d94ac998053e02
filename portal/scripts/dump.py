"""``portal-dump <ini> <directory>``: write the whole site as content files (the format of content/)."""

import argparse
import sys

from portal.loader import Dumper
from portal.scripts import site_from_ini


def main(argv=None):
    parser = argparse.ArgumentParser(prog='portal-dump', description=__doc__)
    parser.add_argument('config_uri', help='the ini file, e.g. development.ini')
    parser.add_argument('directory', help='where to write the files')
    args = parser.parse_args(argv)
    with site_from_ini(args.config_uri) as (site, registry):
        written = Dumper(registry).dump(site, args.directory)
    print(f'{len(written)} files written to {args.directory}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
