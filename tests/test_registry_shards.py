"""Concurrent visits commute (shape 6): the statistics and the visit count are sharded, and the door's list
keeps one small set per site and day, so two visits of one site at once change no object in common but
that day's set, whose concurrent inserts ZODB merges."""

import datetime

import pytest
import transaction
from ZODB import DB
from ZODB.FileStorage import FileStorage

DAY = datetime.date(2026, 12, 5)


@pytest.fixture
def db(tmp_path):
    database = DB(FileStorage(str(tmp_path / 'Data.fs')))
    yield database
    database.close()


def two_connections(db):
    managers = transaction.TransactionManager(), transaction.TransactionManager()
    return [db.open(transaction_manager=manager) for manager in managers], managers


def test_a_sharded_tally_adds_to_one_shard_and_reads_the_sum():
    from kaiku_registry.statistics import SHARDS, ShardedTally, Tally

    old = Tally()
    old.add('x', 5)
    tally = ShardedTally(old)
    assert tally.shards[0] is old and len(tally.shards) == SHARDS
    tally.add('x', 1, shard=3)
    tally.add('x', 2, shard=3 + SHARDS)  # a record id: its shard is the id modulo SHARDS
    tally.add('y', 1, shard=5)
    assert tally.shards[3].counts == {'x': 3} and tally.shards[5].counts == {'y': 1}
    assert dict(tally.items()) == {'x': 8, 'y': 1} and tally.get('x') == 8 and tally.get('z') == 0
    tally.add('y', -1, shard=6)  # a take-back in another shard cancels out in the sum
    assert dict(tally.items()) == {'x': 8}
    tally.set_counts({'x': 2, 'w': 0})
    assert dict(tally.items()) == {'x': 2} and tally.shards[0].counts == {'x': 2}


def test_a_sharded_length_answers_as_a_length():
    from kaiku_registry.statistics import ShardedLength

    count = ShardedLength(7)
    count.change(1, shard=9)
    count.change(-2, shard=4)
    assert count() == 6 and count.shards[0]() == 7 and count.shards[1]() == 1
    count.change(3)  # a shard at random, shard 0 too at times
    assert count() == 9


def test_a_shard_still_resolves_concurrent_changes(db):
    from kaiku_registry.statistics import ShardedTally

    with db.transaction() as conn:
        conn.root()['t'] = ShardedTally()
    (c1, c2), (tm1, tm2) = two_connections(db)
    c1.root()['t'].add('x', 1, shard=2)
    c2.root()['t'].add('x', 10, shard=2)
    tm1.commit()
    tm2.commit()  # the same shard: resolved as a Tally is
    c1.sync()
    c1.root()['t'].shards[2]._p_invalidate()
    assert dict(c1.root()['t'].items()) == {'x': 11}


def test_site_days_answers_as_a_set_of_its_keys():
    from kaiku_registry.site_days import SiteDays
    from kaiku_registry.statistics import SHARDS

    later = DAY + datetime.timedelta(days=1)
    keys = [(7, DAY, 30), (7, DAY, 4), (7, later, 9), (8, DAY, 1)]
    index = SiteDays(keys)
    assert sorted(index) == sorted(keys) and sorted(index.keys()) == sorted(keys) and len(index) == 4
    assert (7, DAY, 4) in index and (7, DAY, 5) not in index and (9, DAY, 1) not in index
    assert sorted(index.visit_ids(7, DAY)) == [4, 9, 30] and list(index.visit_ids(7, later)) == [9]
    assert list(index.visit_ids(8, later)) == [] and list(index.visit_ids(6, DAY)) == []
    assert len(index.days) == 3 * SHARDS  # a site's first visit of a day makes all the day's sets
    index.discard((7, DAY, 5))  # not there: nothing happens
    index.remove((7, later, 9))
    assert (7, later, 0) not in index.days and len(index.days) == 2 * SHARDS  # an emptied day goes
    with pytest.raises(KeyError):
        index.remove((7, later, 9))
    assert len(index) == 3


def test_a_sites_visits_of_one_day_are_a_few_buckets_that_never_split():
    from BTrees.LLBTree import LLSet

    from kaiku_registry.site_days import SiteDays
    from kaiku_registry.statistics import SHARDS

    index = SiteDays((7, DAY, visit_id * 7919 % 1000003) for visit_id in range(1, 2001))
    assert list(index.days.keys()) == [(7, DAY, shard) for shard in range(SHARDS)]
    # buckets: no inner node to read as current; a visit changes the one of its shard
    assert {type(ids) for ids in index.days.values()} == {LLSet}
    assert all(visit_id % SHARDS == shard for (_s, _d, shard), ids in index.days.items() for visit_id in ids)


def _world(registry):
    city = registry.add_partner('Kaupunki', 'municipality', 'Nokia', 'Pirkanmaa')
    issuer = registry.add_site(city, 'Sosiaalitoimi', 'issuer')
    venue = registry.add_site(city, 'Uimahalli', 'venue')
    return issuer, venue


@pytest.mark.parametrize(
    ('ids', 'merged'),
    [((8001, 8002), set()), ((8003, 8011), {'Tally', 'Length'})],
    ids=['other shards', 'one shard'],
)
def test_two_visits_of_one_site_at_once_both_count(db, monkeypatch, ids, merged):
    """The site's tallies and its day's sets exist (a visit in shard 0 made them); two more visits,
    recorded at once in two connections, commit: in different shards with no conflict to resolve in a
    tally or a count, in one shard with the tallies and the count merged (and the day's set the second
    visit adds to was made by the first visit of the day, not by both at once)."""
    from BTrees.Length import Length

    from kaiku_registry.records import new_id
    from kaiku_registry.registry import CardRegistry
    from kaiku_registry.statistics import Tally

    visit_ids = iter([8000, *ids])
    monkeypatch.setattr(
        CardRegistry, '_new_id', lambda self, tree: next(visit_ids) if tree is self.visits else new_id(tree)
    )
    with db.transaction() as conn:
        registry = conn.root()['registry'] = CardRegistry()
        issuer, venue = _world(registry)
        codes = [registry.issue_card(issuer, DAY, 1980, '37100', 2).code for _ in range(3)]
        registry.record_visit(registry.card_by_code(codes[0]), venue, DAY, 'sport')
        site_id = venue.id
    resolved = []
    for cls in (Tally, Length):
        original = cls._p_resolveConflict

        def counting(self, *states, original=original):
            resolved.append(type(self).__name__)
            return original(self, *states)

        monkeypatch.setattr(cls, '_p_resolveConflict', counting)
    (c1, c2), (tm1, tm2) = two_connections(db)
    for conn, code in ((c1, codes[1]), (c2, codes[2])):
        registry = conn.root()['registry']
        registry.record_visit(registry.card_by_code(code), registry.site(site_id), DAY, 'sport')
    tm1.commit()
    tm2.commit()
    assert set(resolved) == merged
    with db.transaction() as conn:
        registry = conn.root()['registry']
        assert registry.visit_count() == 3 and registry.totals('adult_uses') == 3
        assert registry.totals('activated') == 3
        assert set(registry.visits_by_site_time.visit_ids(site_id, DAY)) == {8000, *ids}
