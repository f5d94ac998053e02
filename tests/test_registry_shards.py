"""Concurrent visits commute (shapes 6 and 7): the statistics and the visit count are sharded, the door's
list keeps one small set per site and day, the visits are kept in many trees and each card has its visit
set from its issue on, so two visits of one site at once change no object in common but that day's set,
whose concurrent inserts ZODB merges."""

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
    from kaiku_registry.statistics import SHARDS, ShardedLength

    count = ShardedLength(7)
    count.change(1, shard=SHARDS + 1)
    count.change(-2, shard=4)
    assert count() == 6 and count.shards[0]() == 7 and count.shards[1]() == 1
    count.change(3)  # no shard given: the writer's own (a random one for a count in no database)
    assert count() == 9


def test_each_connection_of_a_process_keeps_its_own_shard(monkeypatch):
    """Connections are dealt shards from the process's random start, each its own while it lives; one the
    pool made anew takes the shard of one let go, so a process's shards stay together and seldom reach
    those of another process; a tally or count stored with fewer shards takes the shard modulo its own."""
    import gc
    import weakref

    from kaiku_registry import statistics
    from kaiku_registry.statistics import SHARDS, writer_shard

    class Jar:
        """Stands for a database connection: what a persistent object's ``_p_jar`` is."""

    class Loaded:
        def __init__(self, jar):
            self._p_jar = jar

    monkeypatch.setattr(statistics, '_writer_shards', weakref.WeakKeyDictionary())
    monkeypatch.setattr(statistics, '_start', SHARDS - 2)
    jars = [Jar() for _ in range(3)]
    assert [writer_shard(Loaded(jar)) for jar in jars] == [SHARDS - 2, SHARDS - 1, 0]
    assert writer_shard(Loaded(jars[1])) == SHARDS - 1  # the same in every transaction
    del jars[1]
    gc.collect()
    assert writer_shard(Loaded(Jar())) == SHARDS - 1
    assert writer_shard(Loaded(jars[0]), 8) == (SHARDS - 2) % 8
    assert writer_shard(Loaded(None)) in range(SHARDS)  # an object in no database yet: any


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
    from kaiku_registry.site_days import DAY_SHARDS, SiteDays

    later = DAY + datetime.timedelta(days=1)
    keys = [(7, DAY, 30), (7, DAY, 4), (7, later, 9), (8, DAY, 1)]
    index = SiteDays(keys)
    assert sorted(index) == sorted(keys) and sorted(index.keys()) == sorted(keys) and len(index) == 4
    assert (7, DAY, 4) in index and (7, DAY, 5) not in index and (9, DAY, 1) not in index
    assert sorted(index.visit_ids(7, DAY)) == [4, 9, 30] and list(index.visit_ids(7, later)) == [9]
    assert list(index.visit_ids(8, later)) == [] and list(index.visit_ids(6, DAY)) == []
    assert len(index.days) == 3 * DAY_SHARDS  # a site's first visit of a day makes all the day's sets
    index.discard((7, DAY, 5))  # not there: nothing happens
    index.remove((7, later, 9))
    assert (7, later, 0) not in index.days and len(index.days) == 2 * DAY_SHARDS  # an emptied day goes
    with pytest.raises(KeyError):
        index.remove((7, later, 9))
    assert len(index) == 3


def test_a_sites_visits_of_one_day_are_a_few_buckets_that_never_split():
    from BTrees.LLBTree import LLSet

    from kaiku_registry.site_days import DAY_SHARDS, SiteDays

    index = SiteDays((7, DAY, visit_id * 7919 % 1000003) for visit_id in range(1, 2001))
    assert list(index.days.keys()) == [(7, DAY, shard) for shard in range(DAY_SHARDS)]
    # buckets: no inner node to read as current; a visit changes the one of its shard
    assert {type(ids) for ids in index.days.values()} == {LLSet}
    assert all(
        visit_id % DAY_SHARDS == shard for (_s, _d, shard), ids in index.days.items() for visit_id in ids
    )


def _world(registry):
    city = registry.add_partner('Kaupunki', 'municipality', 'Nokia', 'Pirkanmaa')
    issuer = registry.add_site(city, 'Sosiaalitoimi', 'issuer')
    venue = registry.add_site(city, 'Uimahalli', 'venue')
    return issuer, venue


def _three_cards_one_used(db, monkeypatch, ids):
    """A registry committed in ``db`` with three cards, each with its (empty) visit set made at issue,
    the first used once (visit id 8000, which makes the site's tallies and day sets); the next visits get
    the ids ``ids``.  Returns the cards' codes and the venue site's id."""
    from kaiku_registry.records import new_id
    from kaiku_registry.registry import CardRegistry

    visit_ids = iter([8000, *ids])
    monkeypatch.setattr(
        CardRegistry, '_new_id', lambda self, tree: next(visit_ids) if tree is self.visits else new_id(tree)
    )
    with db.transaction() as conn:
        registry = conn.root()['registry'] = CardRegistry()
        issuer, venue = _world(registry)
        codes = [registry.issue_card(issuer, DAY, 1980, '37100', 2).code for _ in range(3)]
        assert all(len(registry.visit_ids_by_card[registry.card_by_code(code).id]) == 0 for code in codes)
        registry.record_visit(registry.card_by_code(codes[0]), venue, DAY, 'sport')
        return codes, venue.id


@pytest.mark.parametrize('same_shard', [False, True], ids=['two writers', 'one shard'])
def test_two_visits_of_one_site_at_once_both_count(db, monkeypatch, same_shard):
    """The site's tallies and its day's sets exist (a visit in shard 0 made them); two more visits,
    recorded at once in two connections, commit: each connection in its own shard with no conflict to
    resolve in a tally or a count, and when both connections write to one shard, with the tallies and the
    count merged (and the day's set the second visit adds to was made by the first visit of the day, not by
    both at once)."""
    from BTrees.Length import Length

    from kaiku_registry import statistics
    from kaiku_registry.statistics import Tally

    ids = (8001, 8002)
    codes, site_id = _three_cards_one_used(db, monkeypatch, ids)
    resolved = []
    for cls in (Tally, Length):
        original = cls._p_resolveConflict

        def counting(self, *states, original=original):
            resolved.append(type(self).__name__)
            return original(self, *states)

        monkeypatch.setattr(cls, '_p_resolveConflict', counting)
    (c1, c2), (tm1, tm2) = two_connections(db)
    if same_shard:
        monkeypatch.setitem(statistics._writer_shards, c1, 3)
        monkeypatch.setitem(statistics._writer_shards, c2, 3)
    for conn, code in ((c1, codes[1]), (c2, codes[2])):
        registry = conn.root()['registry']
        registry.record_visit(registry.card_by_code(code), registry.site(site_id), DAY, 'sport')
    assert (
        statistics.writer_shard(c1.root()['registry']) == statistics.writer_shard(c2.root()['registry'])
    ) is (same_shard)
    tm1.commit()
    tm2.commit()
    assert set(resolved) == ({'Tally', 'Length'} if same_shard else set())
    with db.transaction() as conn:
        registry = conn.root()['registry']
        assert registry.visit_count() == 3 and registry.totals('adult_uses') == 3
        assert registry.totals('activated') == 3
        assert set(registry.visits_by_site_time.visit_ids(site_id, DAY)) == {8000, *ids}


def test_a_writer_keeps_its_shards_in_its_cache_while_another_writes(db, monkeypatch):
    """Each connection writes the statistics to its own shard, transaction after transaction: a visit in
    one connection loads no tally again after visits committed in another, so concurrent visits do not
    make each other reload the site's tallies (a shard per visit did: nearly every tally, every time)."""
    from kaiku_registry.statistics import SHARDS, Tally, writer_shard

    codes, site_id = _three_cards_one_used(db, monkeypatch, range(9000, 9400))
    (c1, c2), (tm1, tm2) = two_connections(db)
    registries = [c1.root()['registry'], c2.root()['registry']]
    shards = {writer_shard(registry) for registry in registries}
    assert len(shards) == 2 and shards <= set(range(SHARDS))
    loaded = []
    original = Tally.__setstate__

    def counting(self, state):
        loaded.append(self)
        return original(self, state)

    monkeypatch.setattr(Tally, '__setstate__', counting)
    for turn in range(6):
        for manager, registry in ((tm1, registries[0]), (tm2, registries[1])):
            manager.begin()
            card = registry.card_by_code(codes[turn % 3])
            registry.record_visit(card, registry.site(site_id), DAY, 'sport')
            manager.commit()
        if turn == 1:
            loaded.clear()  # from here on each connection has the shards it writes in its cache
    assert loaded == []
    assert {writer_shard(registry) for registry in registries} == shards  # the same shards all along
    with db.transaction() as conn:
        assert conn.root()['registry'].totals('adult_uses') == 1 + 12


def test_sharded_visits_answer_as_the_tree_of_visits():
    from kaiku_registry.sharded_visits import VISIT_SHARDS, ShardedVisits

    visits = ShardedVisits((visit_id, f'v{visit_id}') for visit_id in (5, 5 + VISIT_SHARDS, 7))
    assert len(visits) == 3 and visits and not ShardedVisits()
    assert list(visits.shards[5].keys()) == [5, 5 + VISIT_SHARDS] and list(visits.shards[7].keys()) == [7]
    assert visits[5] == 'v5' and visits.get(7) == 'v7' and visits.get(6) is None and visits.get(6, 0) == 0
    assert 7 in visits and 6 not in visits
    for stranger in ('5', 5.0, None, 2**70, -5):  # as an LOBTree answers them: not there
        assert stranger not in visits and visits.get(stranger) is None
    assert sorted(visits) == sorted(visits.keys()) == [5, 7, 5 + VISIT_SHARDS]
    assert sorted(visits.values()) == ['v5', 'v69', 'v7'] and dict(visits.items())[7] == 'v7'
    visits[6] = 'v6'
    del visits[5]
    assert visits.pop(7) == 'v7' and visits.pop(7, None) is None
    with pytest.raises(KeyError):
        visits[5]
    with pytest.raises(KeyError):
        del visits[5]
    assert sorted(visits.items()) == [(6, 'v6'), (5 + VISIT_SHARDS, 'v69')]


def test_a_visit_shard_keeps_small_buckets():
    """Recording a visit pickles its bucket with every visit in it: a shard's buckets hold at most 16."""
    from kaiku_registry.sharded_visits import VISIT_SHARDS, ShardedVisits

    visits = ShardedVisits((n * VISIT_SHARDS, 'visit') for n in range(1, 401))
    bucket, sizes = visits.shards[0]._firstbucket, []
    while bucket is not None:
        sizes.append(len(bucket))
        bucket = bucket._next
    assert sum(sizes) == 400 and max(sizes) <= 16


@pytest.mark.parametrize(
    ('sharded', 'conflicts'), [(False, True), (True, False)], ids=['one tree', 'sharded']
)
def test_a_bucket_split_does_not_fail_a_visit_added_to_another_shard(db, sharded, conflicts):
    """A young registry's visits: in one tree, every bucket's parent is the root, which every insert
    marks as read (``readCurrent``) and a split changes, so a visit added while another transaction split
    a bucket conflicted; in the sharded visits the two keys have parents of their own and both commit."""
    import random

    from ZODB.POSException import ConflictError

    from kaiku_registry.records import VisitTree
    from kaiku_registry.sharded_visits import VISIT_SHARDS, ShardedVisits

    rng = random.Random(26)
    keys = [rng.randrange(1, 2**50) * VISIT_SHARDS + shard for shard in (0, 1) for _ in range(100)]
    stored = dict.fromkeys(keys, 'visit')
    with db.transaction() as conn:
        conn.root()['visits'] = ShardedVisits(stored.items()) if sharded else VisitTree(stored)
    (c1, c2), (tm1, tm2) = two_connections(db)
    splitting, elsewhere = c1.root()['visits'], c2.root()['visits']
    low = min(key for key in keys if key % VISIT_SHARDS == 0)
    for step in range(1, 62):  # more than a bucket holds, next to one key of shard 0: a bucket splits
        splitting[low + step * VISIT_SHARDS] = 'visit'
    elsewhere[max(keys) + 1 + VISIT_SHARDS] = 'visit'  # a key of shard 1
    tm1.commit()
    if conflicts:
        with pytest.raises(ConflictError):
            tm2.commit()
        return
    tm2.commit()
    c1.sync()
    assert len(c1.root()['visits']) == 200 + 61 + 1


def _touched(conn):
    """The oids a connection's transaction writes and those it marked as read (``readCurrent``)."""
    return {obj._p_oid for obj in conn._registered_objects}, set(conn._readCurrent)


def test_two_first_visits_of_two_cards_touch_nothing_in_common(db, monkeypatch):
    """Two visits recorded at once, of two cards never used and with ids in other shards, write no
    object in common, and neither marks as read an object the other writes: a card's visit set was made
    when it was issued (no key goes into ``visit_ids_by_card``) and each visit goes into a tree of its
    shard."""
    codes, site_id = _three_cards_one_used(db, monkeypatch, (8001, 8002))
    (c1, c2), (tm1, tm2) = two_connections(db)
    touched = []
    for conn, code in ((c1, codes[1]), (c2, codes[2])):
        registry = conn.root()['registry']
        registry.record_visit(registry.card_by_code(code), registry.site(site_id), DAY, 'sport')
        touched.append(_touched(conn))
    (written1, read1), (written2, read2) = touched
    assert written1 and written2
    assert not written1 & (written2 | read2) and not written2 & read1
    tm1.commit()
    tm2.commit()
    with db.transaction() as conn:
        registry = conn.root()['registry']
        assert registry.visit_count() == 3 and sorted(registry.visits) == [8000, 8001, 8002]
        assert registry.totals('activated') == 3
