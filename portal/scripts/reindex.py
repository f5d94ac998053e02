"""``portal-reindex <ini> [--check [--repair]]``: rebuild, or check, the site's catalog.

Without options, a site made before the catalog existed gets one; an existing catalog gains any newly
declared indexes and is emptied and refilled, so it matches the tree exactly.

``--check`` changes nothing: it indexes the content tree into a new catalog kept in memory and compares
the stored catalog with it, path by path and index by index, and prints every difference (an item the
catalog lacks, a path it keeps for an item that is gone, an index holding another value than the item
gives now, a document id an index holds that the catalog does not know).  ``--repair`` also fixes each
difference by indexing or unindexing just that item.  The exit status is 1 when a difference was found.
"""

import argparse
import sys
import time

from portal.catalog import SiteCatalog, install_catalog
from portal.resources.base import walk
from portal.scripts import site_from_ini


def check_catalog(site, repair=False):
    """The differences between ``site.catalog`` and the content tree, as readable lines; with
    ``repair`` each one is fixed too."""
    catalog = site.catalog
    fresh = SiteCatalog()
    items = {}
    for item in walk(site):
        if item is not site:
            items[fresh.paths[fresh.index(item)]] = item
    found = []
    stale = set(catalog.docids.keys()) - items.keys()
    for path in sorted(stale):
        found.append(f'{path}: indexed, but there is no such item')
        if repair:
            _forget(catalog, path)
    for path, item in sorted(items.items()):
        docid = catalog.docids.get(path)
        if docid is None or catalog.paths.get(docid) != path or catalog.objects.get(docid) is not item:
            found.append(f'{path}: not indexed')
            if repair:
                _forget(catalog, path)
                catalog.index(item)
            continue
        fresh_docid = fresh.docids[path]
        wrong = [
            name
            for name in fresh
            if name not in catalog
            or catalog[name].document_repr(docid) != fresh[name].document_repr(fresh_docid)
        ]
        if wrong:
            found.append(f'{path}: {", ".join(sorted(wrong))} differ from the item')
            if repair:
                catalog.ensure_indexes()
                catalog.index(item)
    known = set(catalog.objects.keys())
    for name in sorted(catalog):
        unknown = set(catalog[name].indexed()) - known
        if unknown:
            found.append(f'index {name}: {len(unknown)} document ids the catalog does not know')
            if repair:
                for docid in unknown:
                    catalog[name].unindex_doc(docid)
    return found


def _forget(catalog, path):
    docid = catalog.docids.pop(path, None)
    if docid is not None:
        catalog.unindex_doc(docid)
        catalog.paths.pop(docid, None)
        catalog.objects.pop(docid, None)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='portal-reindex', description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('config_uri', help='the ini file, e.g. development.ini')
    parser.add_argument('--check', action='store_true', help='compare the catalog with the content tree')
    parser.add_argument('--repair', action='store_true', help='with --check: fix what differs')
    args = parser.parse_args(argv)
    if args.repair and not args.check:
        parser.error('--repair goes with --check')
    started = time.perf_counter()
    if args.check:
        with site_from_ini(args.config_uri) as (site, _registry):
            found = check_catalog(site, repair=args.repair)
        for line in found:
            print(line)
        verb = 'repaired' if args.repair else 'found'
        print(f'catalog check: {len(found)} differences {verb} in {time.perf_counter() - started:.1f} s')
        return 1 if found and not args.repair else 0
    with site_from_ini(args.config_uri) as (site, _registry):
        catalog = install_catalog(site)
        count = len(catalog.objects)
    print(f'{count} items indexed in {time.perf_counter() - started:.1f} s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
