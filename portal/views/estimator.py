"""The cost-benefit estimator's pages: the estimate, the decision brief and their CSV.

The form is a GET form, so every result has an address that can be bookmarked and sent on.  Each query
parameter (``residents_low``, ``sectors_sport``...) overrides one of the defaults kept in the context; the
colander schema of the inputs validates the lot.  Bad figures never make an error page: the page answers
200 with the form, a summary of the problems at the top and each message beside its field.  The arithmetic
is :mod:`portal.estimator`'s and the tables' rows are :mod:`portal.views.estimator_figures`'s; this module
only reads the request and hands the templates what they show.
"""

import colander
from babel.dates import format_date
from babel.numbers import format_decimal
from pyramid.httpexceptions import HTTPBadRequest
from pyramid.renderers import get_renderer
from pyramid.response import Response
from pyramid.view import view_config

from portal import spreadsheet
from portal.clock import today
from portal.estimator import estimate, funding_split, scenarios, sensitivity, uses_by_sector
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
from portal.views.estimator_figures import (
    FORMATS,
    OUTCOMES,
    SCENARIO_TITLES,
    Numbers,
    break_even_text,
    formulas,
    input_title,
    line_rows,
    payer_rows,
    result_rows,
    scenario_rows,
    sensitivity_values,
)

THEME = 'kaiku_theme:templates/'
#: The units of the groups that are not ranges.
GROUP_UNITS = {'sectors': 'percent', 'compare_sectors': 'percent', 'break_even': 'euro', 'pilot': 'percent'}


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
    base = result.cost_per_use.expected
    for swing in sensitivity(inputs):
        figure = f'{t(_("Cost per use"))}: {t(input_title(swing.name))}'
        writer.writerow(
            [t(_('Sensitivity')), figure, swing.cost_per_use_low, base, swing.cost_per_use_high, '€', '']
        )
    if isinstance(context, DecisionBrief):
        scenario_list = scenarios(inputs, form.values['compare_sectors'], form.values['pilot']['share'])
        for scenario in scenario_list:
            for label, kind, values in scenario_rows([scenario]):
                unit = '€' if kind.startswith('euro') else ''
                figure = f'{t(SCENARIO_TITLES[scenario.key])}: {t(label)}'
                writer.writerow([t(_('Scenario')), figure, None, values[0], None, unit, ''])
    response = Response(body=writer.encode(), content_type='text/csv', charset='utf-8')
    response.headers['Content-Disposition'] = f'attachment; filename="{context.__name__ or "estimate"}.csv"'
    response.headers['X-Content-Type-Options'] = 'nosniff'
    return response
