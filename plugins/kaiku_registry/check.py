"""The registry's own check: every derived structure recounted from the primary records.

The primary records are the cards (``CardRegistry.cards``) and the visits (``CardRegistry.visits``);
everything
else is derived from them and kept up to date by the model's write methods: the code and site indexes
of cards, the card count, each card's visit list and number of uses, the visits by site and day, the
visit count, the statistics tallies and the open-card tallies.  :func:`check` recounts each of them from
the records and reports every difference as a :class:`Difference`; with ``repair=True`` it also makes
the stored structure equal to the recount, through the same tallies and BTrees the write paths use.

Two limits come from what the registry keeps on purpose:

* Retention (:meth:`CardRegistry.apply_retention`) deletes old visits and cards but keeps their counts, so
  the statistics are recounted only from the first month retention keeps (``since``); the months before
  it are checked only against each other (every slice family must hold the same counts).
* An erasure (:meth:`CardRegistry.erase_card`) deletes cards but keeps their counts: those are added
  to the recount, and an erased card's visits stay, linked to no card.
* Counts are kept under the place a site had when they were made; the recount uses each site's place
  now, so a site that moved shows its earlier counts as differences (and repair moves them).

Run by ``kaiku-registry <ini> check [--repair]``; nothing here sees a request.
"""

import dataclasses
from collections import Counter, defaultdict

from BTrees.LLBTree import LLTreeSet

from kaiku_registry.models import SLICES, Tally, month_of, site_time_key, slice_keys
from kaiku_registry.records import ERASED_CARD
from kaiku_registry.statistics import ShardedTally


@dataclasses.dataclass(frozen=True)
class Difference:
    """One structure that does not match the records: what it holds and what the records say."""

    structure: str
    key: object
    stored: object
    expected: object

    def __str__(self):
        return f'{self.structure} {self.key!r}: stored {self.stored!r}, expected {self.expected!r}'


def check(registry, since=None, repair=False):
    """Every difference between the registry's derived structures and its records (see the module
    docstring); with ``repair`` each is also fixed.  ``since`` is the first day whose statistics can be
    recounted (the retention cutoff), None for all."""
    found = []
    since_month = month_of(since) if since is not None else ''
    for part in (_cards, _visits, _uses, _statistics_families, _statistics, _open_cards):
        found.extend(part(registry, since_month, repair))
    return found


def _compare_mappings(structure, stored, expected):
    """Differences between two plain mappings (absent and empty are the same)."""
    return [
        Difference(structure, key, stored.get(key), expected.get(key))
        for key in sorted(stored.keys() | expected.keys(), key=repr)
        if (stored.get(key) or None) != (expected.get(key) or None)
    ]


def _cards(registry, _since_month, repair):
    found = []
    expected = {card.code: card.id for card in registry.cards.values()}
    differences = _compare_mappings('card_ids_by_code', dict(registry.card_ids_by_code.items()), expected)
    for difference in differences:
        if repair:
            if difference.expected is None:
                del registry.card_ids_by_code[difference.key]
            else:
                registry.card_ids_by_code[difference.key] = difference.expected
    found += differences

    by_site = defaultdict(set)
    for card in registry.cards.values():
        by_site[card.site_id].add(card.id)
    stored = {site_id: set(ids) for site_id, ids in registry.card_ids_by_site.items()}
    found += _fix_sets('card_ids_by_site', registry.card_ids_by_site, stored, by_site, repair)

    found += _fix_length('card_count', registry.card_count, len(registry.cards), repair)
    return found


def _fix_sets(structure, tree, stored, expected, repair, every=False):
    """Compare ``key → set of ids``; repair adds and removes ids in the stored sets.  With ``every``, each
    key of ``expected`` has a set, an empty one too, and no other key has one (a card's visit set is made
    when the card is issued); without it, absent and empty are the same."""
    if every:
        differences = [
            Difference(structure, key, stored.get(key), expected.get(key))
            for key in sorted(stored.keys() | expected.keys(), key=repr)
            if stored.get(key) != expected.get(key)
        ]
    else:
        differences = _compare_mappings(structure, stored, expected)
    for difference in differences:
        if not repair:
            continue
        want = difference.expected or set()
        ids = tree.get(difference.key)
        if difference.expected is None or not (want or every):
            tree.pop(difference.key, None)
            continue
        if ids is None:
            ids = tree[difference.key] = LLTreeSet()
        for extra in set(ids) - want:
            ids.remove(extra)
        ids.update(want - set(ids))
    return differences


def _fix_length(structure, length, expected, repair):
    if length() == expected:
        return []
    if repair:
        length.change(expected - length())
    return [Difference(structure, None, length(), expected)]


def _visits(registry, _since_month, repair):
    found = []
    by_card = {card_id: set() for card_id in registry.cards}
    keys = set()
    for visit in registry.visits.values():
        if visit.card_id != ERASED_CARD:
            by_card.setdefault(visit.card_id, set()).add(visit.id)
        keys.add(site_time_key(visit))
    stored = {card_id: set(ids) for card_id, ids in registry.visit_ids_by_card.items()}
    found += _fix_sets('visit_ids_by_card', registry.visit_ids_by_card, stored, by_card, repair, every=True)

    stored_keys = set(registry.visits_by_site_time)
    for key in sorted(keys - stored_keys):
        found.append(Difference('visits_by_site_time', key, None, True))
        if repair:
            registry.visits_by_site_time.add(key)
    for key in sorted(stored_keys - keys):
        found.append(Difference('visits_by_site_time', key, True, None))
        if repair:
            registry.visits_by_site_time.remove(key)

    found += _fix_length('visit_count', registry.visit_count, len(registry.visits), repair)
    return found


def _uses(registry, since_month, repair):
    """A card issued within the recounted months has as many uses as visits not undone, and a first
    use exactly when it has uses (older cards may have lost visits to retention)."""
    counted = Counter(visit.card_id for visit in registry.visits.values() if not visit.undone)
    found = []
    for card in registry.cards.values():
        if month_of(card.valid_from) >= since_month and card.uses != counted[card.id]:
            found.append(Difference('card.uses', card.id, card.uses, counted[card.id]))
            if repair:
                card.uses = counted[card.id]
        if (card.first_use is None) != (card.uses == 0):
            found.append(Difference('card.first_use', card.id, card.first_use, 'set' if card.uses else None))
    return found


def _recount(registry, since_month):
    """``(measure, month, municipality, region, site id, sector) → count`` from the records, for the
    months from ``since_month`` on, with each site's place now."""
    sites = registry.sites
    replacements = {card.replaced_by for card in registry.cards.values() if card.replaced_by}
    counts = Counter()
    for card in registry.cards.values():
        issuer = sites.get(card.site_id)
        region = issuer.region if issuer else ''
        month = month_of(card.valid_from)
        if card.id not in replacements and month >= since_month:
            counts[('cards', month, card.municipality, region, card.site_id, '')] += 1
        if card.first_use is not None and month_of(card.first_use) >= since_month:
            counts[('activated', month_of(card.first_use), card.municipality, region, card.site_id, '')] += 1
    for visit in registry.visits.values():
        month = month_of(visit.date)
        if visit.undone or month < since_month:
            continue
        site = sites.get(visit.site_id)
        place = (site.municipality, site.region) if site else ('', '')
        if visit.group:
            counts[('community_uses', month, *place, visit.site_id, visit.sector)] += visit.adults
            counts[('community_clients', month, *place, visit.site_id, visit.sector)] += visit.group
            continue
        counts[('adult_uses', month, *place, visit.site_id, visit.sector)] += visit.adults
        if visit.children:
            counts[('child_uses', month, *place, visit.site_id, visit.sector)] += visit.children
    for key, count in registry.erased_counts():
        if key[1] >= since_month:
            counts[key] += count
    return counts


def _stored_site_months(registry):
    """The same shape as :func:`_recount`, read from the finest statistics family."""
    counts = Counter()
    for key, tally in registry.tallies.items(('site-month',), ('site-month', '\uffff')):
        _family, region, municipality, site_id, month = key
        for (measure, sector), count in tally.items():
            counts[(measure, month, municipality, region, site_id, sector)] += count
    return counts


def _statistics(registry, since_month, repair):
    """The finest statistics (site and month) against a recount of the records."""
    stored = _stored_site_months(registry)
    stored = Counter({key: count for key, count in stored.items() if key[1] >= since_month})
    found = _compare_mappings('tallies', dict(stored), dict(_recount(registry, since_month)))
    if repair:
        for difference in found:
            registry._count(difference.key, (difference.expected or 0) - (difference.stored or 0))
    return found


def _statistics_families(registry, _since_month, repair):
    """Every slice family holds the same counts as the finest one (site and month), for all months."""
    expected = defaultdict(Counter)
    for stored_key, count in _stored_site_months(registry).items():
        measure, month, municipality, region, site_id, sector = stored_key
        for key in slice_keys(month, municipality, region, site_id):
            expected[key][(measure, sector)] += count
    finest = SLICES[-1][0]
    stored = {key: dict(tally.items()) for key, tally in registry.tallies.items() if key[0] != finest}
    wanted = {key: {entry: n for entry, n in counts.items() if n} for key, counts in expected.items()}
    wanted = {key: counts for key, counts in wanted.items() if key[0] != finest}
    found = _compare_mappings('tallies', stored, wanted)
    if repair:
        for difference in found:
            _set_tally(registry.tallies, difference.key, difference.expected, ShardedTally)
    return found


def _open_cards(registry, _since_month, repair):
    """The open-card tallies against the cards that are not closed (retention keeps them exact)."""
    expected = defaultdict(Counter)
    for card in registry.cards.values():
        if not card.closed_reason:
            for key in registry._expiry_keys(card.site_id, card.valid_until):
                expected[key][card.valid_until] += 1
    stored = {key: dict(tally.items()) for key, tally in registry.open_tallies.items()}
    found = _compare_mappings('open_tallies', stored, {key: dict(c) for key, c in expected.items()})
    if repair:
        for difference in found:
            _set_tally(registry.open_tallies, difference.key, difference.expected, Tally)
    return found


def _set_tally(tree, key, counts, kind):
    if not counts:
        tree.pop(key, None)
        return
    tally = tree.get(key)
    if tally is None:
        tally = tree[key] = kind()
    tally.set_counts(counts)
