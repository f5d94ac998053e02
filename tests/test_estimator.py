"""The estimator's arithmetic: one case worked by hand, the national figures, and properties over generated
inputs (ranges stay ordered, more residents never cost less, the payers' totals add up to the whole)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st


def _range(*values):
    from portal.estimator import Range

    return Range(*values)


def _exactly(value):
    from portal.estimator import Range

    return Range.exactly(value)


HAND = {
    'residents': 1000,
    'tight_share': 10,
    'reach_share': 50,
    'activation': 40,
    'uses_per_card': 10,
    'child_visit_share': 25,
    'children_per_visit': 2,
    'ticket_value': 10,
    'hourly_cost': 30,
    'issue_minutes': 12,
    'renewal_share': 40,
    'renewal_minutes': 6,
    'county_issuer_share': 75,
    'door_seconds': 90,
    'venues': 4,
    'issuer_sites': 2,
    'coordination_base_hours': 20,
    'coordination_hours_per_partner': 5,
    'training_hours_per_partner': 2,
    'printing_per_card': 2,
    'materials': 200,
    'support': 1000,
    'registry': 140,
}


def _inputs(**overrides):
    """A small municipality whose figures are easy to follow by hand."""
    from portal.estimator import Inputs

    values = {name: _exactly(value) for name, value in HAND.items()}
    values['sectors'] = {'culture': 25, 'education': 25, 'science': 25, 'sport': 25}
    values.update(overrides)
    return Inputs(**values)


def _callFUT(inputs):
    from portal.estimator import estimate

    return estimate(inputs)


class TestHandComputed:
    def test_cards_uses_and_people(self):
        result = _callFUT(_inputs())
        # 1,000 residents × 10 % = 100 in the target group; × 50 % = 50 cards; 40 % of them renewed = 20.
        assert result.target_group.expected == pytest.approx(100)
        assert result.cards.expected == pytest.approx(50)
        assert result.renewals.expected == pytest.approx(20)
        # 40 % of the cards = 20 activated; × 10 = 200 uses; 20 of 100 in the target group use the card.
        assert result.activated.expected == pytest.approx(20)
        assert result.uses.expected == pytest.approx(200)
        assert result.reached_share.expected == pytest.approx(20)
        # A visit brings 1 + 25 % × 2 = 1.5 tickets: 200 ÷ 1.5 = 133.3 adult uses, 66.7 child uses.
        assert result.adult_uses.expected == pytest.approx(400 / 3)
        assert result.child_uses.expected == pytest.approx(200 / 3)
        assert [value.expected for value in result.uses_by_sector.values()] == pytest.approx([50] * 4)
        assert result.uses_per_1000.expected == pytest.approx(200)
        assert result.adult_uses_per_1000.expected == pytest.approx(400 / 3)
        assert result.child_uses_per_1000.expected == pytest.approx(200 / 3)

    def test_cost_lines(self):
        lines = {name: value.expected for name, value in _callFUT(_inputs()).lines.items()}
        # Issuers: (50 cards × 12 min + 20 renewals × 6 min) ÷ 60 = 12 h × 30 € = 360 €; the county's
        # services issue 75 %: 270 €, the city's 90 €.
        assert lines['issuing_county'] == pytest.approx(270)
        assert lines['issuing_city'] == pytest.approx(90)
        # Door: 133.3 visits × 90 s ÷ 3,600 = 3.33 h × 30 € = 100 €.
        assert lines['door'] == pytest.approx(100)
        # Coordination: (20 h + 5 h × (4 venues + 2 issuer sites)) × 30 € = 50 h × 30 € = 1,500 €.
        assert lines['coordination'] == pytest.approx(1500)
        # Training: 2 h × 6 partners × 30 € = 360 €.
        assert lines['training'] == pytest.approx(360)
        # Printing: 50 cards × 2 € + 200 € = 300 €; the network's support and the registry as given.
        assert lines['printing'] == pytest.approx(300)
        assert lines['support'] == pytest.approx(1000)
        assert lines['registry'] == pytest.approx(140)

    def test_totals_payers_and_ratios(self):
        result = _callFUT(_inputs())
        # 270 + 90 + 100 + 1,500 + 360 + 300 + 1,000 + 140 = 3,760 €.
        assert result.total_cost.expected == pytest.approx(3760)
        # The county bears its issuers' time, the venues their time at the door, the city the rest.
        assert result.by_payer['county'].expected == pytest.approx(270)
        assert result.by_payer['venues'].expected == pytest.approx(100)
        assert result.by_payer['city'].expected == pytest.approx(3390)
        assert result.payer_share('county') == pytest.approx(270 / 3760 * 100)
        assert result.cost_per_use.expected == pytest.approx(18.8)  # 3,760 ÷ 200
        assert result.cost_per_card.expected == pytest.approx(75.2)  # 3,760 ÷ 50
        # The ticket value is what holders receive and venues forgo: 200 × 10 €, never part of the cost.
        assert result.ticket_value_total.expected == pytest.approx(2000)

    def test_a_line_moves_to_another_payer(self):
        result = _callFUT(_inputs(payers={'coordination': 'county', 'door': 'city'}))
        assert result.by_payer['county'].expected == pytest.approx(270 + 1500)
        assert result.by_payer['venues'].expected == pytest.approx(0)
        assert result.by_payer['city'].expected == pytest.approx(3390 - 1500 + 100)
        assert result.total_cost.expected == pytest.approx(3760)

    def test_cost_follows_the_volume(self):
        # Twice the residents: twice the cards, renewals and visits, so the issuers' and the venues' time
        # and the printing per card double; coordination follows the partners, not the residents.
        one = _callFUT(_inputs())
        two = _callFUT(_inputs(residents=_exactly(2000)))
        for line in ('issuing_county', 'issuing_city', 'door'):
            assert two.lines[line].expected == pytest.approx(2 * one.lines[line].expected)
        assert two.lines['printing'].expected == pytest.approx(100 * 2 + 200)
        assert two.lines['coordination'].expected == pytest.approx(1500)
        more_partners = _callFUT(_inputs(venues=_exactly(10)))
        assert more_partners.lines['coordination'].expected == pytest.approx((20 + 5 * 12) * 30)

    def test_sector_mix(self):
        sectors = {'culture': 7, 'education': 2, 'science': 1, 'sport': 90}
        result = _callFUT(_inputs(sectors=sectors))
        assert result.uses_by_sector['sport'].expected == pytest.approx(180)
        assert result.uses_by_sector['science'].expected == pytest.approx(2)
        total = sum(value.expected for value in result.uses_by_sector.values())
        assert total == pytest.approx(result.uses.expected)

    def test_ranges_use_the_ends_that_make_a_result_smallest_and_largest(self):
        result = _callFUT(_inputs(reach_share=_range(40, 50, 60), county_issuer_share=_range(50, 75, 100)))
        assert tuple(result.cards) == pytest.approx((40, 50, 60))
        # Issuing hours: 40 cards → (480 + 96) ÷ 60 = 9.6 h; 60 cards → 14.4 h.  The county's part is
        # smallest with the fewest cards and the smallest share, the city's with the fewest cards and the
        # county's largest share (nothing left for the city).
        assert tuple(result.lines['issuing_county']) == pytest.approx((9.6 * 0.5 * 30, 270, 14.4 * 30))
        assert tuple(result.lines['issuing_city']) == pytest.approx((0, 90, 14.4 * 0.5 * 30))
        # Per use: the smallest cost over the most uses, the largest cost over the fewest.
        assert result.cost_per_use.low == pytest.approx(result.total_cost.low / result.uses.high)
        assert result.cost_per_use.high == pytest.approx(result.total_cost.high / result.uses.low)

    def test_children_lower_the_adult_share_at_the_high_end(self):
        result = _callFUT(_inputs(child_visit_share=_range(0, 25, 50)))
        # No children: all 200 uses are adults'; 50 % × 2 children: 200 ÷ 2 = 100 adult uses.
        assert result.adult_uses.high == pytest.approx(200)
        assert result.adult_uses.low == pytest.approx(100)
        assert result.child_uses.low == pytest.approx(0)
        assert result.child_uses.high == pytest.approx(100)

    def test_nothing_to_divide_by_gives_no_figure(self):
        result = _callFUT(_inputs(reach_share=_exactly(0)))
        assert result.cards.expected == 0
        assert result.cost_per_use.expected is None
        assert result.cost_per_card.expected is None
        # What is left is what does not follow the cards: coordination, training, materials, support,
        # the registry.
        assert result.total_cost.expected == pytest.approx(1500 + 360 + 200 + 1000 + 140)


class TestAnalysis:
    def test_break_even_activation_by_hand(self):
        from portal.estimator import break_even_activation

        # At 0 % activation the cost is 3,760 − 100 (no visits at the door) = 3,660 €.  Each percentage
        # point brings 5 uses and 2.5 € of door time, so cost per use ≤ 10 € when
        # 3,660 + 2.5 a ≤ 10 × 5 a, that is a ≥ 3,660 ÷ 47.5 = 77.05 %.
        needed = break_even_activation(_inputs(), 10)
        assert needed == pytest.approx(3660 / 47.5)
        at_needed = _callFUT(_inputs(activation=_exactly(needed)))
        assert at_needed.cost_per_use.expected == pytest.approx(10)

    def test_break_even_out_of_reach(self):
        from portal.estimator import break_even_activation

        assert break_even_activation(_inputs(), 5) is None  # even at 100 %: 3,910 ÷ 500 = 7.8 €

    def test_sensitivity_moves_one_input_at_a_time(self):
        from portal.estimator import sensitivity

        inputs = _inputs(residents=_range(500, 1000, 2000), hourly_cost=_range(20, 30, 40))
        swings = {swing.name: swing for swing in sensitivity(inputs)}
        assert set(swings) == {'residents', 'hourly_cost'}  # the others have no range to move
        low = _callFUT(_inputs(residents=_exactly(500)))
        assert swings['residents'].cost_per_use_low == pytest.approx(low.cost_per_use.expected)
        assert swings['hourly_cost'].county_high == pytest.approx(270 / 30 * 40)
        # Half the residents double the fixed costs per use: residents drive the cost per use most.
        assert sensitivity(inputs)[0].name == 'residents'

    def test_scenarios(self):
        from portal.estimator import scenarios

        kipina_mix = {'culture': 7, 'education': 2, 'science': 1, 'sport': 90}
        defaults, kipina, pilot = scenarios(_inputs(), kipina_mix, 25)
        assert [s.key for s in (defaults, kipina, pilot)] == ['defaults', 'kipina', 'pilot']
        assert kipina.result.uses_by_sector['sport'].expected == pytest.approx(180)
        assert kipina.result.total_cost.expected == pytest.approx(defaults.result.total_cost.expected)
        # The pilot: 250 residents → 12.5 cards, no renewals; 1 venue and 0.5 issuer sites.
        assert pilot.result.cards.expected == pytest.approx(12.5)
        assert pilot.result.renewals.expected == 0
        assert pilot.result.lines['coordination'].expected == pytest.approx((20 + 5 * 1.5) * 30)


class TestNationalFigures:
    def test_2023_statistics_give_38_percent_and_9_1_uses(self):
        from portal.estimator import rates_from_statistics

        activation, per_card = rates_from_statistics(registered=14_789, activated=5_608, uses=51_188)
        assert round(activation) == 38
        assert round(per_card, 1) == 9.1

    def test_the_estimate_reproduces_the_2023_uses(self):
        from portal.estimator import rates_from_statistics

        activation, per_card = rates_from_statistics(14_789, 5_608, 51_188)
        result = _callFUT(
            _inputs(
                residents=_exactly(14_789),
                tight_share=_exactly(100),
                reach_share=_exactly(100),
                activation=_exactly(activation),
                uses_per_card=_exactly(per_card),
            )
        )
        assert result.activated.expected == pytest.approx(5_608)
        assert result.uses.expected == pytest.approx(51_188)

    def test_default_child_figures_match_the_ten_year_share_of_children(self):
        # About 60,600 of 268,000 uses in ten years were children's: 19.5 % of visits × 1.5 children.
        result = _callFUT(_inputs(child_visit_share=_exactly(19.5), children_per_visit=_exactly(1.5)))
        share = result.child_uses.expected / result.uses.expected
        assert share == pytest.approx(60_600 / 268_000, abs=0.001)


def test_funding_split():
    from portal.estimator import funding_split

    city, county = funding_split(_range(1000, 2000, 4000), 25)
    assert tuple(city) == pytest.approx((250, 500, 1000))
    assert tuple(county) == pytest.approx((750, 1500, 3000))


# Properties over generated inputs ------------------------------------------------------------------------
def _ordered(maximum):
    number = st.floats(min_value=0, max_value=maximum, allow_nan=False, allow_infinity=False)
    return st.lists(number, min_size=3, max_size=3).map(sorted)


PERCENT_INPUTS = {'tight_share', 'reach_share', 'activation', 'child_visit_share', 'renewal_share',
                  'county_issuer_share'}  # fmt: skip
PAYERS = st.sampled_from(('city', 'county', 'venues'))


@st.composite
def generated_inputs(draw):
    from portal.estimator import LINE_NAMES, Range

    values = {
        name: Range(*draw(_ordered(100 if name in PERCENT_INPUTS else 10_000)))
        for name in HAND
        if name != 'residents'
    }
    values['residents'] = Range(*draw(_ordered(1_000_000)))
    values['payers'] = {line: draw(PAYERS) for line in LINE_NAMES}
    return _inputs(**values)


def _figures(result):
    figures = [value for value in vars(result).values() if not isinstance(value, dict)]
    return figures + list(result.uses_by_sector.values()) + list(result.lines.values())


@settings(max_examples=200, deadline=None)
@given(inputs=generated_inputs())
def test_every_result_keeps_low_below_expected_below_high(inputs):
    for figure in _figures(_callFUT(inputs)):
        low, expected, high = figure
        if None in (low, expected, high):
            continue
        assert low <= expected * (1 + 1e-9) + 1e-9
        assert expected <= high * (1 + 1e-9) + 1e-9


@settings(max_examples=200, deadline=None)
@given(inputs=generated_inputs(), more=st.floats(min_value=0, max_value=1_000_000))
def test_more_residents_never_cost_less(inputs, more):
    from portal.estimator import PAYERS as payers

    bigger = inputs.with_values(residents=inputs.residents + more)
    before, after = _callFUT(inputs), _callFUT(bigger)
    pairs = [(before.total_cost, after.total_cost)]
    pairs += [(before.by_payer[payer], after.by_payer[payer]) for payer in payers]
    for small, big in pairs:
        for a, b in zip(small, big, strict=True):
            assert b >= a * (1 - 1e-9) - 1e-9


@settings(max_examples=200, deadline=None)
@given(inputs=generated_inputs())
def test_each_payers_totals_add_up_to_the_whole(inputs):
    result = _callFUT(inputs)
    for i, whole in enumerate(result.total_cost):
        parts = sum(tuple(total)[i] for total in result.by_payer.values())
        assert parts == pytest.approx(whole, rel=1e-9, abs=1e-6)
    shares = [result.payer_share(payer) for payer in result.by_payer]
    if result.total_cost.expected:
        assert sum(shares) == pytest.approx(100)
