"""Index who holds a local role under the items they may view, so that site search finds them.

The catalog's ``allowed`` index now lists, beside the roles the ACLs let view an item, the users and groups
that hold such a role on the item or a folder above it.  Every folder with local roles is reindexed with
everything below it; a site without local roles has nothing to do.
"""

from pyramid.traversal import resource_path

from portal.resources.base import walk

SITE_KEY = 'site'


def evolve(root, registry):
    site = root.get(SITE_KEY)
    catalog = getattr(site, 'catalog', None)
    if site is None or catalog is None:
        return
    for item in walk(site):
        if getattr(item, 'local_roles', None):
            catalog.reindex_below(resource_path(item))
