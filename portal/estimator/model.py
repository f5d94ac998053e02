"""The estimate itself: volumes, benefits and cost lines from the inputs, with nothing of the web in it.

A municipality that considers joining wants to know how many cards and uses to expect, what the free
tickets are worth, what the work costs and who pays for it.  Every input is a :class:`Range` (low, expected,
high) and so is every output (see :mod:`portal.estimator.ranges`).  Shares are percentages, as people
enter them (38, not 0.38).

Volumes and benefits:

- cards a year = residents aged 16+ × share in a tight financial situation × share reached by issuers;
  renewals a year = cards × share of cards renewed;
- activated cards = cards × activation rate; uses a year = activated cards × uses per activated card.  As
  in the national statistics, a use is one ticket or course place, the children's tickets included;
- a card holder's visit brings ``1 + s × k`` tickets, where ``s`` is the share of visits with children and
  ``k`` the children per such visit, so adult uses (= visits recorded at the door) = uses ÷ (1 + s × k)
  and child uses = the rest;
- the target group = residents × share in a tight financial situation; the share of it reached =
  activated cards ÷ target group;
- value of the free tickets = uses × average ticket value.  It is what the holders receive and what the
  venues forgo: the same money on both sides, a transfer and never a net gain.

Cost lines, each borne by one payer (``payers``, editable per line):

- issuers' time = (cards × minutes per card issued + renewals × minutes per renewal) ÷ 60 × hourly cost,
  split between the county's services and the city's own by the share of cards the county issues;
- the venues' time at the door = visits × seconds per recorded visit ÷ 3,600 × hourly cost;
- coordination = (fixed hours + hours per partner × (venues + issuer sites)) × hourly cost;
- training = hours per partner × (venues + issuer sites) × hourly cost;
- printing = cards × printing per card + fixed materials;
- the network's support (Kaikukeskus) and the registry: euros a year.

Cost per use = total cost ÷ uses; cost per card = total cost ÷ cards; each payer's total is the sum of
its lines, so the payers' totals add up to the total cost.
"""

from dataclasses import dataclass, fields, replace

from portal.estimator.ranges import Range, percent, total

SECTORS = ('culture', 'education', 'science', 'sport')
PAYERS = ('city', 'county', 'venues')
#: The cost lines, in the order the results list them, and who bears each unless the inputs say otherwise.
LINES = (
    ('issuing_county', 'county'),
    ('issuing_city', 'city'),
    ('door', 'venues'),
    ('coordination', 'city'),
    ('training', 'city'),
    ('printing', 'city'),
    ('support', 'city'),
    ('registry', 'city'),
)
LINE_NAMES = tuple(name for name, _payer in LINES)
DEFAULT_PAYERS = dict(LINES)
MINUTES = 60
SECONDS = 3600


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
    hourly_cost: Range
    issue_minutes: Range
    renewal_share: Range
    renewal_minutes: Range
    county_issuer_share: Range
    door_seconds: Range
    venues: Range
    issuer_sites: Range
    coordination_base_hours: Range
    coordination_hours_per_partner: Range
    training_hours_per_partner: Range
    printing_per_card: Range
    materials: Range
    support: Range
    registry: Range
    #: Share of uses in each sector, in percent; they add up to 100.  Not a range: a mix is a scenario.
    sectors: dict
    #: Who bears each cost line: ``{'door': 'venues', ...}``; a line left out has its default payer.
    payers: dict = None

    @classmethod
    def range_names(cls):
        return [f.name for f in fields(cls) if f.name not in ('sectors', 'payers')]

    def payer_of(self, line):
        return (self.payers or {}).get(line, DEFAULT_PAYERS[line])

    def with_values(self, **changes):
        """A copy with some inputs replaced."""
        return replace(self, **changes)

    def at_expected(self):
        """A copy in which every range is its expected value only."""
        return replace(self, **{name: getattr(self, name).at_expected() for name in self.range_names()})


@dataclass(frozen=True)
class Result:
    cards: Range
    renewals: Range
    activated: Range
    uses: Range
    adult_uses: Range
    child_uses: Range
    uses_by_sector: dict
    target_group: Range
    reached_share: Range
    uses_per_1000: Range
    adult_uses_per_1000: Range
    child_uses_per_1000: Range
    ticket_value_total: Range
    partners: Range
    lines: dict
    total_cost: Range
    by_payer: dict
    cost_per_use: Range
    cost_per_card: Range

    def payer_share(self, payer):
        """The payer's part of the expected total cost, in percent (None when the total is zero)."""
        whole = self.total_cost.expected
        return self.by_payer[payer].expected / whole * 100 if whole else None


def estimate(inputs):
    """The expected numbers, with their low and high ends, for ``inputs``."""
    target_group = inputs.residents * inputs.tight_share.map(percent)
    cards = target_group * inputs.reach_share.map(percent)
    renewals = cards * inputs.renewal_share.map(percent)
    activated = cards * inputs.activation.map(percent)
    uses = activated * inputs.uses_per_card
    tickets_per_visit_with_children = inputs.child_visit_share.map(percent) * inputs.children_per_visit
    child_fraction = tickets_per_visit_with_children.map(lambda x: x / (1 + x))
    adult_fraction = Range(*(1 / (1 + x) for x in reversed(tuple(tickets_per_visit_with_children))))
    adult_uses = uses * adult_fraction
    child_uses = uses * child_fraction
    partners = inputs.venues + inputs.issuer_sites
    rate = inputs.hourly_cost
    issuing_hours = (cards * inputs.issue_minutes + renewals * inputs.renewal_minutes).map(_per_minute)
    county_share = inputs.county_issuer_share.map(percent)
    lines = {
        'issuing_county': issuing_hours * county_share * rate,
        'issuing_city': issuing_hours * county_share.complement(1) * rate,
        'door': adult_uses * inputs.door_seconds.map(_per_second) * rate,
        'coordination': (inputs.coordination_base_hours + inputs.coordination_hours_per_partner * partners)
        * rate,
        'training': inputs.training_hours_per_partner * partners * rate,
        'printing': cards * inputs.printing_per_card + inputs.materials,
        'support': inputs.support,
        'registry': inputs.registry,
    }
    total_cost = total(lines[name] for name in LINE_NAMES)
    by_payer = {
        payer: total(lines[name] for name in LINE_NAMES if inputs.payer_of(name) == payer) for payer in PAYERS
    }
    per_1000 = inputs.residents.map(lambda residents: residents / 1000)
    return Result(
        cards=cards,
        renewals=renewals,
        activated=activated,
        uses=uses,
        adult_uses=adult_uses,
        child_uses=child_uses,
        uses_by_sector=uses_by_sector(uses, inputs.sectors),
        target_group=target_group,
        reached_share=activated / target_group * 100,
        uses_per_1000=uses / per_1000,
        adult_uses_per_1000=adult_uses / per_1000,
        child_uses_per_1000=child_uses / per_1000,
        ticket_value_total=uses * inputs.ticket_value,
        partners=partners,
        lines=lines,
        total_cost=total_cost,
        by_payer=by_payer,
        cost_per_use=total_cost / uses,
        cost_per_card=total_cost / cards,
    )


def _per_minute(value):
    return value / MINUTES


def _per_second(value):
    return value / SECONDS


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
