"""The stored shape of the registry's statistics: tallies that resolve concurrent changes, the bulk path
that loads many records with the same counts as one by one, and the upgrade of registries stored by
older code (Length counters under ``aggregates``) when the application starts."""

import datetime
import random

import pytest
import transaction
from BTrees.Length import Length
from BTrees.OOBTree import OOBTree

from portal.testing import build_app, close_app, edit_site

TODAY = datetime.date(2026, 11, 29)
SECTORS = ('culture', 'education', 'science', 'sport')


def _world(registry):
    """Two municipalities in two regions, issuers and venues; returns (issuers, venues)."""
    tampere = registry.add_partner('Tampereen kaupunki', 'municipality', 'Tampere', 'Pirkanmaa')
    jkl = registry.add_partner('Jyväskylän kaupunki', 'municipality', 'Jyväskylä', 'Keski-Suomi')
    issuers = [registry.add_site(p, f'Sosiaalitoimi {p.municipality}', 'issuer') for p in (tampere, jkl)]
    venues = [registry.add_site(p, f'Museo {p.municipality}', 'venue') for p in (tampere, jkl)]
    venues.append(registry.add_site(tampere, 'Uimahalli', 'venue'))
    return issuers, venues


def _load(registry, issuers, venues, seed, n_cards=40, n_visits=150, closes=5):
    """The same random records whichever way the registry counts them."""
    rng = random.Random(seed)
    cards = []
    for _ in range(n_cards):
        day = TODAY - datetime.timedelta(days=rng.randrange(0, 400))
        issuer = issuers[rng.randrange(len(issuers))]
        home = rng.choice((None, None, 'Nokia'))  # a home municipality other than the issuer's, at times
        cards.append(registry.issue_card(issuer, day, 1980, '33100', rng.randrange(0, 3), municipality=home))
    for _ in range(n_visits):
        card = cards[rng.randrange(len(cards))]
        day = card.valid_from + datetime.timedelta(days=rng.randrange(0, 365))
        children = rng.randrange(0, card.children + 1)
        venue = venues[rng.randrange(len(venues))]
        registry.record_visit(card, venue, min(day, TODAY), rng.choice(SECTORS), children=children)
    for card in rng.sample(cards, closes):
        registry.close_card(card, 'lost', TODAY)
    return cards


def _by_name(registry, tree):
    """A tree's tallies with site ids replaced by site names, so two registries can be compared (a tally
    whose counts went back to zero is left out: it stays in the tree, so that a concurrent change to it
    is never lost)."""
    names = {site.id: site.name for site in registry.sites.values()}
    return {
        tuple(names.get(part, part) if isinstance(part, int) else part for part in key): dict(tally.items())
        for key, tally in tree.items()
        if tally.counts
    }


def _fresh():
    from kaiku_registry.models import CardRegistry

    registry = CardRegistry()
    issuers, venues = _world(registry)
    return registry, issuers, venues


def _recount(registry):
    """The old shape's counters, made from the raw records: ``(aggregates, open by site and day)``."""
    from kaiku_registry.models import month_of

    aggregates, open_by_site = {}, {}

    def add(tree, key, n):
        tree[key] = tree.get(key, 0) + n

    for card in registry.cards.values():
        issuer = registry.sites[card.site_id]
        add(
            aggregates,
            ('cards', month_of(card.valid_from), card.municipality, issuer.region, issuer.id, ''),
            1,
        )
        if card.first_use is not None:
            key = ('activated', month_of(card.first_use), card.municipality, issuer.region, issuer.id, '')
            add(aggregates, key, 1)
        if not card.closed_reason:
            add(open_by_site, (card.site_id, card.valid_until), 1)
    for visit in registry.visits.values():
        if not visit.undone:
            venue = registry.sites[visit.site_id]
            base = (month_of(visit.date), venue.municipality, venue.region, venue.id, visit.sector)
            add(aggregates, ('adult_uses', *base), visit.adults)
            if visit.children:
                add(aggregates, ('child_uses', *base), visit.children)
    return aggregates, open_by_site


def _started_again(tmp_path, before_start, after_start):
    """Build an application, call ``before_start(site, registry)`` in a committed transaction, close it,
    start it again on the same database (the evolve steps run), then call ``after_start(registry,
    what before_start returned)`` while the new application's connection is open."""
    app = build_app(str(tmp_path), **{'portal.load_on_start': 'false'})
    try:
        with edit_site(app) as site:
            prepared = before_start(site, site['registry'])
    finally:
        close_app(app)
    app = build_app(str(tmp_path), **{'portal.load_on_start': 'false'})
    try:
        with edit_site(app) as site:
            after_start(site['registry'], prepared)
    finally:
        close_app(app)


def _upgraded_at_start(tmp_path, seed, make_old, step, kept, after):
    """A registry of :func:`_load`'s records (``seed``) and a card never used, turned by ``make_old`` into
    what older code stored, in a database that has not had the evolve step ``step``; the application starts
    again, and ``after(registry, kept)`` gets the registry at :data:`SHAPE` and what ``kept(registry)`` read
    before ``make_old``."""
    from kaiku_registry.models import SHAPE
    from portal.evolve import DONE_KEY

    def before_start(site, registry):
        issuers, venues = _world(registry)
        _load(registry, issuers, venues, seed)
        registry.issue_card(issuers[1], TODAY, 1990, '40100', 1)
        before = kept(registry)
        make_old(registry)
        site._p_jar.root()[DONE_KEY].remove(step)
        return before

    def after_start(registry, before):
        assert registry.shape == SHAPE and not registry.needs_upgrade()
        after(registry, before)

    _started_again(tmp_path, before_start, after_start)


def _make_old_shape(registry):
    """Turn ``registry`` into what the code before shape 2 stored: Length counters, no tallies."""
    aggregates, open_by_site = _recount(registry)
    registry.aggregates = OOBTree({key: Length(n) for key, n in aggregates.items()})
    registry.open_by_site_expiry = OOBTree({key: Length(n) for key, n in open_by_site.items()})
    by_day = {}
    for (_site, day), n in open_by_site.items():
        by_day[day] = by_day.get(day, 0) + n
    registry.open_by_expiry = OOBTree({day: Length(n) for day, n in by_day.items()})
    del registry.tallies, registry.open_tallies, registry.shape


class TestTally:
    def test_concurrent_changes_are_added_up(self):
        from kaiku_registry.models import Tally

        tally = Tally()
        old = {'counts': {('adult_uses', 'sport'): 3, ('adult_uses', 'culture'): 1}}
        committed = {'counts': {('adult_uses', 'sport'): 5, ('adult_uses', 'culture'): 1}}
        new = {'counts': {('adult_uses', 'sport'): 4, ('child_uses', 'sport'): 2}}
        resolved = tally._p_resolveConflict(old, committed, new)
        # committed added 2 sport; new added 1 sport, 2 child sport and took the one culture use back
        assert resolved == {'counts': {('adult_uses', 'sport'): 6, ('child_uses', 'sport'): 2}}

    def test_zero_counts_are_dropped(self):
        from kaiku_registry.models import Tally

        tally = Tally()
        tally.add('a', 2)
        tally.add('a', -2)
        tally.add('b', 0)
        assert dict(tally.items()) == {}
        assert tally.get('a') == 0

    def test_two_connections_changing_one_tally_both_count(self, tmp_path):
        from ZODB import DB
        from ZODB.FileStorage import FileStorage

        from kaiku_registry.models import Tally

        db = DB(FileStorage(str(tmp_path / 'Data.fs')))
        try:
            tm1, tm2 = transaction.TransactionManager(), transaction.TransactionManager()
            c1, c2 = db.open(transaction_manager=tm1), db.open(transaction_manager=tm2)
            c1.root()['t'] = Tally()
            tm1.commit()
            c2.sync()
            c1.root()['t'].add('x', 1)
            c2.root()['t'].add('x', 10)
            c2.root()['t'].add('y', 1)
            tm1.commit()
            tm2.commit()  # conflicts with the first commit, and is resolved
            c1.sync()
            c1.root()['t']._p_invalidate()
            assert dict(c1.root()['t'].items()) == {'x': 11, 'y': 1}
        finally:
            db.close()


class TestBulk:
    @pytest.mark.parametrize('seed', [1, 2, 3])
    def test_bulk_counts_equal_one_by_one(self, seed):
        one, one_issuers, one_venues = _fresh()
        _load(one, one_issuers, one_venues, seed)
        bulk, bulk_issuers, bulk_venues = _fresh()
        with bulk.bulk():
            _load(bulk, bulk_issuers, bulk_venues, seed)
            assert len(bulk.tallies) == 0  # nothing is counted until the end
        assert _by_name(bulk, bulk.tallies) == _by_name(one, one.tallies)
        assert _by_name(bulk, bulk.open_tallies) == _by_name(one, one.open_tallies)
        assert bulk.card_count() == one.card_count() == 40
        assert bulk.visit_count() == one.visit_count() == 150

    def test_bulk_ids_are_unique_and_valid(self):
        registry, issuers, venues = _fresh()
        with registry.bulk():
            cards = _load(registry, issuers, venues, 4, n_cards=300, n_visits=300, closes=0)
        ids = [card.id for card in cards]
        assert len(set(ids)) == len(ids) == len(registry.cards)
        assert all(0 < card_id < 2**63 for card_id in ids)
        assert all(registry.card_by_code(card.code) is card for card in cards)
        assert len(registry.visits) == 300

    def test_rules_hold_in_bulk_and_a_failed_load_counts_nothing(self):
        from kaiku_registry.models import RuleError

        registry, issuers, venues = _fresh()
        with pytest.raises(RuleError), registry.bulk():
            card = registry.issue_card(issuers[0], TODAY, 1980, '33100', 0)
            registry.record_visit(card, venues[0], TODAY, 'sport', children=1)
        assert len(registry.tallies) == 0
        assert registry._v_bulk is None

    def test_bulk_does_not_nest(self):
        registry, _issuers, _venues = _fresh()
        with registry.bulk(), pytest.raises(RuntimeError), registry.bulk():
            pass


class TestReports:
    def test_every_slice_family_holds_every_count(self):
        from kaiku_registry.models import SLICES

        registry, issuers, venues = _fresh()
        _load(registry, issuers, venues, 5)
        totals = {}
        for key, tally in registry.tallies.items():
            for entry, count in tally.items():
                family = totals.setdefault(key[0], {})
                family[entry] = family.get(entry, 0) + count
        assert set(totals) == {family for family, _names in SLICES}
        assert all(counts == totals['all'] for counts in totals.values())

    def test_report_figures_equal_a_recount(self):
        from kaiku_registry.models import month_of
        from kaiku_registry.reports import area_months, breakdown, summary, uses_by

        registry, issuers, venues = _fresh()
        _load(registry, issuers, venues, 6)
        live = [v for v in registry.visits.values() if not v.undone]
        tampere = [v for v in live if registry.sites[v.site_id].municipality == 'Tampere']
        assert summary(registry, TODAY, municipality='Tampere')['adult_uses'] == len(tampere)
        assert summary(registry, TODAY, region='Keski-Suomi')['child_uses'] == sum(
            v.children for v in live if registry.sites[v.site_id].region == 'Keski-Suomi'
        )
        # cards count in their holder's home municipality
        nokia = [c for c in registry.cards.values() if c.municipality == 'Nokia']
        assert summary(registry, TODAY, municipality='Nokia')['cards'] == len(nokia) > 0
        months = breakdown(registry, 'adult_uses', 'month', municipality='Tampere')
        expected = {}
        for visit in tampere:
            expected[month_of(visit.date)] = expected.get(month_of(visit.date), 0) + 1
        assert months == dict(sorted(expected.items()))
        by_site = {site_id: sum(adults.values()) for site_id, adults, _children in uses_by(registry, 'site')}
        assert by_site == {
            s.id: sum(1 for v in live if v.site_id == s.id) for s in venues if by_site.get(s.id)
        }
        rows = area_months(registry, TODAY, region='Pirkanmaa')
        assert sum(sum(row['adult_uses'].values()) for row in rows) == sum(
            1 for v in live if registry.sites[v.site_id].region == 'Pirkanmaa'
        )
        assert [(r['month'], r['municipality']) for r in rows] == sorted(
            (r['month'], r['municipality']) for r in rows
        )
        assert {row['region'] for row in rows} == {'Pirkanmaa'}
        for row in rows:
            ending = [
                c
                for c in registry.cards.values()
                if not c.closed_reason
                and month_of(c.valid_until) == row['month']
                and registry.sites[c.site_id].municipality == row['municipality']
            ]
            assert row['expiring'] == len(ending)
            assert (row['active'] is None) == (row['month'] != month_of(TODAY))

    def test_counts_of_one_site(self):
        from kaiku_registry.models import month_of
        from kaiku_registry.reports import uses_by

        registry, issuers, venues = _fresh()
        _load(registry, issuers, venues, 10)
        live = [v for v in registry.visits.values() if not v.undone]
        for venue in venues:
            mine = [v for v in live if v.site_id == venue.id]
            assert registry.totals('adult_uses', site=venue.id) == len(mine)
            months = {m: sum(a.values()) for m, a, _c in uses_by(registry, 'month', site=venue.id)}
            assert sum(months.values()) == len(mine)
            assert all(months[month_of(v.date)] for v in mine)
        for issuer in issuers:  # its cards count in their holders' home municipalities, one or two
            assert registry.totals('cards', site=issuer.id) == sum(
                1 for c in registry.cards.values() if c.site_id == issuer.id
            )
            assert registry.totals('cards', site=issuer.id, municipality='Nokia') == sum(
                1 for c in registry.cards.values() if c.site_id == issuer.id and c.municipality == 'Nokia'
            )
        assert registry.totals('adult_uses', site=12345) == 0

    def test_open_cards_by_area_and_site(self):
        from kaiku_registry.reports import expiring_by_site, summary

        registry, issuers, venues = _fresh()
        _load(registry, issuers, venues, 7, n_cards=80)
        soon = TODAY + datetime.timedelta(days=30)
        open_cards = [c for c in registry.cards.values() if not c.closed_reason]
        for municipality in ('Tampere', 'Jyväskylä'):
            mine = [c for c in open_cards if registry.sites[c.site_id].municipality == municipality]
            figures = summary(registry, TODAY, municipality=municipality)
            assert figures['active_now'] == sum(1 for c in mine if c.valid_until >= TODAY)
            assert figures['expiring_soon'] == sum(1 for c in mine if TODAY <= c.valid_until <= soon)
        rows = expiring_by_site(registry, TODAY)
        assert {site.id: n for site, n in rows} == {
            issuer.id: n
            for issuer in issuers
            if (n := sum(1 for c in open_cards if c.site_id == issuer.id and TODAY <= c.valid_until <= soon))
        }
        assert registry.open_cards(TODAY, site_id=issuers[1].id) == sum(
            1 for c in open_cards if c.site_id == issuers[1].id and c.valid_until >= TODAY
        )
        # with the whole area given, only the months asked for are read
        tampere = summary(registry, TODAY, municipality='Tampere')
        assert summary(registry, TODAY, municipality='Tampere', region='Pirkanmaa') == tampere
        assert summary(registry, TODAY, municipality='Tampere', region='Keski-Suomi')['active_now'] == 0
        assert registry.open_cards(
            TODAY, soon, site_id=issuers[0].id, region='Pirkanmaa', municipality='Tampere'
        ) == registry.open_cards(TODAY, soon, site_id=issuers[0].id)
        assert registry.open_cards(datetime.date.min) == len(open_cards)


class TestUpgrade:
    def test_an_old_registry_upgrades_to_the_same_counts(self):
        from kaiku_registry.models import SHAPE

        registry, issuers, venues = _fresh()
        _load(registry, issuers, venues, 8)
        expected = (_by_name(registry, registry.tallies), _by_name(registry, registry.open_tallies))
        _make_old_shape(registry)
        assert registry.needs_upgrade() and registry.tallies is None
        assert registry.upgrade() is True
        assert registry.shape == SHAPE and not registry.needs_upgrade()
        assert (_by_name(registry, registry.tallies), _by_name(registry, registry.open_tallies)) == expected
        for name in ('aggregates', 'open_by_expiry', 'open_by_site_expiry'):
            assert not hasattr(registry, name)
        assert registry.upgrade() is False  # a second run changes nothing

    def test_an_old_registry_upgrades_when_the_application_starts(self, tmp_path):
        from kaiku_registry.reports import summary

        def after(registry, before):
            assert summary(registry, TODAY) == before
            assert 'aggregates' not in registry.__dict__

        # older code knew no evolve steps of the plugin: its database has not had this one
        step = 'kaiku_registry.shape0002'
        _upgraded_at_start(
            tmp_path, 9, _make_old_shape, step, lambda registry: summary(registry, TODAY), after
        )

    @staticmethod
    def _make_shape_6(registry):
        """Turn ``registry`` into what shape 6 stored: the visits in one tree, and a visit set only for
        the cards that had been used."""
        from kaiku_registry.records import VisitTree

        registry.visits = VisitTree(dict(registry.visits.items()))
        for card in registry.cards.values():
            if not card.uses and not registry.visit_ids_by_card[card.id]:
                del registry.visit_ids_by_card[card.id]
        registry.shape = 6

    def test_a_shape_6_registry_moves_every_visit_and_check_finds_nothing(self):
        from kaiku_registry.check import check
        from kaiku_registry.sharded_visits import VISIT_SHARDS, ShardedVisits

        registry, issuers, venues = _fresh()
        _load(registry, issuers, venues, 11, n_visits=300)
        unused = [registry.issue_card(issuers[0], TODAY, 1990, '33100', 0) for _ in range(3)]
        visits = dict(registry.visits.items())
        self._make_shape_6(registry)
        assert registry.needs_upgrade()
        # the check of this code wants a set for every card, an empty one too
        found = [(d.structure, d.key, d.stored, d.expected) for d in check(registry)]
        assert all(('visit_ids_by_card', card.id, None, set()) in found for card in unused)
        assert registry.upgrade() is True
        assert isinstance(registry.visits, ShardedVisits) and dict(registry.visits.items()) == visits
        assert all(visit_id % VISIT_SHARDS == shard
                   for shard, tree in enumerate(registry.visits.shards) for visit_id in tree)  # fmt: skip
        assert all(len(registry.visit_ids_by_card[card.id]) == 0 for card in unused)
        assert check(registry) == []
        assert registry.upgrade() is False  # a second run changes nothing

    def test_a_shape_6_registry_upgrades_when_the_application_starts(self, tmp_path):
        from kaiku_registry.check import check
        from kaiku_registry.sharded_visits import ShardedVisits

        def after(registry, visits):
            assert isinstance(registry.visits, ShardedVisits) and dict(registry.visits.items()) == visits
            assert check(registry) == []

        def visits(registry):
            return dict(registry.visits.items())

        _upgraded_at_start(tmp_path, 12, self._make_shape_6, 'kaiku_registry.shape0007', visits, after)

    @staticmethod
    def _make_shape_7(registry):
        """Turn ``registry`` into what shape 7 stored: each statistics tally and the visit count in 8
        shards, their counts spread over them as concurrent writers left them."""
        from kaiku_registry.statistics import ShardedLength, ShardedTally

        for tally in registry.tallies.values():
            assert isinstance(tally, ShardedTally)
            counts = dict(tally.items())
            tally.shards = tally.shards[:8]
            tally.set_counts({key: count - 1 for key, count in counts.items()})
            for key in counts:
                tally.shards[7].add(key, 1)  # a count of another writer's shard
            assert dict(tally.items()) == counts
        total = registry.visit_count()
        registry.visit_count = ShardedLength(total - 2)
        registry.visit_count.shards = registry.visit_count.shards[:8]
        registry.visit_count.shards[5].change(2)
        registry.shape = 7

    def test_a_shape_7_registry_grows_its_shards_keeping_its_counts(self):
        from kaiku_registry.check import check
        from kaiku_registry.reports import summary
        from kaiku_registry.statistics import SHARDS

        registry, issuers, venues = _fresh()
        _load(registry, issuers, venues, 13, n_visits=200)
        card = registry.issue_card(issuers[0], TODAY, 1990, '33100', 0)
        before, visits = summary(registry, TODAY), registry.visit_count()
        self._make_shape_7(registry)
        assert registry.needs_upgrade() and check(registry) == []
        assert registry.upgrade() is True
        assert len(registry.visit_count.shards) == SHARDS > 8
        assert {len(tally.shards) for tally in registry.tallies.values()} == {8}  # they grow when written
        assert summary(registry, TODAY) == before and registry.visit_count() == visits
        assert check(registry) == []
        assert registry.upgrade() is False  # a second run changes nothing
        # a visit grows the tallies it counts in, with their counts; the others keep their 8 shards
        counts = {key: dict(tally.items()) for key, tally in registry.tallies.items()}
        visit = registry.record_visit(card, venues[0], TODAY, 'sport')
        changed = {key for key, tally in registry.tallies.items() if dict(tally.items()) != counts.get(key)}
        grown = {key for key, tally in registry.tallies.items() if len(tally.shards) == SHARDS}
        assert grown == changed and 8 <= len(changed) < len(counts)
        assert registry.visit_count() == visits + 1 and summary(registry, TODAY) != before
        registry.undo_visit(visit, venues[0])  # its record stays, undone
        assert summary(registry, TODAY) == before and registry.visit_count() == visits + 1
        assert check(registry) == []

    def test_a_shape_7_registry_upgrades_when_the_application_starts(self, tmp_path):
        from kaiku_registry.check import check
        from kaiku_registry.reports import summary
        from kaiku_registry.statistics import SHARDS

        def after(registry, before):
            assert len(registry.visit_count.shards) == SHARDS
            assert summary(registry, TODAY) == before
            assert check(registry) == []

        def figures(registry):
            return summary(registry, TODAY)

        _upgraded_at_start(tmp_path, 14, self._make_shape_7, 'kaiku_registry.shape0008', figures, after)
