"""Upgrades of a registry stored by older code to the shape this code writes (:class:`Shapes`, mixed into
:class:`~kaiku_registry.registry.CardRegistry`; run by the plugin's evolve steps when the application
starts)."""

import logging

from BTrees.Length import Length
from BTrees.LLBTree import LLTreeSet
from BTrees.OOBTree import OOBTree

from kaiku_registry.records import Card, area_place, site_time_key
from kaiku_registry.sharded_visits import ShardedVisits
from kaiku_registry.site_days import SiteDays
from kaiku_registry.statistics import ShardedLength, ShardedTally, Tally
from portal import places

log = logging.getLogger(__name__)

#: The shape of the stored registry this code writes (see :meth:`CardRegistry.upgrade`).
SHAPE = 8


class Shapes:
    """The registry's upgrades; ``shape`` is stored on the registry."""

    def needs_upgrade(self):
        return self.shape < SHAPE

    def upgrade(self):
        """Bring a registry stored by older code up to :data:`SHAPE`; returns whether anything changed.

        Shape 1 → 2: the Length counters under ``aggregates`` (keyed ``(measure, month, municipality,
        region, site id, sector)``) move into the statistics slices, and the open-card counters
        ``open_by_expiry`` / ``open_by_site_expiry`` into :attr:`open_tallies`.  Nothing is lost: the
        totals before and after are the same.

        Shape 2 → 3: places typed as free text become the municipality table's (:meth:`_settle_places`).

        Shape 3 → 4: :attr:`visits_by_site_time` is keyed by the day a visit was recorded instead of its
        time, and holds every visit (registries made before it existed held only later ones); it is
        made again from the visits.

        Shape 4 → 5: the card stock's trees (:mod:`kaiku_registry.stock`) are added, empty.

        Shape 5 → 6: concurrent visits commute: each statistics tally becomes a
        :class:`~kaiku_registry.statistics.ShardedTally` whose first shard is the stored tally, the visit
        count a :class:`~kaiku_registry.statistics.ShardedLength` of the same value, and
        :attr:`visits_by_site_time` a :class:`~kaiku_registry.site_days.SiteDays` made again from the
        visits (as shape 4 made it, for older registries too).

        Shape 6 → 7: concurrent visits insert no key into a shared tree: the visits move from one
        ``VisitTree`` into a :class:`~kaiku_registry.sharded_visits.ShardedVisits`, and every card without
        a visit set in :attr:`visit_ids_by_card` gets an empty one (a card has it from its issue on).

        Shape 7 → 8: the visit count grows from 8 shards to :data:`~kaiku_registry.statistics.SHARDS`,
        the new ones empty, so that the database connections of two app processes seldom write to one
        shard (see :func:`~kaiku_registry.statistics.writer_shard`); each statistics tally grows the same
        way when it is next written (most, of past months, are only read: growing them all here would
        make tens of objects a tally in one transaction).
        """
        if self.shape >= SHAPE:
            return False
        if self.shape < 2:
            self._move_counters()
        if self.shape < 3:
            self._settle_places()
        if self.shape < 5:
            self._make_stock()
        if self.shape < 6:
            self._shard_counts()
            self.visits_by_site_time = SiteDays(site_time_key(visit) for visit in self.visits.values())
        if self.shape < 7:
            self._shard_visits()
        if self.shape < 8:
            self._grow_shards()
        self.shape = SHAPE
        return True

    def _move_counters(self):
        if self.tallies is None:
            self.tallies = OOBTree()
        if self.open_tallies is None:
            self.open_tallies = OOBTree()
        old = self.__dict__
        with self.bulk():
            for key, counter in old.get('aggregates', {}).items():
                if counter():
                    self._count(key, counter())
            for (site_id, day), counter in old.get('open_by_site_expiry', {}).items():
                if counter():
                    card = Card(0, '', site_id, '', day, day, None, None, 0)
                    self._track_expiry(card, counter())
        for name in ('aggregates', 'open_by_expiry', 'open_by_site_expiry'):
            if name in old:
                delattr(self, name)

    def _shard_counts(self):
        for key, tally in list(self.tallies.items()):
            if not isinstance(tally, ShardedTally):
                self.tallies[key] = ShardedTally(tally)
        if isinstance(self.visit_count, Length):
            self.visit_count = ShardedLength(self.visit_count())

    def _grow_shards(self):
        self.visit_count.grow()

    def _shard_visits(self):
        if not isinstance(self.visits, ShardedVisits):
            self.visits = ShardedVisits(self.visits.items())
        for card_id in self.cards:
            if card_id not in self.visit_ids_by_card:
                self.visit_ids_by_card[card_id] = LLTreeSet()

    def _settle_places(self):
        """Give every partner, site, card, coordinator's area and pilot end the table's name of its
        municipality (or region), and partners and sites the region of their municipality, whatever
        region was typed; the statistics' keys take the same names.  A value the table does not know is
        logged and kept as it was: it lies in no area, so no coordinator's scope reaches it until it is
        corrected."""
        names = {}

        def settle(value, what):
            if value not in names:
                place = places.find_municipality(value)
                names[value] = place.name_fi if place else value
                if place is None:
                    log.warning('registry: %s has an unknown municipality %r (in no area)', what, value)
            return names[value]

        for kind, records in (('partner', self.partners), ('site', self.sites)):
            for record in records.values():
                municipality = settle(record.municipality, f'{kind} {record.id}')
                place = places.municipality_named(municipality)
                region = place.region.name_fi if place else record.region
                if (record.municipality, record.region) != (municipality, region):
                    record.municipality, record.region = municipality, region
        for card in self.cards.values():
            if card.municipality and settle(card.municipality, f'card {card.id}') != card.municipality:
                card.municipality = names[card.municipality]
        for login, (kind, name) in list(self.areas.items()):
            found = area_place(kind, name)
            if found is None:
                log.warning('registry: the area %r of %s is unknown; it covers no place', name, login)
            elif found.name_fi != name:
                self.areas[login] = (kind, found.name_fi)
        for municipality, day in list(self.pilot_ends.items()):
            settled = settle(municipality, 'a pilot end')
            if settled != municipality:
                del self.pilot_ends[municipality]
                self.pilot_ends[settled] = day
        self._rekey(self.tallies, names)
        self._rekey(self.open_tallies, names)

    @staticmethod
    def _rekey(tree, names):
        """Move the tallies of ``tree`` whose municipality or region got the table's name under the new
        keys, adding up tallies that meet.  A count keeps the region it was made in (a card's home
        municipality is counted in the issuing site's region), so regions are renamed, not derived."""
        regions = {}

        def region(name):
            if name not in regions:
                found = places.region_named(name)
                regions[name] = found.name_fi if found else name
            return regions[name]

        moved = {}
        for key in list(tree.keys()):
            family = key[0]
            if family in ('area', 'area-month', 'site', 'site-month'):
                new = (family, region(key[1]), names.get(key[2], key[2]), *key[3:])
            elif family in ('region', 'region-month'):
                new = (family, region(key[1]), *key[2:])
            else:
                continue
            if new != key:
                moved.setdefault(new, []).append(tree.pop(key))
        for new, tallies in moved.items():
            target = tree.get(new)
            if target is None:
                target = tree[new] = Tally()
            for tally in tallies:
                for entry, count in tally.items():
                    target.add(entry, count)
