"""The registry's running statistics: :class:`Tally`, the slices every count goes to, and the methods of
the registry that count and read counts (:class:`Statistics`, mixed into
:class:`~kaiku_registry.registry.CardRegistry`).

Statistics are kept as running aggregates updated with each card and each visit (and taken back when a
visit is undone), so a report reads a few small counters instead of scanning millions of visits.  Each
count is kept at once in the eight *slices* of :data:`SLICES` (the whole registry, a region, a
municipality and a site, each in total and per month), every slice a :class:`Tally` of
``(measure, sector) → count``; a report reads the one slice family that holds the dimensions it groups by
(see :meth:`Statistics.counts`).  Open cards are counted the same way by their last day of validity
(``CardRegistry.open_tallies``), so "valid now" and "expiring soon" read a dozen small objects.

Every visit of a site changes the same eight slices, so each slice of the statistics is a
:class:`ShardedTally`: :data:`SHARDS` tallies of which a visit changes one, read as their sum.  The
shard is the writer's own (:func:`writer_shard`: each database connection of a process keeps to one
shard), so two visits recorded at once change the same rows only when their connections share a shard
(on RelStorage, which locks every changed row through PostgreSQL's commit, they do not commit one after
another; on ZEO they resolve fewer conflicts), and a connection finds the shards it changes still in its
cache (a shard per visit had a visit's eight tallies loaded again nearly every time).  The registry's
visit count is sharded the same way (:class:`ShardedLength`).
"""

import random
import threading
import weakref

from BTrees.Length import Length
from persistent import Persistent

from kaiku_registry.records import month_of


class Tally(Persistent):
    """A few running counts (``key → int``) kept as one small persistent object.

    Two transactions that change the same tally at once both win: :meth:`_p_resolveConflict` adds the
    changes each made to the counts they started from, as ``BTrees.Length`` does for a single count.
    Zero counts are dropped, so a tally holds only what happened.
    """

    def __init__(self):
        self.counts = {}

    def add(self, key, delta, shard=None):
        """Add ``delta`` to the count of ``key`` (a plain tally is its own one shard)."""
        if delta:
            _add_to(self.counts, key, delta)
            self._p_changed = True

    def get(self, key, default=0):
        return self.counts.get(key, default)

    def items(self):
        return self.counts.items()

    def set_counts(self, counts):
        """Make the counts ``counts`` (a repair)."""
        self.counts = {key: count for key, count in counts.items() if count}
        self._p_changed = True

    def _p_resolveConflict(self, old, committed, new):
        counts = dict(committed['counts'])
        before, after = old['counts'], new['counts']
        for key in before.keys() | after.keys():
            _add_to(counts, key, after.get(key, 0) - before.get(key, 0))
        return {**committed, 'counts': counts}


#: Shards of a sharded tally or count (shape 8; 8 before, which two processes' connections all shared,
#: each reloading the other's): a read loads this many (see the README's operations notes for figures).
SHARDS = 32


def shard_of(number, shards=SHARDS):
    """The shard of ``shards`` a write keyed by ``number`` goes to; None picks one at random."""
    return (random.randrange(shards) if number is None else number) % shards  # noqa: S311 - no secret


#: Each live connection's shard (:func:`writer_shard`): the first free one from the process's random
#: start, so that processes seldom share one and a connection made anew takes one let go.
_writer_shards = weakref.WeakKeyDictionary()
_start = random.randrange(SHARDS)  # noqa: S311 - no secret
_dealing = threading.Lock()


def writer_shard(obj, shards=SHARDS):
    """The shard of ``shards`` the writes of the database connection that ``obj`` was loaded in go to,
    the same for every transaction of that connection; a random one for an object not in a database yet."""
    jar = getattr(obj, '_p_jar', None)
    if jar is None:
        return shard_of(None, shards)
    shard = _writer_shards.get(jar)
    if shard is None:
        with _dealing:
            taken = set(_writer_shards.values())
            free = (n % SHARDS for n in range(_start, _start + SHARDS) if n % SHARDS not in taken)
            shard = _writer_shards.setdefault(jar, next(free, len(taken) % SHARDS))
    return shard % shards


class ShardedTally(Persistent):
    """The counts of one statistics slice as :data:`SHARDS` :class:`Tally` objects: :meth:`add` changes
    one of them, and reads add them up.  This object is written only when made (or grown: shape 8), so
    concurrent writers only read it (without ``readCurrent``).  It answers as a :class:`Tally` does."""

    def __init__(self, first=None):
        #: A tally stored by older code becomes the first shard as it is, keeping its counts.
        self.shards = (first if first is not None else Tally(), *(Tally() for _ in range(SHARDS - 1)))

    def add(self, key, delta, shard=None):
        """Add to the count of ``key`` in the shard of ``shard`` (a number; None: the writer's own)."""
        index = _pick(self, shard)  # before self.shards is read: it may grow them
        self.shards[index].add(key, delta)

    @property
    def counts(self):
        counts = {}
        for tally in self.shards:
            for key, count in tally.counts.items():
                _add_to(counts, key, count)
        return counts

    def get(self, key, default=0):
        return self.counts.get(key, default)

    def items(self):
        return self.counts.items()

    def set_counts(self, counts):
        """Make the counts ``counts`` (a repair): the first shard holds them, the others none."""
        self.shards[0].set_counts(counts)
        for tally in self.shards[1:]:
            if tally.counts:
                tally.set_counts({})

    def grow(self):
        """Give a tally of fewer shards the missing ones, empty (when next written: see shape 8)."""
        if len(self.shards) < SHARDS:
            self.shards = (*self.shards, *(Tally() for _ in range(SHARDS - len(self.shards))))


class ShardedLength(Persistent):
    """A count kept as :data:`SHARDS` ``BTrees.Length`` objects, read as their sum; it answers as a
    ``Length`` does (``count()``, ``change(delta)``), a change going to one shard."""

    def __init__(self, value=0):
        self.shards = tuple(Length(value if i == 0 else 0) for i in range(SHARDS))

    def __call__(self):
        return sum(length() for length in self.shards)

    def change(self, delta, shard=None):
        index = _pick(self, shard)  # before self.shards is read: it may grow them
        self.shards[index].change(delta)

    def grow(self):
        """Give a count stored with fewer than :data:`SHARDS` shards the missing ones (empty)."""
        if len(self.shards) < SHARDS:
            self.shards = (*self.shards, *(Length(0) for _ in range(SHARDS - len(self.shards))))


def _pick(sharded, shard):
    """The index of the shard a change of ``sharded`` goes to; one stored with fewer shards grows first."""
    sharded.grow()
    count = len(sharded.shards)
    return writer_shard(sharded, count) if shard is None else shard_of(shard, count)


def _add_to(counts, key, delta):
    total = counts.get(key, 0) + delta
    if total:
        counts[key] = total
    else:
        counts.pop(key, None)


#: The statistics slices: a family name and the dimensions its keys hold after the name, in order.  A
#: count is added to one slice of every family, so each family alone holds every count.
SLICES = (
    ('all', ()),
    ('all-month', ('month',)),
    ('region', ('region',)),
    ('region-month', ('region', 'month')),
    ('area', ('region', 'municipality')),
    ('area-month', ('region', 'municipality', 'month')),
    ('site', ('region', 'municipality', 'site')),
    ('site-month', ('region', 'municipality', 'site', 'month')),
)
DIMENSIONS = ('month', 'municipality', 'region', 'site', 'sector')
#: The greatest string a name may sort below, for range reads over one prefix.
HIGHEST = '\uffff'


def slice_keys(month, municipality, region, site_id):
    """The key of every slice (see :data:`SLICES`) a count of these dimensions goes to."""
    return (
        ('all',),
        ('all-month', month),
        ('region', region),
        ('region-month', region, month),
        ('area', region, municipality),
        ('area-month', region, municipality, month),
        ('site', region, municipality, site_id),
        ('site-month', region, municipality, site_id, month),
    )


def with_prefix(tree, prefix):
    """``(key, value)`` of the tuple keys of ``tree`` that begin with ``prefix``.

    The upper bound is the prefix with its last item's successor (a string followed by NUL, an int
    plus one), so that the bound is never compared with an item of another type.
    """
    last = prefix[-1]
    upper = (*prefix[:-1], last + '\0' if isinstance(last, str) else last + 1)
    return tree.items(prefix, upper, excludemax=True)


def slice_family(dimensions):
    """The smallest slice family whose keys hold all of ``dimensions`` (sector lives inside a tally)."""
    wanted = set(dimensions) - {'sector'}
    for family, names in SLICES:
        if wanted <= set(names):
            return family, names
    raise ValueError(f'unknown dimensions {sorted(wanted)}')


class Statistics:
    """The registry's counting and reading of counts; the registry's ``tallies`` and ``open_tallies``
    trees hold them, and :meth:`~kaiku_registry.registry.CardRegistry.bulk` defers them."""

    def _track_expiry(self, card, delta):
        bulk = self._v_bulk
        if bulk is not None:
            key = (card.site_id, card.valid_until)
            bulk.expiry[key] = bulk.expiry.get(key, 0) + delta
            return
        for key in self._expiry_keys(card.site_id, card.valid_until):
            self._tally(self.open_tallies, key, card.valid_until, delta)

    def _expiry_keys(self, site_id, day):
        """The keys of the open-card tallies a card of ``site_id`` valid until ``day`` counts in."""
        issuer = self.sites.get(site_id)
        region, municipality = (issuer.region, issuer.municipality) if issuer else ('', '')
        month = month_of(day)
        return (
            ('all', month),
            ('area', region, municipality, month),
            ('site', region, municipality, site_id, month),
        )

    def open_cards(self, first_day, last_day=None, site_id=None, municipality=None, region=None):
        """How many open cards are valid until a day from ``first_day`` to ``last_day`` (inclusive),
        in the whole registry or of the issuing sites of an area or of one issuing site."""
        return sum(
            count for _key, count in self._open_counts(first_day, last_day, site_id, municipality, region)
        )

    def open_cards_by_site(self, first_day, last_day=None, municipality=None, region=None):
        """``{site id: open cards valid until a day in the range}`` for the issuing sites of an area."""
        totals = {}
        for key, count in self._open_counts(first_day, last_day, None, municipality, region, by_site=True):
            totals[key[3]] = totals.get(key[3], 0) + count
        return {site_id: count for site_id, count in totals.items() if count}

    def _open_counts(self, first_day, last_day, site_id, municipality, region, by_site=False):
        """``(key, count)`` of the open-card tallies that match, counting only days in the range."""
        first, last = month_of(first_day), month_of(last_day) if last_day else HIGHEST
        if site_id is not None or by_site:
            family = ('site',)
        elif municipality is not None or region is not None:
            family = ('area',)
        else:
            family = ('all',)
        prefix = family
        if family != ('all',) and region is not None:
            prefix = (*family, region) if municipality is None else (*family, region, municipality)
            if site_id is not None and municipality is not None:
                prefix = (*prefix, site_id)
        if len(prefix) == {'all': 1, 'area': 3, 'site': 4}[family[0]]:
            # the whole key but the month is known: read only the months asked for
            found = self.open_tallies.items((*prefix, first), (*prefix, last))
        else:
            found = with_prefix(self.open_tallies, prefix)
        for key, tally in found:
            if not first <= key[-1] <= last:
                continue
            if family != ('all',) and (
                (region is not None and key[1] != region)
                or (municipality is not None and key[2] != municipality)
                or (site_id is not None and key[3] != site_id)
            ):
                continue
            for day, count in tally.items():
                if first_day <= day and (last_day is None or day <= last_day):
                    yield key, count

    def _activation_key(self, card, day):
        issuer = self.sites.get(card.site_id)
        return (
            'activated',
            month_of(day),
            card.municipality,
            issuer.region if issuer else '',
            card.site_id,
            '',
        )

    def _count_visit(self, visit, site, sign):
        month = month_of(visit.date)
        base = (month, site.municipality, site.region, site.id, visit.sector)
        if visit.group:
            # A community card's use is counted apart: its staff member's ticket and the group's clients.
            self._count(('community_uses', *base), sign * visit.adults)
            self._count(('community_clients', *base), sign * visit.group)
            return
        self._count(('adult_uses', *base), sign * visit.adults)
        if visit.children:
            self._count(('child_uses', *base), sign * visit.children)

    def _count(self, key, delta):
        """Add ``delta`` to the count of ``key`` = ``(measure, month, municipality, region, site id,
        sector)`` in every slice, in the writer's own shard (:func:`writer_shard`)."""
        bulk = self._v_bulk
        if bulk is not None:
            bulk.counts[key] = bulk.counts.get(key, 0) + delta
            return
        measure, month, municipality, region, site_id, sector = key
        for slice_key in slice_keys(month, municipality, region, site_id):
            self._tally(self.tallies, slice_key, (measure, sector), delta)

    def _tally(self, tree, key, entry, delta):
        """Add ``delta`` to ``entry`` of the tally of ``key`` in ``tree``: a :class:`ShardedTally` in the
        statistics (``tallies``), a :class:`Tally` in the open-card tallies."""
        tally = tree.get(key)
        if tally is None:
            tally = tree[key] = ShardedTally() if tree is self.tallies else Tally()
        tally.add(entry, delta)

    def counts(self, by=(), **match):
        """``(key, tally)`` of the statistics slices that hold the counts matching ``match`` (month,
        municipality, region, site), from the smallest slice family that holds ``by`` and ``match``.

        The names in a key are those of :data:`SLICES` for the family; a caller adds up the tallies'
        ``(measure, sector)`` counts.
        """
        family, names = slice_family([*by, *match])
        if 'site' in match and ('region' not in match or 'municipality' not in match):
            # A site's counts lie under the area (or areas) they were made in: read each by its prefix.
            return [
                pair
                for region, municipality in self._areas_of_site(match['site'])
                if match.get('region', region) == region
                and match.get('municipality', municipality) == municipality
                for pair in self.counts(by, **{**match, 'region': region, 'municipality': municipality})
            ]
        if 'municipality' in match and 'region' not in match:
            # A municipality lies in a region or two: read each one's slices by their key prefix.
            return [
                pair
                for region in self._regions_of(match['municipality'])
                for pair in self.counts(by, **match, region=region)
            ]
        prefix = [family]
        for name in names:
            if name not in match:
                break
            prefix.append(match[name])
        checks = [(i + 1, match[name]) for i, name in enumerate(names) if name in match]
        prefix = tuple(prefix)
        if len(prefix) == len(names) + 1:
            tally = self.tallies.get(prefix)
            return [(prefix, tally)] if tally is not None else []
        return [
            (key, tally)
            for key, tally in with_prefix(self.tallies, prefix)
            if len(key) == len(names) + 1 and all(key[i] == wanted for i, wanted in checks)
        ]

    def _areas_of_site(self, site_id):
        """The (region, municipality) pairs counts of ``site_id`` were made in (from its slices' keys)."""
        return sorted(
            {(key[1], key[2]) for key, _tally in with_prefix(self.tallies, ('site',)) if key[3] == site_id}
        )

    def _regions_of(self, municipality):
        """The regions counts of ``municipality`` were made in (read from the keys of its slices)."""
        return sorted(
            {key[1] for key in self.tallies.keys(('area',), ('area', HIGHEST)) if key[2] == municipality}
        )

    def totals(self, measure, **match):
        """Sum the counts of ``measure``, filtered by month, municipality, region, site or sector."""
        sector = match.pop('sector', None)
        return sum(
            count
            for _key, tally in self.counts(**match)
            for (name, in_sector), count in tally.items()
            if name == measure and (sector is None or in_sector == sector)
        )
