"""The registry's visits (:attr:`CardRegistry.visits`): :class:`ShardedVisits`, one mapping of visit id to
visit kept as :data:`VISIT_SHARDS` trees."""

import itertools

from persistent import Persistent

from kaiku_registry.records import VisitTree

#: How many trees hold the visits.  Two visits recorded at once go into one tree one time in this many;
#: a read by id loads one tree's path, and a count or a walk of every visit loads all of them.
VISIT_SHARDS = 64


class VisitShard(VisitTree):
    """One tree of :class:`ShardedVisits`, whose buckets hold at most 16 visits instead of 60.

    A visit is a plain object inside its bucket, so recording one pickles (and every other connection
    that reads the bucket next unpickles) all the visits of its bucket: about 9 µs each here, 0.4 ms for
    the 45 of an average bucket of 60, 0.1 ms for the 12 of one of 16.  Smaller buckets split more often
    (a split changes the parent node), which conflicts only with a visit added under the same parent of
    the same shard.
    """

    max_leaf_size = 16


class ShardedVisits(Persistent):
    """Every visit by its id, in :data:`VISIT_SHARDS` :class:`VisitShard` trees, the visit id modulo
    :data:`VISIT_SHARDS` choosing the tree.  It answers as the one tree of shapes 1 to 6 did (``get``,
    ``[]``, ``in``, ``del``, ``pop``, ``keys``, ``values``, ``items``, iteration, ``len``), walking the
    trees one after another: keys are in order within a tree, not across trees.

    Adding a key to a BTree marks every inner node on its way as read (``readCurrent``), and a bucket that
    splits changes its parent; while the registry is young that parent is the tree's root, so with one
    tree every visit recorded while another one split a bucket conflicted (on RelStorage the root's row
    lock could not be taken; on ZEO the root had changed since it was read).  Across many trees two visits
    at once share a tree, and so a root, only one time in :data:`VISIT_SHARDS`.  This object itself is
    written only when it is made, so concurrent writers only read it.
    """

    def __init__(self, visits=()):
        self.shards = tuple(VisitShard() for _ in range(VISIT_SHARDS))
        for visit_id, visit in visits:
            self[visit_id] = visit

    def _shard(self, visit_id):
        return self.shards[visit_id % VISIT_SHARDS]

    def get(self, visit_id, default=None):
        if not isinstance(visit_id, int):
            return default
        return self._shard(visit_id).get(visit_id, default)

    def __getitem__(self, visit_id):
        return self._shard(visit_id)[visit_id]

    def __setitem__(self, visit_id, visit):
        self._shard(visit_id)[visit_id] = visit

    def __delitem__(self, visit_id):
        del self._shard(visit_id)[visit_id]

    def pop(self, visit_id, *default):
        return self._shard(visit_id).pop(visit_id, *default)

    def __contains__(self, visit_id):
        return isinstance(visit_id, int) and visit_id in self._shard(visit_id)

    def keys(self):
        return itertools.chain.from_iterable(shard.keys() for shard in self.shards)

    def values(self):
        return itertools.chain.from_iterable(shard.values() for shard in self.shards)

    def items(self):
        return itertools.chain.from_iterable(shard.items() for shard in self.shards)

    def __iter__(self):
        return self.keys()

    def __len__(self):
        return sum(len(shard) for shard in self.shards)

    def __bool__(self):
        return any(self.shards)
