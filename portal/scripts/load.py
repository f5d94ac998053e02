"""``portal-load <ini> [directory]``: add the content files' items that the site does not have yet.

Items that exist already are left as they are, so this never overwrites editors' work.
"""

import argparse
import sys

from portal.loader import Loader
from portal.scripts import site_from_ini


def main(argv=None):
    parser = argparse.ArgumentParser(prog='portal-load', description=__doc__)
    parser.add_argument('config_uri', help='the ini file, e.g. development.ini')
    parser.add_argument('directory', nargs='?', help='content directory (default: portal.content_dir)')
    args = parser.parse_args(argv)
    with site_from_ini(args.config_uri) as (site, registry):
        directory = args.directory or registry.portal_settings.content_dir
        report = Loader(registry).load(site, directory)
    for path in report.added:
        print(f'added    {path}')
    for problem in report.problems:
        print(f'PROBLEM  {problem}', file=sys.stderr)
    print(f'{len(report.added)} added, {len(report.skipped)} already there, {len(report.problems)} problems')
    return 1 if report.problems else 0


if __name__ == '__main__':
    sys.exit(main())
