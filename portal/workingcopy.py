"""Working copies of published items (as Plone's plone.app.iterate checks out and checks in).

Editing a published item does not change what the public sees: the edit is kept as the item's working copy
(``item.working_copy``, a :class:`WorkingCopy`) with the values of the edit form, its author and when it was
made.  The copy is edited again as often as needed, submitted for review, sent back, and finally published,
which applies its values to the item through the item's own ``update`` (so the catalog, the history and the
audit follow as for any edit); or it is cancelled and discarded.  The copy lives on the item, not beside it,
so no second object shows in folders, the catalog or the content dump; it adds a revision of its own to the
item's history each time it is saved.

Nothing here sees a request: the views (:mod:`portal.views.manage.workingcopy`) check the permissions.
"""

import datetime

from persistent import Persistent
from persistent.mapping import PersistentMapping

from portal.workflow import PUBLISHED

DRAFT = 'draft'
PENDING = 'pending'


class WorkingCopyError(ValueError):
    """A step the working copy cannot take from its state (submitting a copy already pending)."""


def utcnow():
    return datetime.datetime.now(datetime.UTC)


class WorkingCopy(Persistent):
    """The edit of a published item waiting to be published: values by field name, and files."""

    def __init__(self, values, author):
        self.values = PersistentMapping(values)
        self.files = PersistentMapping()
        self.author = author
        self.created = self.modified = utcnow()
        self.state = DRAFT
        self.submitted_by = None

    def update(self, values, files=None):
        """Take the edit form's ``values`` (and stored ``files`` by field); return the names that
        changed."""
        changed = [name for name, value in values.items() if self.values.get(name) != value]
        self.values.update(values)
        for name, stored in (files or {}).items():
            self.files[name] = stored
            changed.append(name)
        if changed:
            self.modified = utcnow()
        return changed


def needs_working_copy(item):
    """Whether an edit of ``item`` goes into a working copy: it is published, or already has one."""
    return item.state == PUBLISHED or item.working_copy is not None


def check_out(item, values, author):
    """The item's working copy, made now from ``values`` (the item's current ones) when it has none."""
    if item.working_copy is None:
        item.working_copy = WorkingCopy(values, author)
    return item.working_copy


def submit(item, actor):
    copy = _copy_of(item)
    if copy.state != DRAFT:
        raise WorkingCopyError('the working copy is already pending review')
    copy.state = PENDING
    copy.submitted_by = actor
    copy.modified = utcnow()
    return copy


def send_back(item):
    copy = _copy_of(item)
    if copy.state != PENDING:
        raise WorkingCopyError('the working copy is not pending review')
    copy.state = DRAFT
    copy.modified = utcnow()
    return copy


def check_in(item):
    """Publish the working copy: its files and values go onto the item and the copy is gone; return the
    names of the fields that changed (the caller sends :class:`portal.events.ObjectModified`)."""
    copy = _copy_of(item)
    changed = []
    for name, stored in copy.files.items():
        setattr(item, name, stored)
        changed.append(name)
    changed += item.update(dict(copy.values))
    item.working_copy = None
    return changed


def cancel(item):
    """Discard the working copy; the published item stays as it is."""
    copy = _copy_of(item)
    item.working_copy = None
    return copy


def _copy_of(item):
    if item.working_copy is None:
        raise WorkingCopyError('the item has no working copy')
    return item.working_copy
