"""The door's list of a site's visits (:attr:`CardRegistry.visits_by_site_time`): :class:`SiteDays`."""

from BTrees.LLBTree import LLSet
from BTrees.OOBTree import OOBTree
from persistent import Persistent

from kaiku_registry.statistics import shard_of

#: How many sets a site's day is kept in (a visit's set is its id modulo this: stored keys depend on it).
DAY_SHARDS = 8


class SiteDays(Persistent):
    """Every visit as ``(site id, day recorded (UTC), visit id)``, kept as small sets of visit ids per
    site and day (``days``: ``(site id, day, shard) → LLSet``, the shard the visit's random id modulo
    :data:`DAY_SHARDS`), so that a site's latest visits are the sets of a day or
    two.

    A visit goes into one set of its site's day, a single ``LLSet`` bucket that never splits: two visits
    recorded at once change the same set only when their ids fall in the same shard, and then ZODB merges
    the ids each added; no writer marks an inner node of a shared tree as read (``readCurrent``), as
    inserts into one big tree of keys did (:class:`~kaiku_registry.records.SiteTimeSet`, shapes 4 and
    5): on RelStorage a bucket split there took an exclusive lock on a node every other writer held a
    shared lock on, and under load they deadlocked for PostgreSQL's ``deadlock_timeout``; and with one
    set per day, every visit of a site would lock the same row through the commit.  The tree of sets
    changes only at a site's first visit of a day, which makes all its sets.  It answers as a set of its
    keys does (``add``, ``discard``, ``remove``, ``in``, ``keys`` and iteration, ``len``).
    """

    def __init__(self, keys=()):
        self.days = OOBTree()
        for key in keys:
            self.add(key)

    @staticmethod
    def _set_key(key):
        site_id, day, visit_id = key
        return (site_id, day, shard_of(visit_id, DAY_SHARDS))

    def add(self, key):
        set_key = self._set_key(key)
        ids = self.days.get(set_key)
        if ids is None:
            # The site's first visit of the day makes all the day's sets, so that two visits at once
            # never both make one set (an insert of the same key, which ZODB cannot merge).
            for shard in range(DAY_SHARDS):
                self.days.setdefault((key[0], key[1], shard), LLSet())
            ids = self.days[set_key]
        ids.add(key[2])

    def discard(self, key):
        """Take ``key`` away (a retention); the day's sets go when they are all empty."""
        ids = self.days.get(self._set_key(key))
        if ids is None or key[2] not in ids:
            return
        ids.remove(key[2])
        day = list(self.days.items((key[0], key[1], 0), (key[0], key[1], DAY_SHARDS)))
        if not any(len(other) for _set_key, other in day):
            for set_key, _ids in day:
                del self.days[set_key]

    def remove(self, key):
        if key not in self:
            raise KeyError(key)
        self.discard(key)

    def __contains__(self, key):
        ids = self.days.get(self._set_key(key))
        return ids is not None and key[2] in ids

    def __iter__(self):
        """The keys by site and day (a day's visits in the order of their shards)."""
        for (site_id, day, _shard), ids in self.days.items():
            for visit_id in ids:
                yield (site_id, day, visit_id)

    def keys(self):
        return iter(self)

    def __len__(self):
        return sum(len(ids) for ids in self.days.values())

    def visit_ids(self, site_id, first_day):
        """The ids of the visits ``site_id`` recorded on ``first_day`` (UTC) or later."""
        for _key, ids in self.days.items((site_id, first_day, 0), (site_id + 1,), excludemax=True):
            yield from ids
