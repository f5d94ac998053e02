"""The estimator's figures shaped for people: numbers in the reader's format, the rows of each table, the
formulas with the expected values written in, the sensitivity table and chart, the break-even sentence and
the scenarios side by side.  Nothing here reads a request: :mod:`portal.views.estimator` hands in the
inputs, the result and a translator.
"""

from babel.numbers import format_decimal

from portal.estimator import LINE_NAMES, PAYERS, SECTORS, break_even_activation, estimate, sensitivity
from portal.i18n import _
from portal.resources.estimate import INPUTS, LINE_TITLES, PAYER_TITLES, SECTOR_TITLES, UNITS
from portal.views.estimator_chart import swing_chart_svg

#: Number formats by kind of quantity (Babel patterns).
FORMATS = {
    'count': '#,##0',
    'euro': '#,##0',
    'euro_cents': '#,##0.00',
    'decimal': '#,##0.0',
    'input': '0.##',
    'figure': '#,##0.##',
}
#: The outcomes the network itself measures: what, and the page that says so (with the year).
OUTCOMES = (
    (
        _('A wellbeing measure taken when a card is issued and again when it is renewed'),
        'https://kaikukortti.fi/en/workshop-about-measuring-and-seeking-for-cultural-companionship-with-kaikukortti/',
        None,
    ),
    (
        _('Indicators recorded in the renewed Kaikukanta registry from 2025'),
        'https://www.kulttuurivalve.fi/en/2025/11/12/kaikukortti-celebrates-10-years',
        2025,
    ),
    (
        _('Uses by adults and children in culture, education, science and sport, in the national statistics'),
        'https://kaikukortti.fi/lisatietoa/kaikukortin-tilastot/',
        2023,
    ),
)


class Numbers:
    """Formats the estimator's numbers for the reader's language."""

    def __init__(self, lang):
        self.lang = lang

    def __call__(self, value, kind='count'):
        if value is None:
            return '–'
        text = format_decimal(value, format=FORMATS[kind], locale=self.lang)
        return f'{text} €' if kind.startswith('euro') else text

    def range(self, values, kind='count'):
        return [self(value, kind) for value in values]


def result_rows(result):
    """The results table: (label, kind, Range, is a sub-row)."""
    sector_titles = dict(SECTOR_TITLES)
    payer_titles = dict(PAYER_TITLES)
    rows = [
        (_('Cards issued a year'), 'count', result.cards, False),
        (_('Cards renewed a year'), 'count', result.renewals, False),
        (_('Cards activated a year'), 'count', result.activated, False),
        (_('Share of the target group who use the card (%)'), 'decimal', result.reached_share, False),
        (_('Uses a year'), 'count', result.uses, False),
        (_('by adults'), 'count', result.adult_uses, True),
        (_('by children'), 'count', result.child_uses, True),
    ]
    rows += [(sector_titles[s], 'count', result.uses_by_sector[s], True) for s in SECTORS]
    rows += [
        (_('Uses per 1,000 residents aged 16 or over'), 'decimal', result.uses_per_1000, False),
        (_('by adults'), 'decimal', result.adult_uses_per_1000, True),
        (_('by children'), 'decimal', result.child_uses_per_1000, True),
        (_('Total cost a year'), 'euro', result.total_cost, False),
    ]
    rows += [(payer_titles[p], 'euro', result.by_payer[p], True) for p in PAYERS]
    rows += [
        (_('Cost per use'), 'euro_cents', result.cost_per_use, False),
        (_('Cost per card issued'), 'euro_cents', result.cost_per_card, False),
    ]
    return rows


def line_rows(inputs, result):
    """The cost lines: (title, payer's title, Range)."""
    payers = dict(PAYER_TITLES)
    return [(title, payers[inputs.payer_of(line)], result.lines[line]) for line, title in LINE_TITLES]


def payer_rows(result):
    """Each payer's total and share of the expected total: (payer's title, Range, share in percent)."""
    return [(title, result.by_payer[payer], result.payer_share(payer)) for payer, title in PAYER_TITLES]


def formulas(inputs, result, num):
    """The formulas with the expected figures written in, as translation strings."""
    e = {name: getattr(inputs, name).expected for name in inputs.range_names()}
    r = result
    lines = {name: r.lines[name].expected for name in LINE_NAMES}

    def x(value, kind='figure'):
        return num(value, kind)

    return [
        _(
            'Cards a year = residents aged 16+ × share in a tight financial situation × share reached '
            '= ${residents} × ${tight} % × ${reach} % = ${cards}',
            mapping={
                'residents': x(e['residents'], 'count'),
                'tight': x(e['tight_share']),
                'reach': x(e['reach_share']),
                'cards': x(r.cards.expected, 'count'),
            },
        ),
        _(
            'Renewals a year = cards × share renewed = ${cards} × ${share} % = ${renewals}',
            mapping={
                'cards': x(r.cards.expected),
                'share': x(e['renewal_share']),
                'renewals': x(r.renewals.expected, 'count'),
            },
        ),
        _(
            'Activated cards = cards × activation rate = ${cards} × ${activation} % = ${activated}',
            mapping={
                'cards': x(r.cards.expected),
                'activation': x(e['activation']),
                'activated': x(r.activated.expected, 'count'),
            },
        ),
        _(
            'Uses = activated cards × uses per activated card = ${activated} × ${per_card} = ${uses}',
            mapping={
                'activated': x(r.activated.expected),
                'per_card': x(e['uses_per_card']),
                'uses': x(r.uses.expected, 'count'),
            },
        ),
        _(
            'Uses by adults = uses ÷ (1 + share of visits with children × children per such visit) '
            '= ${uses} ÷ (1 + ${share} % × ${children}) = ${adults}; uses by children = the rest, ${kids}',
            mapping={
                'uses': x(r.uses.expected),
                'share': x(e['child_visit_share']),
                'children': x(e['children_per_visit']),
                'adults': x(r.adult_uses.expected, 'count'),
                'kids': x(r.child_uses.expected, 'count'),
            },
        ),
        _("Uses in a sector = uses × the sector's share of uses"),
        _(
            'Value of the free tickets = uses × average ticket value = ${uses} × ${value} = ${total}',
            mapping={
                'uses': x(r.uses.expected),
                'value': x(e['ticket_value'], 'euro_cents'),
                'total': x(r.ticket_value_total.expected, 'euro'),
            },
        ),
        _(
            "Issuers' time = (cards × ${issue} min + renewals × ${renewal} min) ÷ 60 × ${rate}; "
            "the county's services issue ${county} of the cards: ${county_cost}, the city's ${city_cost}",
            mapping={
                'issue': x(e['issue_minutes']),
                'renewal': x(e['renewal_minutes']),
                'rate': x(e['hourly_cost'], 'euro_cents'),
                'county': f'{x(e["county_issuer_share"])} %',
                'county_cost': x(lines['issuing_county'], 'euro'),
                'city_cost': x(lines['issuing_city'], 'euro'),
            },
        ),
        _(
            "Venues' time = visits by card holders × ${seconds} s ÷ 3,600 × ${rate} = ${adults} × ${seconds} "
            '÷ 3,600 × ${rate} = ${cost}',
            mapping={
                'seconds': x(e['door_seconds']),
                'rate': x(e['hourly_cost'], 'euro_cents'),
                'adults': x(r.adult_uses.expected),
                'cost': x(lines['door'], 'euro'),
            },
        ),
        _(
            'Coordination = (${base} h + ${per_partner} h × ${partners} partners) × ${rate} = ${cost}; '
            'training = ${training} h × ${partners} partners × ${rate} = ${training_cost}',
            mapping={
                'base': x(e['coordination_base_hours']),
                'per_partner': x(e['coordination_hours_per_partner']),
                'partners': x(r.partners.expected),
                'rate': x(e['hourly_cost'], 'euro_cents'),
                'cost': x(lines['coordination'], 'euro'),
                'training': x(e['training_hours_per_partner']),
                'training_cost': x(lines['training'], 'euro'),
            },
        ),
        _(
            "Printing = cards × ${per_card} + ${materials} = ${cost}; the network's support ${support}; "
            'the registry ${registry}',
            mapping={
                'per_card': x(e['printing_per_card'], 'euro_cents'),
                'materials': x(e['materials'], 'euro'),
                'cost': x(lines['printing'], 'euro'),
                'support': x(lines['support'], 'euro'),
                'registry': x(lines['registry'], 'euro'),
            },
        ),
        _(
            'Total cost = the sum of the lines = ${cost}; cost per use = total cost ÷ uses = ${per_use}; '
            'cost per card = total cost ÷ cards = ${per_card}',
            mapping={
                'cost': x(r.total_cost.expected, 'euro'),
                'per_use': x(r.cost_per_use.expected, 'euro_cents'),
                'per_card': x(r.cost_per_card.expected, 'euro_cents'),
            },
        ),
        _(
            'Uses per 1,000 residents = uses ÷ residents aged 16+ × 1,000 = ${per_1000}',
            mapping={'per_1000': x(r.uses_per_1000.expected)},
        ),
        _(
            "Low and high: each result is computed from the ends of the inputs' ranges that make it "
            'smallest and largest; a quotient divides the smallest numerator by the largest denominator.'
        ),
    ]


def input_title(name):
    return {n: title for n, title, _unit, _max in INPUTS}[name]


def input_unit(name):
    return {n: unit for n, _title, unit, _max in INPUTS}[name]


def sensitivity_values(inputs, num, translate):
    """The sensitivity table's rows and the chart of the inputs that move the cost per use most."""
    swings = sensitivity(inputs)
    rows = []
    for swing in swings:
        unit = UNITS[input_unit(swing.name)]
        unit = translate(unit) if unit else ''
        rows.append(
            {
                'title': input_title(swing.name),
                'low': f'{num(swing.low, "figure")} {unit}'.strip(),
                'high': f'{num(swing.high, "figure")} {unit}'.strip(),
                'per_use_low': num(swing.cost_per_use_low, 'euro_cents'),
                'per_use_high': num(swing.cost_per_use_high, 'euro_cents'),
                'county_low': num(swing.county_low, 'euro'),
                'county_high': num(swing.county_high, 'euro'),
            }
        )
    base = estimate(inputs.at_expected()).cost_per_use.expected
    chart = swing_chart_svg(
        translate(_('How far each input moves the cost per use')),
        [
            (translate(input_title(swing.name)), swing.cost_per_use_low, swing.cost_per_use_high)
            for swing in swings
            if swing.cost_per_use_swing
        ][:10],
        base,
        lambda value: num(value, 'euro_cents'),
    )
    return {'rows': rows, 'chart': chart, 'span': one_at_a_time_text(swings, base, num)}


def one_at_a_time_text(swings, base, num):
    """The span of the cost per use when one input at a time moves, beside the all-at-once range."""
    values = [
        v for swing in swings for v in (swing.cost_per_use_low, swing.cost_per_use_high) if v is not None
    ]
    if not values or base is None:
        return None
    return _(
        'With one input at a time at its low or high value, the cost per use stays between ${low} and '
        '${high}. The range in the results table is wider because there every input is at the end that '
        'makes the result smallest or largest at once.',
        mapping={
            'low': num(min([*values, base]), 'euro_cents'),
            'high': num(max([*values, base]), 'euro_cents'),
        },
    )


def break_even_text(inputs, target, num):
    needed = break_even_activation(inputs, target)
    if needed is None:
        return _(
            'The cost per use stays above ${cost} even if every card issued is used.',
            mapping={'cost': num(target, 'euro_cents')},
        )
    return _(
        'The cost per use stays under ${cost} while activation is at least ${activation} % '
        '(the other figures at their expected values; the estimate expects ${expected} %).',
        mapping={
            'cost': num(target, 'euro_cents'),
            'activation': num(needed, 'decimal'),
            'expected': num(inputs.activation.expected, 'figure'),
        },
    )


def scenario_rows(scenario_list):
    """The scenarios side by side: (label, kind, [expected value per scenario]) in the same rows."""
    payer_titles = dict(PAYER_TITLES)

    def row(label, kind, get):
        return (label, kind, [get(scenario.inputs, scenario.result) for scenario in scenario_list])

    return [
        row(_('Residents aged 16 or over'), 'count', lambda i, r: i.residents.expected),
        row(_('Partner venues'), 'decimal', lambda i, r: i.venues.expected),
        row(_('Issuer sites'), 'decimal', lambda i, r: i.issuer_sites.expected),
        row(_('Cards issued a year'), 'count', lambda i, r: r.cards.expected),
        row(_('Uses a year'), 'count', lambda i, r: r.uses.expected),
        row(_('Uses in sport'), 'count', lambda i, r: r.uses_by_sector['sport'].expected),
        row(_('Uses per 1,000 residents aged 16 or over'), 'decimal', lambda i, r: r.uses_per_1000.expected),
        row(_('Ticket value received by holders and forgone by venues'), 'euro',
            lambda i, r: r.ticket_value_total.expected),
        row(_('Total cost a year'), 'euro', lambda i, r: r.total_cost.expected),
        *(row(payer_titles[p], 'euro', lambda i, r, p=p: r.by_payer[p].expected) for p in PAYERS),
        row(_('Cost per use'), 'euro_cents', lambda i, r: r.cost_per_use.expected),
    ]  # fmt: skip


SCENARIO_TITLES = {
    'defaults': _("This brief's figures"),
    'kipina': _('Like the Kipinä card: ${share} of uses in swimming halls', mapping={'share': '90 %'}),
    'pilot': _('A one-year pilot in part of the city'),
}
