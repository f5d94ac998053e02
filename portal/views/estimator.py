"""The cost-benefit estimator's pages: the estimate, the decision brief and their CSV.

The form is a GET form, so every result has an address that can be bookmarked and sent on.  Each query
parameter (``residents_low``, ``sectors_sport``...) overrides one of the defaults kept in the context; the
colander schema of the inputs validates the lot.  Bad figures never make an error page: the page answers
200 with the form, a summary of the problems at the top and each message beside its field.  The arithmetic
is :mod:`portal.estimator`'s; this module only reads the request and shapes the numbers for the templates.
"""

import colander
from babel.dates import format_date
from babel.numbers import format_decimal
from pyramid.httpexceptions import HTTPBadRequest
from pyramid.renderers import get_renderer
from pyramid.response import Response
from pyramid.view import view_config

from portal import spreadsheet
from portal.estimator import (
    LINE_NAMES,
    PAYERS,
    SECTORS,
    break_even_activation,
    estimate,
    funding_split,
    scenarios,
    sensitivity,
    uses_by_sector,
)
from portal.i18n import _
from portal.resources.estimate import (
    INPUTS,
    LINE_TITLES,
    PAYER_TITLES,
    SECTOR_TITLES,
    UNITS,
    DecisionBrief,
    Estimate,
    inputs_from_values,
    inputs_schema,
)
from portal.resources.guide import ACTORS
from portal.resources.workspace import today
from portal.views.estimator_chart import swing_chart_svg

THEME = 'kaiku_theme:templates/'
#: Number formats by kind of quantity (Babel patterns).
FORMATS = {
    'count': '#,##0',
    'euro': '#,##0',
    'euro_cents': '#,##0.00',
    'decimal': '#,##0.0',
    'input': '0.##',
    'figure': '#,##0.##',
}
#: The units of the groups that are not ranges.
GROUP_UNITS = {'sectors': 'percent', 'compare_sectors': 'percent', 'break_even': 'euro', 'pilot': 'percent'}
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


class EstimateForm:
    """The inputs a request asks for: the context's defaults with the query's figures in their place."""

    def __init__(self, context, request):
        self.request = request
        self.lang = request.locale_name
        self.names = context.input_field_names()
        self.schema = inputs_schema(with_compare='compare_sectors' in self.names)
        self.defaults = context.field_values(self.names)
        self.params = request.GET
        self.customised = any(self._key(node, child) in self.params for node in self.schema for child in node)
        self.raw = self._cstruct()
        self.errors = {}
        self.values = None
        try:
            self.values = self.schema.deserialize(self.raw)
        except colander.Invalid as e:
            self.errors = error_messages(e)

    @staticmethod
    def _key(node, child):
        return f'{node.name}_{child.name}'

    def _cstruct(self):
        cstruct = {}
        for node in self.schema:
            cstruct[node.name] = {}
            for child in node:
                key = self._key(node, child)
                if key in self.params:
                    value = self.params.getall(key)[-1]
                else:
                    value = self._format_input(self.defaults[node.name][child.name])
                cstruct[node.name][child.name] = value
        return cstruct

    def _format_input(self, value):
        if isinstance(value, str):
            return value
        return format_decimal(value, format=FORMATS['input'], locale=self.lang)

    @property
    def valid(self):
        return self.values is not None

    def inputs(self):
        return inputs_from_values(self.values)

    def translate(self, message):
        return self.request.localizer.translate(message)

    def groups(self, sources, assumptions, links):
        """The form's field groups: one per input, with its fields, source text, links and messages."""
        groups = []
        titles = {name: (title, unit) for name, title, unit, _max in INPUTS}
        for node in self.schema:
            title, unit = titles.get(node.name, (node.title, GROUP_UNITS.get(node.name, 'number')))
            group_error = self._error(node.name)
            fields = []
            for child in node:
                key = self._key(node, child)
                error = self._error(key)
                described = [f'src-{node.name}', *([f'err-{node.name}'] if group_error else []),
                             *([f'err-{key}'] if error else [])]  # fmt: skip
                value = self.raw[node.name][child.name]
                choices = None
                if node.name == 'payers':
                    choices = [(payer, title, payer == value) for payer, title in PAYER_TITLES]
                fields.append(
                    {
                        'key': key,
                        'label': child.title,
                        'value': value,
                        'choices': choices,
                        'error': error,
                        'invalid': bool(error or group_error),
                        'describedby': ' '.join(described),
                    }
                )
            groups.append(
                {
                    'name': node.name,
                    'title': title,
                    'unit': UNITS[unit],
                    'source': sources.get(node.name, ''),
                    'links': links.get(node.name, ()),
                    'assumption': node.name in assumptions,
                    'error': group_error,
                    'fields': fields,
                    'is_range': node.name in titles,
                }
            )
        return groups

    def _error(self, key):
        messages = self.errors.get(key)
        return ' '.join(self.translate(m) for m in messages) if messages else None

    def error_summary(self):
        """(message, id of the field to go to) for every problem, in the order of the form."""
        summary = []
        for node in self.schema:
            for child in node:
                key = self._key(node, child)
                if key in self.errors:
                    label = f'{self.translate(node.title)} ({self.translate(child.title).lower()})'
                    summary.append((f'{label}: {self._error(key)}', f'in-{key}'))
            if node.name in self.errors:
                first = self._key(node, node.children[0])
                summary.append((f'{self.translate(node.title)}: {self._error(node.name)}', f'in-{first}'))
        return summary

    def group_text(self, name, num):
        """A group that is not a range, in words: ``Culture 40 %, Education 12 %, ...``."""
        values = self.values[name]
        if name == 'payers':
            payers = dict(PAYER_TITLES)
            return '; '.join(
                f'{self.translate(title)}: {self.translate(payers[values[line]])}'
                for line, title in LINE_TITLES
            )
        if name in ('sectors', 'compare_sectors'):
            return ', '.join(
                f'{self.translate(title)} {num(values[sector], "figure")} %'
                for sector, title in SECTOR_TITLES
            )
        node = self.schema[name]
        return ', '.join(
            f'{self.translate(child.title)}: {num(values[child.name], "figure")}' for child in node
        )

    def query(self):
        """The query parameters that reproduce these inputs (for the CSV link)."""
        return [
            (self._key(node, child), self.raw[node.name][child.name])
            for node in self.schema
            for child in node
        ]


def error_messages(invalid):
    """A colander error tree as ``{'residents_low': [message, ...], 'residents': [...]}``."""
    found = {}

    def walk(error, prefix):
        name = error.node.name
        key = f'{prefix}_{name}' if prefix and name else (name or prefix)
        if error.msg is not None:
            found.setdefault(key, []).extend(error.messages())
        for child in error.children:
            walk(child, key)

    walk(invalid, '')
    return found


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
    return {'rows': rows, 'chart': chart, 'top': swings[:3]}


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


def page_values(context, request):
    """What both the estimate and the brief show."""
    form = EstimateForm(context, request)
    sources, sources_lang = context.source_texts(request.locale_name)
    num = Numbers(request.locale_name)
    values = {
        'form': form,
        'groups': form.groups(sources, set(context.assumptions), context.source_links()),
        'errors': form.error_summary(),
        'sources': sources,
        'sources_lang': sources_lang if sources_lang != request.locale_name else None,
        'num': num,
        'result': None,
        'rows': [],
        'formulas': [],
        'csv_url': request.resource_url(context, 'estimate.csv', query=form.query()),
        'plain_csv_url': request.resource_url(
            context, 'estimate.csv', query=[*form.query(), ('dialect', 'plain')]
        ),
        'reset_url': request.resource_url(context),
        'sector_titles': SECTOR_TITLES,
        'outcomes': OUTCOMES,
        'date': format_date(today(), format='long', locale=request.locale_name),
        'em': get_renderer(THEME + 'estimator_macros.pt').implementation(),
    }
    if form.valid:
        inputs = form.inputs()
        result = estimate(inputs)
        values.update(
            inputs=inputs,
            result=result,
            rows=result_rows(result),
            lines=line_rows(inputs, result),
            payers=payer_rows(result),
            formulas=formulas(inputs, result, num),
            sensitivity=sensitivity_values(inputs, num, request.localizer.translate),
            break_even=break_even_text(inputs, form.values['break_even']['cost_per_use'], num),
        )
    return values


@view_config(context=Estimate, renderer=THEME + 'estimate.pt', permission='view')
def estimate_page(context, request):
    return page_values(context, request)


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


@view_config(context=DecisionBrief, renderer=THEME + 'brief.pt', permission='view')
def brief_page(context, request):
    values = page_values(context, request)
    guide = context.guide_item()
    if guide is not None and not request.has_permission('view', guide):
        guide = None
    steps = [step for step in guide.steps() if request.has_permission('view', step)] if guide else []
    values.update(guide=guide, steps=steps, actors=ACTORS)
    result = values['result']
    if result is not None:
        form_values = values['form'].values
        compare = form_values['compare_sectors']
        inputs = values['inputs']
        values['mixes'] = {
            'sectors': inputs.sectors,
            'compare': compare,
            'compare_uses': uses_by_sector(result.uses, compare),
        }
        num = values['num']
        public = result.by_payer['city'] + result.by_payer['county']
        values['funding'] = []
        for share in context.funding_options:
            city, county = funding_split(public, share)
            values['funding'].append(
                {
                    'city_share': num(share, 'figure'),
                    'county_share': num(100 - share, 'figure'),
                    'city': city,
                    'county': county,
                }
            )
        scenario_list = scenarios(inputs, compare, form_values['pilot']['share'])
        values['scenarios'] = {
            'titles': [SCENARIO_TITLES[scenario.key] for scenario in scenario_list],
            'rows': scenario_rows(scenario_list),
            'pilot_share': f'{num(form_values["pilot"]["share"], "figure")} %',
        }
        values['key_figures'] = [
            (_('Cards issued a year'), 'count', result.cards),
            (_('Uses a year'), 'count', result.uses),
            (_('Total cost a year'), 'euro', result.total_cost),
            *((title, 'euro', result.by_payer[payer]) for payer, title in PAYER_TITLES),
            (_('Cost per use'), 'euro_cents', result.cost_per_use),
        ]
    return values


@view_config(context=Estimate, name='estimate.csv', permission='view')
def estimate_csv(context, request):
    """The inputs and the results as CSV: one row a figure, with its low, expected and high value.

    The reader's spreadsheet dialect by default (semicolons and decimal commas in Finnish and Swedish);
    ``?dialect=plain`` gives commas and decimal points for programs.
    """
    dialect = spreadsheet.dialect_for(request.GET.get('dialect'), request.locale_name)
    if dialect is None:
        raise HTTPBadRequest(_('Unknown CSV dialect: choose spreadsheet or plain.'))
    form = EstimateForm(context, request)
    if not form.valid:
        raise HTTPBadRequest(_('The figures are not valid. Correct them in the form and try again.'))
    t = request.localizer.translate
    sources, _lang = context.source_texts(request.locale_name)
    inputs = form.inputs()
    result = estimate(inputs)
    writer = spreadsheet.Writer(dialect)
    writer.writerow([t(_('Section')), t(_('Figure')), t(_('Low')), t(_('Expected')), t(_('High')),
                     t(_('Unit')), t(_('Source'))])  # fmt: skip
    assumption = t(_('Assumption'))
    links = context.source_links()
    for name, title, unit, _max in INPUTS:
        source = sources.get(name, '')
        if name in context.assumptions:
            source = f'{assumption}. {source}'
        source = ' '.join([source, *(url for url, _host, _year in links.get(name, ()))]).strip()
        writer.writerow([t(_('Input')), t(title), *getattr(inputs, name), t(UNITS[unit]), source])
    for node in form.schema:
        if node.name in ('sectors', 'compare_sectors'):
            for sector, title in SECTOR_TITLES:
                share = form.values[node.name][sector]
                figure = f'{t(node.title)}: {t(title)}'
                writer.writerow([t(_('Input')), figure, None, share, None, '%', sources.get(node.name, '')])
    payers = dict(PAYER_TITLES)
    for line, title in LINE_TITLES:
        figure = f'{t(_("Who pays"))}: {t(title)}'
        writer.writerow([t(_('Input')), figure, None, t(payers[inputs.payer_of(line)]), None, '', ''])
    for label, kind, values, _sub in result_rows(result):
        unit = '€' if kind.startswith('euro') else ''
        writer.writerow([t(_('Result')), t(label), *values, unit, ''])
    for title, payer, values in line_rows(inputs, result):
        writer.writerow([t(_('Cost line')), f'{t(title)} ({t(payer)})', *values, '€', ''])
    response = Response(body=writer.encode(), content_type='text/csv', charset='utf-8')
    response.headers['Content-Disposition'] = f'attachment; filename="{context.__name__ or "estimate"}.csv"'
    response.headers['X-Content-Type-Options'] = 'nosniff'
    return response
