"""Reindexing follows content events (:mod:`portal.events`).

An added item is indexed, a removed one is unindexed with everything below it, a modified one is
reindexed, and a state change reindexes the item and, for a container, everything below it (who may view
an item depends on its parents' ACLs).  A move is a removal followed by an addition.  Views only read the
catalog.
"""

from pyramid.traversal import resource_path

from portal.catalog.indexes import catalog_of
from portal.events import LocalRolesChanged, ObjectAdded, ObjectModified, ObjectRemoved, StateChanged


def _is_site(item):
    return item.__parent__ is None


def item_added(event):
    item = event.item
    catalog = None if _is_site(item) else catalog_of(item)
    if catalog is not None:
        catalog.index(item)


def item_removed(event):
    catalog = catalog_of(event.parent)
    if catalog is not None:
        parent_path = resource_path(event.parent).rstrip('/')
        catalog.unindex_path(f'{parent_path}/{event.name}')


def item_modified(event):
    item = event.item
    catalog = catalog_of(item)
    if catalog is None:
        return
    if _is_site(item):
        catalog.note_change()  # the site is not indexed, but its title and settings are on every page
    else:
        catalog.index(item)
    if item.is_container and 'local_acl' in getattr(event, 'fields', ()):
        catalog.reindex_below(resource_path(item))


def state_changed(event):
    item = event.item
    catalog = catalog_of(item)
    if catalog is None:
        return
    if item.is_container:
        catalog.reindex_below(resource_path(item))
    else:
        catalog.index(item)


def local_roles_changed(event):
    """Who may view the item and everything below it changed: reindex them."""
    catalog = catalog_of(event.item)
    if catalog is not None:
        catalog.reindex_below(resource_path(event.item))


def includeme(config):
    config.add_subscriber(item_added, ObjectAdded)
    config.add_subscriber(item_removed, ObjectRemoved)
    config.add_subscriber(item_modified, ObjectModified)
    config.add_subscriber(state_changed, StateChanged)
    config.add_subscriber(local_roles_changed, LocalRolesChanged)
