"""The card stock, cards registered afterwards, visits entered afterwards and community cards: the
registry's rules, without requests."""

import datetime

import pytest

DAY = datetime.date(2026, 12, 5)


def _registry():
    from kaiku_registry.models import CardRegistry

    registry = CardRegistry()
    tampere = registry.add_partner('Tampereen kaupunki', 'municipality', 'Tampere')
    nokia = registry.add_partner('Nokian kaupunki', 'municipality', 'Nokia')
    registry.issuer = registry.add_site(tampere, 'Sosiaalitoimi Tampere', 'issuer')
    registry.other_issuer = registry.add_site(nokia, 'Sosiaalitoimi Nokia', 'issuer')
    registry.venue = registry.add_site(tampere, 'Museo', 'venue')
    return registry


def _stocked(size=5):
    registry = _registry()
    batch = registry.new_batch(size, DAY, ('municipality', 'Tampere'))
    registry.allocate_batch(batch, registry.issuer, DAY)
    return registry, batch


HOLDER = {'birth_year': 1980, 'postcode': '33100', 'children': 2}


def _rule(code, call, *args, **kw):
    from kaiku_registry.models import RuleError

    with pytest.raises(RuleError) as raised:
        call(*args, **kw)
    assert raised.value.code == code


# Card stock ------------------------------------------------------------------------------------------
def test_a_batch_holds_distinct_valid_codes_all_unused():
    from kaiku_registry import codes

    registry, batch = _stocked(200)
    assert len(set(batch.codes)) == 200
    assert all(codes.is_valid(code) for code in batch.codes)
    assert registry.stock_counts(batch) == {'unused': 200, 'issued': 0, 'spoiled': 0, 'lost': 0}


@pytest.mark.parametrize('size', [0, -1, 1001, '10', None])
def test_a_batch_has_a_sensible_size(size):
    registry = _registry()
    _rule('bad_size', registry.new_batch, size, DAY)
    assert len(registry.stock_batches) == 0


def test_a_stock_code_not_issued_is_not_registered_at_the_door():
    registry, batch = _stocked()
    assert registry.verify(batch.codes[0], DAY).status == 'unknown'
    registry.issue_stock_card(registry.issuer, batch.codes[0], DAY, DAY, **HOLDER)
    assert registry.verify(batch.codes[0], DAY).status == 'valid'
    assert registry.verify(batch.codes[1], DAY).status == 'unknown'


def test_a_random_code_is_never_one_of_the_stock(monkeypatch):
    from kaiku_registry import codes

    registry, batch = _stocked(1)
    fresh = codes.new_code()
    drawn = iter([batch.codes[0], fresh])
    monkeypatch.setattr(codes, 'new_code', lambda: next(drawn))
    card = registry.issue_card(registry.issuer, DAY, **HOLDER)
    assert card.code == fresh


def test_issuing_by_a_stock_code_and_its_states():
    registry, batch = _stocked()
    card = registry.issue_stock_card(registry.issuer, batch.codes[0], DAY, DAY, **HOLDER)
    assert card.code == batch.codes[0] and card.children == 2
    registry.mark_stock_code(batch.codes[1], 'spoiled')
    registry.mark_stock_code(batch.codes[2], 'lost', registry.issuer)
    assert registry.stock_counts(batch) == {'unused': 2, 'issued': 1, 'spoiled': 1, 'lost': 1}
    assert registry.stock_rows(batch)[:3] == [(batch.codes[0], 'issued'), (batch.codes[1], 'spoiled'),
                                              (batch.codes[2], 'lost')]  # fmt: skip


def test_a_stock_code_is_refused_when_it_cannot_be_issued():
    from kaiku_registry import codes

    registry, batch = _stocked()
    other = registry.new_batch(2, DAY)
    registry.allocate_batch(other, registry.other_issuer, DAY)
    registry.issue_stock_card(registry.issuer, batch.codes[0], DAY, DAY, **HOLDER)
    registry.mark_stock_code(batch.codes[1], 'lost')
    issue = registry.issue_stock_card
    _rule('not_in_stock', issue, registry.issuer, other.codes[0], DAY, DAY, **HOLDER)  # another site's
    _rule('not_in_stock', issue, registry.issuer, codes.new_code(), DAY, DAY, **HOLDER)  # in no batch
    _rule('code_issued', issue, registry.issuer, batch.codes[0], DAY, DAY, **HOLDER)
    _rule('code_lost', issue, registry.issuer, batch.codes[1], DAY, DAY, **HOLDER)
    _rule('bad_code', issue, registry.issuer, 'ABCDEFGHJK', DAY, DAY, **HOLDER)
    unallocated = registry.new_batch(1, DAY)
    _rule('not_in_stock', issue, registry.issuer, unallocated.codes[0], DAY, DAY, **HOLDER)
    assert len(registry.cards) == 1


def test_a_code_whose_card_was_deleted_is_never_issued_again():
    registry, batch = _stocked()
    card = registry.issue_stock_card(registry.issuer, batch.codes[0], DAY, DAY, **HOLDER)
    registry.apply_retention(DAY.replace(year=DAY.year + 4))
    assert registry.card(card.id) is None
    assert registry.stock_state(batch.codes[0]) == 'issued'
    _rule('code_issued', registry.issue_stock_card, registry.issuer, batch.codes[0], DAY, DAY, **HOLDER)


def test_a_card_given_on_paper_counts_its_validity_from_the_day_it_was_given():
    registry, batch = _stocked()
    given = DAY - datetime.timedelta(days=30)
    card = registry.issue_stock_card(registry.issuer, batch.codes[0], given, DAY, **HOLDER)
    assert (card.valid_from, card.valid_until) == (given, datetime.date(2027, 11, 5))
    assert ('cards', '') in dict(registry.tallies[('all-month', '2026-11')].items())


@pytest.mark.parametrize(('days', 'code'), [(31, 'too_long_ago'), (-1, 'future_day')])
def test_a_paper_card_is_registered_within_30_days_and_never_ahead(days, code):
    registry, batch = _stocked()
    day = DAY - datetime.timedelta(days=days)
    _rule(code, registry.issue_stock_card, registry.issuer, batch.codes[0], day, DAY, **HOLDER)
    assert registry.stock_state(batch.codes[0]) == 'unused'


def test_an_issued_code_cannot_be_marked_and_marks_are_known():
    registry, batch = _stocked()
    registry.issue_stock_card(registry.issuer, batch.codes[0], DAY, DAY, **HOLDER)
    _rule('code_issued', registry.mark_stock_code, batch.codes[0], 'lost')
    _rule('bad_mark', registry.mark_stock_code, batch.codes[1], 'stolen')
    _rule('not_in_stock', registry.mark_stock_code, batch.codes[1], 'lost', registry.other_issuer)


def test_batches_go_to_issuing_sites_of_their_area_and_stay_once_used():
    registry = _registry()
    batch = registry.new_batch(3, DAY, ('municipality', 'Tampere'))
    _rule('other_area', registry.allocate_batch, batch, registry.other_issuer, DAY)
    _rule('not_issuer', registry.allocate_batch, batch, registry.venue, DAY)
    national = registry.new_batch(3, DAY)
    _rule('other_area', registry.allocate_batch, national, registry.other_issuer, DAY, ('region', 'Uusimaa'))
    registry.allocate_batch(national, registry.other_issuer, DAY)
    registry.allocate_batch(national, registry.issuer, DAY)  # nothing issued yet: it may move
    registry.issue_stock_card(registry.issuer, national.codes[0], DAY, DAY, **HOLDER)
    _rule('batch_in_use', registry.allocate_batch, national, registry.other_issuer, DAY)
    assert set(registry.batches_in(('municipality', 'Tampere'))) == {national, batch}
    assert registry.batches_in(('municipality', 'Nokia')) == []
    assert registry.batches_of_site(registry.issuer) == [national]


# Visits entered afterwards ----------------------------------------------------------------------------
def test_a_late_visit_is_counted_in_its_own_month():
    registry = _registry()
    card = registry.issue_card(registry.issuer, DAY - datetime.timedelta(days=40), **HOLDER)
    day = DAY - datetime.timedelta(days=10)
    visit = registry.record_late_visit(card, registry.venue, day, DAY, 'culture', children=1)
    assert visit.date == day
    assert card.first_use == day
    assert dict(registry.tallies[('all-month', '2026-11')].items())[('adult_uses', 'culture')] == 1


@pytest.mark.parametrize(
    ('days_back', 'issued_days_back', 'code'),
    [(31, 60, 'too_long_ago'), (-1, 60, 'future_day'), (10, 5, 'unknown')],
)
def test_a_late_visit_keeps_the_days_and_the_card_valid_that_day(days_back, issued_days_back, code):
    registry = _registry()
    card = registry.issue_card(registry.issuer, DAY - datetime.timedelta(days=issued_days_back), **HOLDER)
    day = DAY - datetime.timedelta(days=days_back)
    _rule(code, registry.record_late_visit, card, registry.venue, day, DAY, 'culture')
    assert card.uses == 0 and len(registry.visits) == 0


def test_a_late_visit_keeps_the_ticket_rules():
    registry = _registry()
    card = registry.issue_card(registry.issuer, DAY - datetime.timedelta(days=20), **HOLDER)
    day = DAY - datetime.timedelta(days=3)
    _rule('too_many_children', registry.record_late_visit, card, registry.venue, day, DAY, 'culture', 3)
    _rule('not_community', registry.record_late_visit, card, registry.venue, day, DAY, 'culture', group=5)


# Community cards --------------------------------------------------------------------------------------
def test_a_community_card_holds_no_holder_data():
    registry = _registry()
    card = registry.issue_card(registry.issuer, DAY, None, None, 0, community=True)
    assert (card.birth_year, card.postcode, card.community) == (None, None, True)
    assert registry.verify(card.code, DAY).community is True


@pytest.mark.parametrize('group', [0, 41, -3, '5', None])
def test_a_community_visit_needs_a_group_of_sensible_size(group):
    registry = _registry()
    card = registry.issue_card(registry.issuer, DAY, None, None, 0, community=True)
    _rule('bad_group', registry.record_visit, card, registry.venue, DAY, 'culture', group=group)
    assert len(registry.visits) == 0


def test_community_visits_are_counted_apart_and_undone_apart():
    from kaiku_registry.check import check

    registry = _registry()
    card = registry.issue_card(registry.issuer, DAY, None, None, 0, community=True)
    holder = registry.issue_card(registry.issuer, DAY, **HOLDER)
    now = datetime.datetime.now(datetime.UTC)
    group_visit = registry.record_visit(card, registry.venue, DAY, 'culture', group=12, now=now)
    registry.record_visit(holder, registry.venue, DAY, 'culture', children=2, now=now)
    counts = dict(registry.tallies[('all',)].items())
    assert counts[('community_uses', 'culture')] == 1
    assert counts[('community_clients', 'culture')] == 12
    assert counts[('adult_uses', 'culture')] == 1
    assert counts[('child_uses', 'culture')] == 2
    assert check(registry) == []
    registry.undo_visit(group_visit, registry.venue, now=now)
    counts = dict(registry.tallies[('all',)].items())
    assert ('community_uses', 'culture') not in counts and ('community_clients', 'culture') not in counts
    assert check(registry) == []


def test_a_holders_visit_keeps_its_stored_form():
    """A visit without a group stores no ``group`` of its own: visits stored before it existed and
    those stored now compare equal in a bucket's conflict resolution."""
    registry = _registry()
    card = registry.issue_card(registry.issuer, DAY, **HOLDER)
    visit = registry.record_visit(card, registry.venue, DAY, 'culture')
    assert 'group' not in visit.__dict__ and visit.group == 0


# Upgrade ------------------------------------------------------------------------------------------
def test_a_registry_of_shape_4_gets_its_card_stock():
    from kaiku_registry.models import SHAPE

    registry = _registry()
    for name in ('stock_batches', 'stock_codes', 'stock_marks'):
        delattr(registry, name)
    registry.shape = 4
    assert registry.stock_codes is None
    assert registry.upgrade() is True
    assert registry.shape == SHAPE >= 5
    batch = registry.new_batch(2, DAY)
    assert registry.stock_counts(batch)['unused'] == 2
