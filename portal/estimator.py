"""The arithmetic of the Kaikukortti cost-benefit estimator, with nothing of the web in it.

A municipality that considers joining wants to know how many cards and uses to expect, what the free
tickets are worth to the venues, and what the municipality itself pays.  Every input is a :class:`Range`
(low, expected, high) and so is every output.  The outputs are computed with interval arithmetic: each
formula only adds, multiplies and divides quantities that are zero or more, so the low end of a result is
the formula applied to the ends of its inputs that make it smallest (for a quotient, the smallest
numerator over the largest denominator) and the high end likewise.  The range of a result therefore always
holds the expected value, provided each input's range does.

Shares are percentages, as people enter them (38, not 0.38).  How the result is computed:

- cards a year = residents aged 16+ × share in a tight financial situation × share reached by issuers;
- activated cards = cards × activation rate;
- uses a year = activated cards × uses per activated card.  As in the national statistics, a use is one
  ticket or course place, the children's tickets included;
- a card holder's visit brings ``1 + s × k`` tickets, where ``s`` is the share of visits with children and
  ``k`` the children per such visit, so adult uses = uses ÷ (1 + s × k) and child uses = the rest;
- uses by sector = uses × the sector's share;
- value of free tickets = uses × average ticket value (the venues forgo it; it is not paid by anyone);
- direct cost = coordination hours a month × 12 × hourly cost + training hours × hourly cost + printing;
- cost per use = direct cost ÷ uses; cost per card holder = direct cost ÷ cards;
- uses per 1,000 residents aged 16+ = uses ÷ residents × 1,000.
"""

from dataclasses import dataclass, fields

SECTORS = ('culture', 'education', 'science', 'sport')
MONTHS = 12


@dataclass(frozen=True)
class Range:
    """A quantity known to lie between ``low`` and ``high``, most likely ``expected``.

    A bound is None when it cannot be computed (a division by zero).
    """

    low: float | None
    expected: float | None
    high: float | None

    @classmethod
    def exactly(cls, value):
        return cls(value, value, value)

    def __iter__(self):
        return iter((self.low, self.expected, self.high))

    def _combine(self, other, op):
        other = other if isinstance(other, Range) else Range.exactly(other)
        return Range(*(_apply(op, a, b) for a, b in zip(self, other, strict=True)))

    def __add__(self, other):
        return self._combine(other, float.__add__)

    __radd__ = __add__

    def __mul__(self, other):
        return self._combine(other, float.__mul__)

    __rmul__ = __mul__

    def __truediv__(self, other):
        """The quotient's range: the smallest numerator over the largest denominator, and so on."""
        other = other if isinstance(other, Range) else Range.exactly(other)
        return Range(
            _divide(self.low, other.high),
            _divide(self.expected, other.expected),
            _divide(self.high, other.low),
        )

    def map(self, function):
        """Apply an increasing function to each bound."""
        return Range(*(None if value is None else function(value) for value in self))


def _apply(op, a, b):
    if a is None or b is None:
        return None
    return op(float(a), float(b))


def _divide(a, b):
    if a is None or b is None or b == 0:
        return None
    return float(a) / float(b)


def percent(value):
    return value / 100


@dataclass(frozen=True)
class Inputs:
    """What the estimate starts from.  Shares are percentages; money is in euros."""

    residents: Range
    tight_share: Range
    reach_share: Range
    activation: Range
    uses_per_card: Range
    child_visit_share: Range
    children_per_visit: Range
    ticket_value: Range
    coordination_hours: Range
    hourly_cost: Range
    printing: Range
    training_hours: Range
    #: Share of uses in each sector, in percent; they add up to 100.  Not a range: a mix is a scenario.
    sectors: dict

    @classmethod
    def range_names(cls):
        return [f.name for f in fields(cls) if f.name != 'sectors']


@dataclass(frozen=True)
class Result:
    cards: Range
    activated: Range
    uses: Range
    adult_uses: Range
    child_uses: Range
    uses_by_sector: dict
    ticket_value_total: Range
    staff_cost: Range
    direct_cost: Range
    cost_per_use: Range
    cost_per_holder: Range
    uses_per_1000: Range


def estimate(inputs):
    """The expected numbers, with their low and high ends, for ``inputs``."""
    cards = inputs.residents * inputs.tight_share.map(percent) * inputs.reach_share.map(percent)
    activated = cards * inputs.activation.map(percent)
    uses = activated * inputs.uses_per_card
    tickets_per_visit_with_children = inputs.child_visit_share.map(percent) * inputs.children_per_visit
    child_fraction = tickets_per_visit_with_children.map(lambda x: x / (1 + x))
    adult_fraction = Range(*(1 / (1 + x) for x in reversed(tuple(tickets_per_visit_with_children))))
    staff_hours = inputs.coordination_hours * MONTHS + inputs.training_hours
    staff_cost = staff_hours * inputs.hourly_cost
    direct_cost = staff_cost + inputs.printing
    return Result(
        cards=cards,
        activated=activated,
        uses=uses,
        adult_uses=uses * adult_fraction,
        child_uses=uses * child_fraction,
        uses_by_sector={sector: uses * percent(inputs.sectors[sector]) for sector in SECTORS},
        ticket_value_total=uses * inputs.ticket_value,
        staff_cost=staff_cost,
        direct_cost=direct_cost,
        cost_per_use=direct_cost / uses,
        cost_per_holder=direct_cost / cards,
        uses_per_1000=uses / inputs.residents * 1000,
    )


def uses_by_sector(uses, sectors):
    """Split ``uses`` (a Range) by a sector mix in percent: how another mix would spread the same uses."""
    return {sector: uses * percent(sectors[sector]) for sector in SECTORS}


def funding_split(cost, city_share):
    """The city's and the wellbeing services county's part of ``cost`` when the city pays ``city_share`` %."""
    city = cost * percent(city_share)
    county = cost * percent(100 - city_share)
    return city, county


def rates_from_statistics(registered, activated, uses):
    """The activation rate (percent) and uses per activated card that a year's statistics show."""
    return activated / registered * 100, uses / activated
