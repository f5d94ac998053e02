"""Loading many records at once: the state of :meth:`~kaiku_registry.registry.CardRegistry.bulk`."""

from kaiku_registry.records import new_id
from kaiku_registry.statistics import ShardedTally, Tally, slice_keys


class Bulk:
    """The state of :meth:`CardRegistry.bulk`: pending count changes and the next id of each tree."""

    def __init__(self, registry):
        self.registry = registry
        self.counts = {}  # (measure, month, municipality, region, site id, sector) → change
        self.expiry = {}  # (issuing site id, last day of validity) → change
        self.next_ids = {}

    def new_id(self, tree):
        candidate = self.next_ids.get(id(tree))
        if candidate is None or candidate >= 2**62 or candidate in tree:
            candidate = (new_id(tree) >> 1) + 1  # a random start, with room to count up from it
            while candidate in tree:
                candidate = (new_id(tree) >> 1) + 1
        self.next_ids[id(tree)] = candidate + 1
        return candidate

    def flush(self):
        """Apply the pending changes to the tallies, one change per tally and entry."""
        registry = self.registry
        changes = {}
        for key, delta in self.counts.items():
            measure, month, municipality, region, site_id, sector = key
            for slice_key in slice_keys(month, municipality, region, site_id):
                entries = changes.setdefault((True, slice_key), {})
                entries[(measure, sector)] = entries.get((measure, sector), 0) + delta
        for (site_id, day), delta in self.expiry.items():
            for key in registry._expiry_keys(site_id, day):
                entries = changes.setdefault((False, key), {})
                entries[day] = entries.get(day, 0) + delta
        self.counts, self.expiry = {}, {}
        for (statistics, key), entries in sorted(changes.items(), key=lambda item: item[0][1]):
            tree = registry.tallies if statistics else registry.open_tallies
            tally = tree.get(key)
            for entry, delta in entries.items():
                if delta:
                    if tally is None:
                        tally = tree[key] = ShardedTally() if statistics else Tally()
                    tally.add(entry, delta, 0)  # one shard: a load changes few objects

    def __enter__(self):
        if self.registry._v_bulk is not None:
            raise RuntimeError('bulk() does not nest')
        self.registry._v_bulk = self
        return self

    def __exit__(self, *exc):
        self.registry._v_bulk = None
        if exc[0] is None:
            self.flush()
