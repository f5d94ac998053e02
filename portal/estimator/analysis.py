"""What drives the estimate: one input at a time, the activation needed to break even, and scenarios.

Ranges computed with interval arithmetic say how far a result *can* move, not which input moves it.  The
sensitivity analysis holds every input at its expected value and moves one input at a time to its low and
to its high end; the inputs are then ranked by how far that moves the cost per use.  The break-even line
answers the question a council asks the other way round: how many of the cards issued must be used for
the cost per use to stay under a given sum?  The total cost grows linearly with the activation rate (only
the venues' time at the door follows the uses) and so do the uses, so the answer is exact.
"""

from dataclasses import dataclass

from portal.estimator.model import estimate
from portal.estimator.ranges import Range


@dataclass(frozen=True)
class Swing:
    """How far one input, from its low to its high end, moves the cost per use and the county's cost."""

    name: str
    low: float
    high: float
    cost_per_use_low: float | None
    cost_per_use_high: float | None
    county_low: float
    county_high: float

    @property
    def cost_per_use_swing(self):
        values = [v for v in (self.cost_per_use_low, self.cost_per_use_high) if v is not None]
        return max(values) - min(values) if values else 0.0

    @property
    def county_swing(self):
        return abs(self.county_high - self.county_low)


def sensitivity(inputs):
    """A :class:`Swing` per range input, the input that moves the cost per use most first."""
    base = inputs.at_expected()
    swings = []
    for name in inputs.range_names():
        value = getattr(inputs, name)
        if value.low == value.high:
            continue
        at_low = estimate(base.with_values(**{name: Range.exactly(value.low)}))
        at_high = estimate(base.with_values(**{name: Range.exactly(value.high)}))
        swings.append(
            Swing(
                name=name,
                low=value.low,
                high=value.high,
                cost_per_use_low=at_low.cost_per_use.expected,
                cost_per_use_high=at_high.cost_per_use.expected,
                county_low=at_low.by_payer['county'].expected,
                county_high=at_high.by_payer['county'].expected,
            )
        )
    swings.sort(key=lambda swing: (-swing.cost_per_use_swing, -swing.county_swing, swing.name))
    return swings


def break_even_activation(inputs, cost_per_use):
    """The least activation rate (percent) at which the expected cost per use is at most ``cost_per_use``.

    None when no activation rate up to 100 % gets there.
    """
    base = inputs.at_expected()
    none = estimate(base.with_values(activation=Range.exactly(0)))
    full = estimate(base.with_values(activation=Range.exactly(100)))
    fixed = none.total_cost.expected
    cost_per_point = (full.total_cost.expected - fixed) / 100
    uses_per_point = full.uses.expected / 100
    margin = cost_per_use * uses_per_point - cost_per_point
    if margin <= 0:
        return None
    needed = fixed / margin
    return needed if needed <= 100 else None


@dataclass(frozen=True)
class Scenario:
    key: str
    inputs: object
    result: object


def scenarios(inputs, compare_sectors, pilot_share):
    """The defaults, a mix like the Kipinä card's, and a one-year pilot in ``pilot_share`` % of the city.

    The Kipinä-like scenario changes only the sector mix: the same uses, most of them in swimming halls.
    The pilot covers that share of the residents, venues and issuer sites and lasts one year, so no card is
    renewed; the fixed costs stay whole.
    """
    share = Range.exactly(pilot_share / 100)
    pilot = inputs.with_values(
        residents=inputs.residents * share,
        venues=inputs.venues * share,
        issuer_sites=inputs.issuer_sites * share,
        renewal_share=Range.exactly(0),
    )
    kipina = inputs.with_values(sectors=dict(compare_sectors))
    return [
        Scenario(key, scenario, estimate(scenario))
        for key, scenario in (('defaults', inputs), ('kipina', kipina), ('pilot', pilot))
    ]
