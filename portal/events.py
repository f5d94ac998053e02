"""Events sent when content changes, so that other parts (catalog, audit log, history) can follow.

A container sends :class:`ObjectAdded` and :class:`ObjectRemoved` itself when an item is added or removed.
Whoever changes an item's fields (an edit form, the loader) sends :class:`ObjectModified` with the names of
the fields that changed; :func:`portal.workflow` sends :class:`StateChanged`.  Subscribe with
``config.add_subscriber(handler, ObjectAdded)``; a handler gets the event and reads ``event.item``.
"""

from pyramid.threadlocal import get_current_registry, manager


class ContentEvent:
    def __init__(self, item):
        self.item = item


class ObjectAdded(ContentEvent):
    """``item`` was added to ``item.__parent__``."""


class ObjectRemoved(ContentEvent):
    """``item`` was removed from ``parent`` (``item.__parent__`` is already None)."""

    def __init__(self, item, parent, name):
        super().__init__(item)
        self.parent = parent
        self.name = name


class ObjectModified(ContentEvent):
    """Fields of ``item`` changed; ``fields`` names them."""

    def __init__(self, item, fields=()):
        super().__init__(item)
        self.fields = tuple(fields)


class StateChanged(ContentEvent):
    """``item`` moved from workflow state ``old`` to ``new`` along ``transition`` (its name), with the
    ``comment`` the person who moved it gave (empty when none)."""

    def __init__(self, item, old, new, transition=None, comment=''):
        super().__init__(item)
        self.old = old
        self.new = new
        self.transition = transition
        self.comment = comment


class LocalRolesChanged(ContentEvent):
    """Who holds which role on ``item`` (and so on everything below it) changed."""


def notify(event, registry=None):
    """Send ``event`` to its subscribers in ``registry`` (the current one by default).  A registry given
    outside its application (a script, a test fixture) is made the current one while the subscribers run,
    so that what they look up on the current registry (the catalog's index views) is this application's."""
    current = get_current_registry()
    if registry is None or registry is current:
        current.notify(event)
        return
    manager.push({'registry': registry, 'request': manager.get()['request']})
    try:
        registry.notify(event)
    finally:
        manager.pop()
