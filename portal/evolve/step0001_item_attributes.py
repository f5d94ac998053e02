"""Store creator and exclude_from_nav on every item.

Items made before these attributes existed read them from the class; storing them on each item lets the
catalog index them and lets an editor's change be told apart from a default.
"""

from portal.resources.base import walk

SITE_KEY = 'site'


def evolve(root, registry):
    site = root.get(SITE_KEY)
    if site is None:
        return
    for item in walk(site):
        item._p_activate()
        state = item.__dict__
        if 'creator' not in state:
            item.creator = None
        if 'exclude_from_nav' not in state:
            item.exclude_from_nav = type(item).exclude_from_nav
