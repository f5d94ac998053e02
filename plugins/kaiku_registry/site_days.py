"""The door's list of a site's visits (:attr:`CardRegistry.visits_by_site_time`): :class:`SiteDays`."""

from BTrees.LLBTree import LLSet
from BTrees.OOBTree import OOBTree
from persistent import Persistent


class SiteDays(Persistent):
    """Every visit as ``(site id, day recorded (UTC), visit id)``, kept as one small set of visit ids per
    site and day (``days``: ``(site id, day) → LLSet``), so that a site's latest visits are the sets of a
    day or two.

    A site's visits of one day all go into that day's set, a single ``LLSet`` bucket that never splits:
    concurrent visits change only that bucket, whose conflicts ZODB resolves by merging the ids each
    added, and no writer marks an inner node of a shared tree as read (``readCurrent``), as inserts into
    one big tree of keys did (:class:`~kaiku_registry.records.SiteTimeSet`, shapes 4 and 5): on RelStorage
    a bucket split there took an exclusive lock on a node every other writer held a shared lock on, and
    under load they deadlocked for PostgreSQL's ``deadlock_timeout``.  The tree of days changes only at a
    site's first visit of a day.  It answers as a set of its keys does (``add``, ``discard``, ``remove``,
    ``in``, ``keys`` and iteration in order, ``len``).
    """

    def __init__(self, keys=()):
        self.days = OOBTree()
        for key in keys:
            self.add(key)

    def add(self, key):
        site_id, day, visit_id = key
        ids = self.days.get((site_id, day))
        if ids is None:
            ids = self.days[(site_id, day)] = LLSet()
        ids.add(visit_id)

    def discard(self, key):
        site_id, day, visit_id = key
        ids = self.days.get((site_id, day))
        if ids is not None and visit_id in ids:
            if len(ids) == 1:
                del self.days[(site_id, day)]
            else:
                ids.remove(visit_id)

    def remove(self, key):
        if key not in self:
            raise KeyError(key)
        self.discard(key)

    def __contains__(self, key):
        site_id, day, visit_id = key
        ids = self.days.get((site_id, day))
        return ids is not None and visit_id in ids

    def __iter__(self):
        for (site_id, day), ids in self.days.items():
            for visit_id in ids:
                yield (site_id, day, visit_id)

    def keys(self):
        return iter(self)

    def __len__(self):
        return sum(len(ids) for ids in self.days.values())

    def visit_ids(self, site_id, first_day):
        """The ids of the visits ``site_id`` recorded on ``first_day`` (UTC) or later."""
        for _key, ids in self.days.items((site_id, first_day), (site_id + 1,), excludemax=True):
            yield from ids
