"""The estimator's arithmetic: hand-computed cases, the national figures, and ranges that stay ordered."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st


def _range(*values):
    from portal.estimator import Range

    return Range(*values)


def _exactly(value):
    from portal.estimator import Range

    return Range.exactly(value)


def _inputs(**overrides):
    """A small municipality whose figures are easy to follow by hand."""
    from portal.estimator import Inputs

    values = {
        'residents': _exactly(1000),
        'tight_share': _exactly(10),
        'reach_share': _exactly(50),
        'activation': _exactly(40),
        'uses_per_card': _exactly(10),
        'child_visit_share': _exactly(25),
        'children_per_visit': _exactly(2),
        'ticket_value': _exactly(10),
        'coordination_hours': _exactly(10),
        'hourly_cost': _exactly(30),
        'printing': _exactly(400),
        'training_hours': _exactly(20),
        'sectors': {'culture': 25, 'education': 25, 'science': 25, 'sport': 25},
    }
    values.update(overrides)
    return Inputs(**values)


def _callFUT(inputs):
    from portal.estimator import estimate

    return estimate(inputs)


class TestHandComputed:
    def test_cards_uses_and_people(self):
        result = _callFUT(_inputs())
        # 1,000 residents × 10 % × 50 % = 50 cards; 40 % of them = 20 activated; × 10 = 200 uses.
        assert result.cards.expected == pytest.approx(50)
        assert result.activated.expected == pytest.approx(20)
        assert result.uses.expected == pytest.approx(200)
        # A visit brings 1 + 25 % × 2 = 1.5 tickets: 200 ÷ 1.5 = 133.3 adult uses, 66.7 child uses.
        assert result.adult_uses.expected == pytest.approx(400 / 3)
        assert result.child_uses.expected == pytest.approx(200 / 3)
        assert [value.expected for value in result.uses_by_sector.values()] == pytest.approx([50] * 4)
        assert result.uses_per_1000.expected == pytest.approx(200)

    def test_money(self):
        result = _callFUT(_inputs())
        assert result.ticket_value_total.expected == pytest.approx(2000)  # 200 uses × 10 €
        # (10 h × 12 months + 20 training hours) × 30 € = 4,200 €, plus 400 € printing.
        assert result.staff_cost.expected == pytest.approx(4200)
        assert result.direct_cost.expected == pytest.approx(4600)
        assert result.cost_per_use.expected == pytest.approx(23)  # 4,600 ÷ 200
        assert result.cost_per_holder.expected == pytest.approx(92)  # 4,600 ÷ 50

    def test_sector_mix(self):
        sectors = {'culture': 7, 'education': 2, 'science': 1, 'sport': 90}
        result = _callFUT(_inputs(sectors=sectors))
        assert result.uses_by_sector['sport'].expected == pytest.approx(180)
        assert result.uses_by_sector['science'].expected == pytest.approx(2)
        total = sum(value.expected for value in result.uses_by_sector.values())
        assert total == pytest.approx(result.uses.expected)

    def test_ranges_use_the_ends_that_make_a_result_smallest_and_largest(self):
        result = _callFUT(
            _inputs(
                reach_share=_range(40, 50, 60),
                coordination_hours=_range(5, 10, 20),
                printing=_range(0, 400, 400),
            )
        )
        assert tuple(result.cards) == pytest.approx((40, 50, 60))
        # Cost: low = (5 × 12 + 20) × 30 + 0 = 2,400; high = (20 × 12 + 20) × 30 + 400 = 8,200.
        assert tuple(result.direct_cost) == pytest.approx((2400, 4600, 8200))
        # Per use: the smallest cost over the most uses, the largest cost over the fewest.
        assert result.cost_per_use.low == pytest.approx(2400 / 240)
        assert result.cost_per_use.high == pytest.approx(8200 / 160)

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
        assert result.cost_per_holder.expected is None
        assert result.direct_cost.expected == pytest.approx(4600)


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


ordered = st.lists(
    st.floats(min_value=0, max_value=1_000, allow_nan=False, allow_infinity=False), min_size=3, max_size=3
).map(sorted)
percents = st.lists(st.floats(min_value=0, max_value=100), min_size=3, max_size=3).map(sorted)


@settings(max_examples=200, deadline=None)
@given(
    residents=ordered,
    tight=percents,
    reach=percents,
    activation=percents,
    per_card=ordered,
    child_share=percents,
    children=ordered,
    ticket=ordered,
    hours=ordered,
    rate=ordered,
    printing=ordered,
    training=ordered,
)
def test_every_result_keeps_low_below_expected_below_high(
    residents,
    tight,
    reach,
    activation,
    per_card,
    child_share,
    children,
    ticket,
    hours,
    rate,
    printing,
    training,
):
    from portal.estimator import Range

    result = _callFUT(
        _inputs(
            residents=Range(*residents),
            tight_share=Range(*tight),
            reach_share=Range(*reach),
            activation=Range(*activation),
            uses_per_card=Range(*per_card),
            child_visit_share=Range(*child_share),
            children_per_visit=Range(*children),
            ticket_value=Range(*ticket),
            coordination_hours=Range(*hours),
            hourly_cost=Range(*rate),
            printing=Range(*printing),
            training_hours=Range(*training),
        )
    )
    figures = [value for value in vars(result).values() if not isinstance(value, dict)]
    figures += list(result.uses_by_sector.values())
    for figure in figures:
        low, expected, high = figure
        if None in (low, expected, high):
            continue
        assert low <= expected <= high
