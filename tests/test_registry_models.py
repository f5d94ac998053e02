"""The card's rules and the running statistics of the registry."""

import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

TODAY = datetime.date(2026, 11, 29)


def _makeRegistry():
    from kaiku_registry.models import CardRegistry

    registry = CardRegistry()
    city = registry.add_partner('Tampereen kaupunki', 'municipality', 'Tampere', 'Pirkanmaa')
    issuer = registry.add_site(city, 'Sosiaalitoimi, keskusta', 'issuer')
    other_issuer = registry.add_site(city, 'Sosiaalitoimi, Hervanta', 'issuer')
    venue = registry.add_site(city, 'Uimahalli', 'venue')
    return registry, issuer, other_issuer, venue


def _rule_error():
    from kaiku_registry.models import RuleError

    return RuleError


@pytest.fixture
def reg():
    return _makeRegistry()


def issue(registry, site, **kw):
    values = {'birth_year': 1980, 'postcode': '33100', 'children': 2}
    values.update(kw)
    return registry.issue_card(site, TODAY, **values)


class TestIssuing:
    def test_card_holds_no_identifying_fields(self, reg):
        registry, issuer, _, _ = reg
        card = issue(registry, issuer)
        exported = card.export()
        assert set(exported) == {
            'id', 'code', 'issuing_site', 'municipality', 'valid_from', 'valid_until', 'status',
            'closed_reason', 'birth_year', 'postcode', 'children', 'gender', 'life_situation',
            'community', 'uses', 'renewed_on', 'history',
        }  # fmt: skip
        assert not {'name', 'hetu', 'birth_date', 'address'} & set(vars(card))

    @pytest.mark.parametrize(('year', 'ok'), [(2010, True), (2011, False), (1906, True), (1905, False)])
    def test_age_is_16_or_turning_16_this_year(self, reg, year, ok):
        registry, issuer, _, _ = reg
        if ok:
            assert issue(registry, issuer, birth_year=year).birth_year == year
        else:
            with pytest.raises(_rule_error()):
                issue(registry, issuer, birth_year=year)
        assert len(registry.cards) == (1 if ok else 0)

    @pytest.mark.parametrize(
        'bad',
        [{'postcode': '3310'}, {'postcode': 'abcde'}, {'children': -1}, {'children': 21},
         {'children': '2'}, {'birth_year': '1980'}, {'gender': 'x'}, {'life_situation': 'rich'}],
    )  # fmt: skip
    def test_bad_holder_data_is_refused_and_nothing_is_stored(self, reg, bad):
        registry, issuer, _, _ = reg
        with pytest.raises(_rule_error()):
            issue(registry, issuer, **bad)
        assert len(registry.cards) == 0
        assert registry.card_count() == 0
        assert len(registry.tallies) == 0

    def test_only_issuing_sites_issue(self, reg):
        registry, _, _, venue = reg
        with pytest.raises(_rule_error()):
            issue(registry, venue)

    def test_valid_one_year_or_until_the_pilot_ends(self, reg):
        registry, issuer, _, _ = reg
        assert issue(registry, issuer).valid_until == datetime.date(2027, 11, 29)
        registry.pilot_ends['Tampere'] = datetime.date(2027, 6, 30)
        assert issue(registry, issuer).valid_until == datetime.date(2027, 6, 30)
        registry.pilot_ends['Tampere'] = datetime.date(2026, 1, 1)
        with pytest.raises(_rule_error()):
            issue(registry, issuer)

    def test_leap_day(self):
        from kaiku_registry.models import one_year_on

        assert one_year_on(datetime.date(2028, 2, 29)) == datetime.date(2029, 2, 28)


class TestVerification:
    def test_statuses(self, reg):
        registry, issuer, _, _ = reg
        card = issue(registry, issuer)
        assert registry.verify(card.code, TODAY).status == 'valid'
        assert registry.verify(card.code, TODAY).children == 2
        later = card.valid_until + datetime.timedelta(days=1)
        assert registry.verify(card.code, later).status == 'expired'
        assert registry.verify(card.code, later).children == 0
        assert registry.verify('23456789AB', TODAY).status == 'unknown'
        registry.close_card(card, 'lost')
        assert registry.verify(card.code, TODAY).status == 'closed'

    def test_registry_wins_over_the_printed_card(self, reg):
        """The door trusts the registry's children count and dates, not what the card says."""
        registry, issuer, _, _ = reg
        card = issue(registry, issuer, children=3)
        card.children = 1  # corrected in the registry after printing
        card.valid_until = TODAY
        result = registry.verify(card.code, TODAY)
        assert (result.children, result.valid_until) == (1, TODAY)
        assert registry.verify(card.code, TODAY + datetime.timedelta(days=1)).status == 'expired'

    def test_replacement_keeps_children_and_stops_the_old_code(self, reg):
        registry, issuer, other, _ = reg
        card = issue(registry, issuer, children=3)
        with pytest.raises(_rule_error()):
            registry.replace_card(card, other, TODAY)
        new = registry.replace_card(card, issuer, TODAY)
        assert new.code != card.code
        assert new.children == 3
        assert (new.birth_year, new.postcode) == (card.birth_year, card.postcode)
        assert registry.verify(card.code, TODAY).status == 'closed'
        assert registry.verify(new.code, TODAY).status == 'valid'
        assert card.replaced_by == new.id
        with pytest.raises(_rule_error()):
            registry.replace_card(card, issuer, TODAY)

    def test_renewal_only_at_the_issuing_site(self, reg):
        registry, issuer, other, _ = reg
        card = issue(registry, issuer)
        later = datetime.date(2027, 11, 1)
        with pytest.raises(_rule_error()):
            registry.renew_card(card, other, later)
        assert registry.renew_card(card, issuer, later).valid_until == datetime.date(2028, 11, 1)


class TestVisits:
    def test_children_limit_and_no_children_on_courses(self, reg):
        registry, issuer, _, venue = reg
        card = issue(registry, issuer, children=2)
        registry.record_visit(card, venue, TODAY, 'sport', children=2)
        with pytest.raises(_rule_error()) as e:
            registry.record_visit(card, venue, TODAY, 'sport', children=3)
        assert e.value.code == 'too_many_children'
        with pytest.raises(_rule_error()) as e:
            registry.record_visit(card, venue, TODAY, 'education', children=1, course=True)
        assert e.value.code == 'no_children_on_courses'
        registry.record_visit(card, venue, TODAY, 'education', course=True, assistant=True)
        assert card.uses == 2
        assert len(registry.visits) == 2

    def test_community_card_takes_a_group_of_under_16s(self, reg):
        registry, issuer, _, venue = reg
        card = issue(registry, issuer, community=True, birth_year=None, postcode=None, children=0)
        assert (card.birth_year, card.postcode, card.community) == (None, None, True)
        visit = registry.record_visit(card, venue, TODAY, 'culture', group=8)
        assert (visit.adults, visit.children, visit.group) == (1, 0, 8)
        assert registry.verify(card.code, TODAY).community

    def test_expired_and_closed_cards_record_nothing(self, reg):
        registry, issuer, _, venue = reg
        card = issue(registry, issuer)
        with pytest.raises(_rule_error()) as e:
            registry.record_visit(card, venue, card.valid_until + datetime.timedelta(days=1), 'sport')
        assert e.value.code == 'expired'
        registry.close_card(card, 'returned')
        with pytest.raises(_rule_error()) as e:
            registry.record_visit(card, venue, TODAY, 'sport')
        assert e.value.code == 'closed'
        assert len(registry.visits) == 0
        assert registry.totals('adult_uses') == 0

    def test_only_venue_sites_record(self, reg):
        registry, issuer, _, _ = reg
        card = issue(registry, issuer)
        with pytest.raises(_rule_error()):
            registry.record_visit(card, issuer, TODAY, 'sport')

    def test_undo_within_30_minutes_by_the_same_site(self, reg):
        registry, issuer, _, venue = reg
        other_venue = registry.add_site(registry.partners[venue.partner_id], 'Museo', 'venue')
        card = issue(registry, issuer)
        at = datetime.datetime(2026, 11, 29, 12, 0, tzinfo=datetime.UTC)
        visit = registry.record_visit(card, venue, TODAY, 'sport', children=1, now=at)
        with pytest.raises(_rule_error()):
            registry.undo_visit(visit, other_venue, now=at)
        with pytest.raises(_rule_error()):
            registry.undo_visit(visit, venue, now=at + datetime.timedelta(minutes=31))
        registry.undo_visit(visit, venue, now=at + datetime.timedelta(minutes=29))
        assert visit.undone
        assert card.uses == 0
        assert registry.totals('adult_uses') == 0
        assert registry.totals('child_uses') == 0
        assert registry.totals('activated') == 0
        with pytest.raises(_rule_error()):
            registry.undo_visit(visit, venue, now=at)


operations = st.lists(
    st.tuples(
        st.sampled_from(['issue', 'visit', 'undo', 'close']),
        st.integers(min_value=0, max_value=50),
        st.integers(min_value=0, max_value=3),
        st.sampled_from(['culture', 'education', 'science', 'sport']),
        st.integers(min_value=0, max_value=40),
    ),
    max_size=60,
)


@settings(max_examples=60, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations)
def test_aggregates_equal_a_recount_of_the_raw_records(ops):
    """Whatever happens, the running statistics equal a count made from the visits themselves."""
    from kaiku_registry.models import RuleError, month_of

    registry, issuer, _, venue = _makeRegistry()
    start = datetime.datetime(2026, 11, 29, 12, 0, tzinfo=datetime.UTC)
    cards, visits = [], []
    for kind, pick, children, sector, minutes in ops:
        now = start + datetime.timedelta(minutes=minutes)
        day = TODAY + datetime.timedelta(days=pick % 3)
        try:
            if kind == 'issue' or not cards:
                cards.append(registry.issue_card(issuer, TODAY, 1990, '33100', children))
            elif kind == 'visit':
                card = cards[pick % len(cards)]
                course = sector == 'education' and pick % 2 == 0
                visits.append(
                    registry.record_visit(
                        card, venue, day, sector, children=0 if course else children, course=course, now=start
                    )
                )
            elif kind == 'undo' and visits:
                registry.undo_visit(visits[pick % len(visits)], venue, now=now)
            elif kind == 'close':
                registry.close_card(cards[pick % len(cards)], 'lost')
        except RuleError:
            pass
    live = [v for v in registry.visits.values() if not v.undone]
    assert registry.totals('adult_uses') == len(live)
    assert registry.totals('child_uses') == sum(v.children for v in live)
    for sector in ('culture', 'education', 'science', 'sport'):
        assert registry.totals('adult_uses', sector=sector) == sum(1 for v in live if v.sector == sector)
    months = {month_of(v.date) for v in live}
    for month in months:
        expected = sum(1 for v in live if month_of(v.date) == month)
        assert registry.totals('adult_uses', month=month) == expected
    assert registry.totals('cards') == len(registry.cards) == registry.card_count()
    activated = {v.card_id for v in live}
    assert registry.totals('activated') == len(activated)
    assert all(card.uses == sum(1 for v in live if v.card_id == card.id) for card in registry.cards.values())
    open_cards = [card for card in registry.cards.values() if not card.closed_reason]
    assert registry.open_cards(datetime.date.min) == len(open_cards)


class TestTokens:
    def test_token_is_stored_hashed_and_can_be_revoked(self, reg):
        registry, _, _, venue = reg
        token = registry.new_token(venue)
        assert token not in repr(list(registry.tokens.keys()))
        assert registry.site_for_token(token) is venue
        assert registry.site_for_token(token + 'x') is None
        assert registry.site_for_token('') is None
        assert registry.site_for_token(None) is None
        assert registry.revoke_tokens(venue) == 1
        assert registry.site_for_token(token) is None

    def test_a_token_of_an_inactive_site_does_not_work(self, reg):
        registry, _, _, venue = reg
        token = registry.new_token(venue)
        venue.active = False
        assert registry.site_for_token(token) is None


class TestRetention:
    def test_old_visits_and_long_closed_cards_go_but_statistics_stay(self, reg):
        registry, issuer, _, venue = reg
        long_ago = datetime.date(2022, 6, 1)
        old_card = registry.issue_card(issuer, long_ago, 1980, '33100', 1)
        old_visit = registry.record_visit(old_card, venue, long_ago, 'sport', children=1)
        card = issue(registry, issuer)
        old_visit_of_live_card = registry.record_visit(
            card, venue, TODAY, 'culture', now=datetime.datetime(2026, 11, 29, tzinfo=datetime.UTC)
        )
        measures = ('adult_uses', 'child_uses', 'cards')
        before = [registry.totals(measure) for measure in measures]
        visits, cards = registry.apply_retention(datetime.date(2026, 11, 29), years=2)
        assert (visits, cards) == (1, 1)
        assert old_visit.id not in registry.visits
        assert old_card.id not in registry.cards
        assert registry.card_by_code(old_card.code) is None
        assert old_visit_of_live_card.id in registry.visits
        assert registry.card_count() == 1
        assert [registry.totals(measure) for measure in measures] == before


def test_open_card_counts_follow_issue_renewal_close_and_replacement(reg):
    registry, issuer, other, _ = reg
    a = issue(registry, issuer)
    b = issue(registry, issuer)
    issue(registry, other)
    year_end = datetime.date(2027, 12, 31)
    assert registry.open_cards(TODAY, year_end) == 3
    assert registry.open_cards(TODAY, year_end, site_id=issuer.id) == 2
    registry.close_card(a, 'lost', TODAY)
    assert registry.open_cards(TODAY) == 2
    new = registry.replace_card(b, issuer, TODAY)
    assert registry.open_cards(TODAY, site_id=issuer.id) == 1
    soon = new.valid_until - datetime.timedelta(days=20)
    assert registry.open_cards(soon, soon + datetime.timedelta(days=30), site_id=issuer.id) == 1
    registry.renew_card(new, issuer, new.valid_until - datetime.timedelta(days=10))
    assert registry.open_cards(soon, soon + datetime.timedelta(days=30), site_id=issuer.id) == 0
    assert registry.open_cards(TODAY) == 2
