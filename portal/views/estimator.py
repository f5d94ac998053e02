"""The cost-benefit estimator's pages: the estimate, the decision brief and their CSV.

The form is a GET form, so every result has an address that can be bookmarked and sent on.  Each query
parameter (``residents_low``, ``sectors_sport``...) overrides one of the defaults kept in the context; the
colander schema of the inputs validates the lot.  Bad figures never make an error page: the page answers
200 with the form, a summary of the problems at the top and each message beside its field.  The arithmetic
is :mod:`portal.estimator`'s; this module only reads the request and shapes the numbers for the templates.
"""

import csv
import io

import colander
from babel.numbers import format_decimal
from pyramid.httpexceptions import HTTPBadRequest
from pyramid.renderers import get_renderer
from pyramid.response import Response
from pyramid.view import view_config

from portal.estimator import SECTORS, estimate, funding_split, uses_by_sector
from portal.i18n import _
from portal.resources.estimate import (
    INPUTS,
    SECTOR_TITLES,
    UNITS,
    DecisionBrief,
    Estimate,
    inputs_from_values,
    inputs_schema,
)
from portal.resources.guide import ACTORS

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
#: Cells a spreadsheet would take for a formula; they get a leading apostrophe in the CSV.
FORMULA_PREFIXES = ('=', '+', '-', '@', '\t', '\r')


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
        return format_decimal(value, format=FORMATS['input'], locale=self.lang)

    @property
    def valid(self):
        return self.values is not None

    def inputs(self):
        return inputs_from_values(self.values)

    def translate(self, message):
        return self.request.localizer.translate(message)

    def groups(self, sources, assumptions):
        """The form's field groups: one per input, with its fields, source text and messages."""
        groups = []
        titles = {name: (title, unit) for name, title, unit, _max in INPUTS}
        for node in self.schema:
            title, unit = titles.get(node.name, (node.title, 'percent'))  # a sector mix is in percent
            group_error = self._error(node.name)
            fields = []
            for child in node:
                key = self._key(node, child)
                error = self._error(key)
                described = [f'src-{node.name}', *([f'err-{node.name}'] if group_error else []),
                             *([f'err-{key}'] if error else [])]  # fmt: skip
                fields.append(
                    {
                        'key': key,
                        'label': child.title,
                        'value': self.raw[node.name][child.name],
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

    def mix_text(self, name, num):
        """A sector mix in words: ``Culture 40 %, Education 12 %, ...``."""
        mix = self.values[name]
        return ', '.join(
            f'{self.translate(title)} {num(mix[sector], "figure")} %' for sector, title in SECTOR_TITLES
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
    rows = [
        (_('Cards issued a year'), 'count', result.cards, False),
        (_('Cards activated a year'), 'count', result.activated, False),
        (_('Uses a year'), 'count', result.uses, False),
        (_('by adults'), 'count', result.adult_uses, True),
        (_('by children'), 'count', result.child_uses, True),
    ]
    rows += [(sector_titles[s], 'count', result.uses_by_sector[s], True) for s in SECTORS]
    rows += [
        (_('Uses per 1,000 residents aged 16 or over'), 'decimal', result.uses_per_1000, False),
        (
            _('Value of the free tickets a year (forgone by the venues)'),
            'euro',
            result.ticket_value_total,
            False,
        ),
        (_("The municipality's direct cost a year"), 'euro', result.direct_cost, False),
        (_('of which work'), 'euro', result.staff_cost, True),
        (_('Direct cost per use'), 'euro_cents', result.cost_per_use, False),
        (_('Direct cost per card holder'), 'euro_cents', result.cost_per_holder, False),
    ]
    return rows


def formulas(inputs, result, num):
    """The formulas with the expected figures written in, as translation strings."""
    e = {name: getattr(inputs, name).expected for name in inputs.range_names()}
    r = result

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
            'Direct cost = (coordination hours a month × 12 + training hours) × hourly cost + printing '
            '= (${hours} × 12 + ${training}) × ${rate} + ${printing} = ${cost}',
            mapping={
                'hours': x(e['coordination_hours']),
                'training': x(e['training_hours']),
                'rate': x(e['hourly_cost'], 'euro_cents'),
                'printing': x(e['printing'], 'euro'),
                'cost': x(r.direct_cost.expected, 'euro'),
            },
        ),
        _(
            'Cost per use = direct cost ÷ uses = ${cost} ÷ ${uses} = ${per_use}; '
            'cost per card holder = direct cost ÷ cards = ${per_holder}',
            mapping={
                'cost': x(r.direct_cost.expected, 'euro'),
                'uses': x(r.uses.expected),
                'per_use': x(r.cost_per_use.expected, 'euro_cents'),
                'per_holder': x(r.cost_per_holder.expected, 'euro_cents'),
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


def page_values(context, request):
    """What both the estimate and the brief show."""
    form = EstimateForm(context, request)
    sources, sources_lang = context.source_texts(request.locale_name)
    num = Numbers(request.locale_name)
    values = {
        'form': form,
        'groups': form.groups(sources, set(context.assumptions)),
        'errors': form.error_summary(),
        'sources': sources,
        'sources_lang': sources_lang if sources_lang != request.locale_name else None,
        'num': num,
        'result': None,
        'rows': [],
        'formulas': [],
        'csv_url': request.resource_url(context, 'estimate.csv', query=form.query()),
        'reset_url': request.resource_url(context),
        'sector_titles': SECTOR_TITLES,
        'em': get_renderer(THEME + 'estimator_macros.pt').implementation(),
    }
    if form.valid:
        inputs = form.inputs()
        result = estimate(inputs)
        values.update(
            inputs=inputs,
            result=result,
            rows=result_rows(result),
            formulas=formulas(inputs, result, num),
        )
    return values


@view_config(context=Estimate, renderer=THEME + 'estimate.pt', permission='view')
def estimate_page(context, request):
    return page_values(context, request)


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
        compare = values['form'].values['compare_sectors']
        values['mixes'] = {
            'sectors': values['inputs'].sectors,
            'compare': compare,
            'compare_uses': uses_by_sector(result.uses, compare),
        }
        num = values['num']
        values['funding'] = []
        for share in context.funding_options:
            city, county = funding_split(result.direct_cost, share)
            values['funding'].append(
                {
                    'city_share': num(share, 'figure'),
                    'county_share': num(100 - share, 'figure'),
                    'city': city,
                    'county': county,
                }
            )
        values['key_figures'] = [
            (_('Cards issued a year'), 'count', result.cards),
            (_('Uses a year'), 'count', result.uses),
            (_("The municipality's direct cost a year"), 'euro', result.direct_cost),
            (_('Direct cost per use'), 'euro_cents', result.cost_per_use),
        ]
    return values


def neutralise(cell):
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = str(cell)
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text


class SafeWriter:
    """A CSV writer that neutralises every cell."""

    def __init__(self, stream):
        self.writer = csv.writer(stream)

    def writerow(self, row):
        self.writer.writerow([neutralise(cell) for cell in row])


def csv_number(value):
    if value is None:
        return ''
    return f'{value:.2f}'.rstrip('0').rstrip('.') if isinstance(value, float) else str(value)


@view_config(context=Estimate, name='estimate.csv', permission='view')
def estimate_csv(context, request):
    """The inputs and the results as CSV: one row a figure, with its low, expected and high value."""
    form = EstimateForm(context, request)
    if not form.valid:
        raise HTTPBadRequest(_('The figures are not valid. Correct them in the form and try again.'))
    t = request.localizer.translate
    sources, _lang = context.source_texts(request.locale_name)
    inputs = form.inputs()
    result = estimate(inputs)
    out = io.StringIO()
    writer = SafeWriter(out)
    writer.writerow([t(_('Section')), t(_('Figure')), t(_('Low')), t(_('Expected')), t(_('High')),
                     t(_('Unit')), t(_('Source'))])  # fmt: skip
    assumption = t(_('Assumption'))
    for name, title, unit, _max in INPUTS:
        source = sources.get(name, '')
        if name in context.assumptions:
            source = f'{assumption}. {source}'
        writer.writerow(
            [t(_('Input')), t(title), *map(csv_number, getattr(inputs, name)), t(UNITS[unit]), source]
        )
    for node in form.schema:
        if node.name not in inputs.range_names():
            for sector, title in SECTOR_TITLES:
                share = form.values[node.name][sector]
                figure = f'{t(node.title)}: {t(title)}'
                writer.writerow(
                    [t(_('Input')), figure, '', csv_number(share), '', '%', sources.get(node.name, '')]
                )
    for label, kind, values, _sub in result_rows(result):
        unit = '€' if kind.startswith('euro') else ''
        writer.writerow([t(_('Result')), t(label), *map(csv_number, values), unit, ''])
    data = out.getvalue()
    response = Response(body=('\ufeff' + data).encode('utf-8'), content_type='text/csv', charset='utf-8')
    response.headers['Content-Disposition'] = f'attachment; filename="{context.__name__ or "estimate"}.csv"'
    response.headers['X-Content-Type-Options'] = 'nosniff'
    return response
