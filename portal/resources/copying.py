"""Copies of content items, for copy and paste.

:func:`copy_tree` copies an item and everything in it as new, detached objects: the copy's parent is
left out (a deep copy that followed ``__parent__`` would copy the whole site), stored files get blobs of
their own, and every copied item starts as a new one: no history, the requester as its creator, now as
its times, and its type's default state, so a copy of a published page is not published until someone
publishes it.
"""

import copy

from portal.resources.base import utcnow, walk


def copy_tree(item, content_types, creator=None):
    """A detached copy of ``item`` and everything below it (see the module docstring)."""
    memo = {id(item.__parent__): None} if item.__parent__ is not None else {}
    copied = copy.deepcopy(item, memo)
    copied.__name__ = None
    now = utcnow()
    for each in walk(copied):
        each.history = None
        each.creator = creator
        each.created = each.modified = now
        declared = content_types.get(each.type_name)
        if declared is not None:
            each.state = declared.default_state
    return copied
