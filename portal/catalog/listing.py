"""A folder's listing from the catalog: the children a requester may view, in the folder's order.

The folder view asks the catalog, as DESIGN.md says lists do, instead of loading every child and asking
the security policy about each: the ``allowed`` index already holds who may view each item (its ACLs and
the local roles above it), and the catalog maps each child's path to its document id.  Only the children
of the page shown are loaded.
"""

from pyramid.traversal import resource_path

from portal.catalog.indexes import catalog_of


class Listing:
    """The children of ``container`` that ``principals`` may view, in the container's order.

    ``len()`` is their number; ``page(start, size)`` loads the items of one page only.  ``keys`` are what
    ``load`` turns into items: document ids with a catalog, the items themselves without one.
    """

    def __init__(self, keys, load=None):
        self.keys = keys
        self.load = load

    def __len__(self):
        return len(self.keys)

    def __iter__(self):
        return iter(self.page(0, len(self.keys)))

    def page(self, start, size):
        keys = self.keys[start : start + size]
        return [self.load(key) for key in keys] if self.load else list(keys)


def listing(container, principals, may_view):
    """The :class:`Listing` of ``container`` for ``principals``.  A container without a catalog (a
    detached one in a unit test) asks ``may_view(child)`` of each child instead."""
    catalog = catalog_of(container)
    if catalog is None:
        return Listing([child for child in container.values() if may_view(child)])
    allowed = catalog['allowed'].applyAny(list(principals))
    base = resource_path(container).rstrip('/')
    docids = []
    for name in container.keys():  # noqa: SIM118 (keys() gives the folder's explicit order)
        docid = catalog.docids.get(f'{base}/{name}')
        if docid is not None and docid in allowed:
            docids.append(docid)
    return Listing(docids, catalog.item_for)
