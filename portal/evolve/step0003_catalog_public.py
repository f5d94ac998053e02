"""Give the catalog its change counter and the ``public`` index, and fill the index.

The ``public`` index lets an anonymous query for a content type read one set instead of intersecting
three; the change counter keys the facet counts that a process remembers.
"""

from portal.catalog import SiteCatalog, declared_indexes

SITE_KEY = 'site'


def evolve(root, registry):
    site = root.get(SITE_KEY)
    catalog = getattr(site, 'catalog', None) if site is not None else None
    if not isinstance(catalog, SiteCatalog):
        return
    catalog.ensure_counter()
    if 'public' not in catalog:
        index = catalog['public'] = declared_indexes(registry)['public'].make()
        for docid, item in catalog.objects.items():
            index.index_doc(docid, item)
        catalog.changes.change(1)
