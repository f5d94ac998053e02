"""Facet counts: how many of a result's hits have each value of an index, remembered per application.

Counts of queries without text are remembered under a key holding the catalog's change counter
(:meth:`~portal.catalog.indexes.SiteCatalog.generation`), which any change in any process moves on.
The cache lives on the application registry (:func:`facet_cache`), like the page cache, so two
applications in one process (tests, the benchmark) never share counts.
"""

import threading
from collections import OrderedDict

from BTrees import family64
from hypatia.keyword import KeywordIndex

IF = family64.IF

#: Facet counting reads each hit's values, unless there are more hits than this and the index has at
#: most ``FACET_INTERSECT_MAX_VALUES`` values: then one set intersection a value is cheaper.
FACET_SCAN_LIMIT = 5000
FACET_INTERSECT_MAX_VALUES = 40
#: How many facet counts of queries without text are remembered per application.
FACET_CACHE_SIZE = 512
#: A value's set is probed for each hit when it is at least this many times bigger than the hits.
PROBE_RATIO = 16


class LRUCache:
    """Values remembered in memory, least recently used out first, safe to share between threads.
    Keys that hold the catalog's generation (:meth:`SiteCatalog.generation`) become unreachable when
    anything changes, in any process.  A size of 0 remembers nothing."""

    def __init__(self, size):
        self.size = size
        self.entries = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            value = self.entries.get(key)
            if value is not None:
                self.entries.move_to_end(key)
            return value

    def put(self, key, value):
        if not self.size:
            return
        with self.lock:
            self.entries[key] = value
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)

    def clear(self):
        with self.lock:
            self.entries.clear()


def facet_cache(registry):
    """The application's facet count cache, made on first use."""
    cache = registry.__dict__.get('portal_facet_cache')
    if cache is None:
        cache = registry.__dict__.setdefault('portal_facet_cache', LRUCache(FACET_CACHE_SIZE))
    return cache


def facet_counts(catalog, name, hits, key=None, cache=None):
    """``{value: count}`` of the values of index ``name`` among ``hits``, or None when counting would
    take too long: more than ``FACET_SCAN_LIMIT`` hits and more than ``FACET_INTERSECT_MAX_VALUES``
    values (municipalities before a region is chosen).  With ``key`` (a result's ``facet_key``) and a
    ``cache`` (:func:`facet_cache`) the counts are remembered and reused until the catalog changes; the
    caller must not change them."""
    if key is not None and cache is not None:
        cached = cache.get((key, name))
        if cached is not None:
            return cached
    counts = _count_facet(catalog[name], hits)
    if key is not None and cache is not None and counts is not None:
        cache.put((key, name), counts)
    return counts


def _count_facet(index, hits):
    """Counts by value among ``hits``.  A few hits of a field index are counted through its reverse map
    (docid → value).  A keyword index keeps each document's values as a persistent set of their own,
    which would load one object a hit, so its values are counted through its value sets instead, as
    are many hits."""
    counts = {}
    many_values = len(index._fwd_index) > FACET_INTERSECT_MAX_VALUES
    if many_values and len(hits) > FACET_SCAN_LIMIT:
        return None
    keyword = isinstance(index, KeywordIndex)
    if len(hits) <= FACET_SCAN_LIMIT and (many_values or not keyword):
        rev = index._rev_index
        for docid in hits:
            value = rev.get(docid)
            if value is None:
                continue
            for each in value if keyword else (value,):
                counts[each] = counts.get(each, 0) + 1
        return counts
    size = len(hits)
    for value, docids in index._fwd_index.items():
        if size * PROBE_RATIO < len(docids):
            count = sum(map(docids.__contains__, hits))
        else:
            count = len(IF.intersection(hits, docids))
        if count:
            counts[value] = count
    return counts
