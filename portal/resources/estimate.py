# Over 400 lines: the estimator's inputs are one schema, each field with its source and range.
"""Cost-benefit estimates and decision briefs: the estimator's default inputs kept as content.

An :class:`Estimate` holds one set of inputs for :mod:`portal.estimator`: each input has a low, an
expected and a high value, and a source text (per language) that says where the figure comes from.  Inputs
without a source are listed in ``assumptions`` so the page marks them as such.  The estimate at the site's
root, ``/estimator``, carries the national defaults; editors change a figure by editing the item (or its
content file), never the code.

A :class:`DecisionBrief` is an estimate for one municipality with the text of a brief for its decision
makers: the guide it follows, a second sector mix to compare with, and the ways the cost could be shared
between the city and the wellbeing services county.

The same colander nodes validate the content files, the add and edit forms, and the estimator's GET form.
"""

import copy
import re
from urllib.parse import urlsplit

import colander
import deform.widget

from portal.estimator import DEFAULT_PAYERS, PAYERS, Inputs, Range
from portal.forms import ItemSchema, Number, body_node, choices_node, text_node
from portal.i18n import _
from portal.resources.base import Item

#: The inputs that are ranges: name, label, unit and the largest value accepted.
INPUTS = (
    ('residents', _('Residents aged 16 or over'), 'people', 10_000_000),
    ('tight_share', _('Share in a tight financial situation'), 'percent', 100),
    ('reach_share', _('Share of those reached by card issuers'), 'percent', 100),
    ('activation', _('Activation rate of cards'), 'percent', 100),
    ('uses_per_card', _('Uses per activated card a year'), 'number', 1_000),
    ('child_visit_share', _('Share of visits with children'), 'percent', 100),
    ('children_per_visit', _('Children per visit with children'), 'number', 20),
    ('ticket_value', _('Average value of a free ticket'), 'euro', 1_000),
    ('hourly_cost', _('Cost of an hour of work'), 'euro', 1_000),
    ('issue_minutes', _("Issuer's time per card issued"), 'minutes', 600),
    ('renewal_share', _('Share of cards renewed'), 'percent', 100),
    ('renewal_minutes', _("Issuer's time per renewal"), 'minutes', 600),
    ('county_issuer_share', _("Share of cards issued at the county's services"), 'percent', 100),
    ('door_seconds', _("Venue's time per recorded visit"), 'seconds', 3_600),
    ('venues', _('Partner venues'), 'count', 100_000),
    ('issuer_sites', _('Issuer sites'), 'count', 100_000),
    ('coordination_base_hours', _('Coordination hours a year, fixed'), 'hours', 100_000),
    ('coordination_hours_per_partner', _('Coordination hours a year per partner'), 'hours', 1_000),
    ('training_hours_per_partner', _('Training hours a year per partner'), 'hours', 1_000),
    ('printing_per_card', _('Printing per card issued'), 'euro', 1_000),
    ('materials', _('Brochures and posters a year'), 'euro', 10_000_000),
    ('support', _("The network's support (Kaikukeskus) a year"), 'euro', 10_000_000),
    ('registry', _('The registry (Kaikukanta) a year'), 'euro', 10_000_000),
)
INPUT_NAMES = tuple(name for name, *_rest in INPUTS)
BOUNDS = (('low', _('Low')), ('expected', _('Expected')), ('high', _('High')))
SECTOR_TITLES = (
    ('culture', _('Culture')),
    ('education', _('Education')),
    ('science', _('Science')),
    ('sport', _('Sport')),
)
UNITS = {
    'people': _('people'),
    'percent': '%',
    'number': '',
    'euro': '€',
    'hours': _('hours'),
    'minutes': _('minutes'),
    'seconds': _('seconds'),
    'count': '',
}
PAYER_TITLES = (
    ('city', _('The city')),
    ('county', _('The wellbeing services county')),
    ('venues', _('The venues')),
)
#: The cost lines' titles, in the order of :data:`portal.estimator.LINES`.
LINE_TITLES = (
    ('issuing_county', _("Issuers' time at the county's services")),
    ('issuing_city', _("Issuers' time at the city's services")),
    ('door', _("Venues' time at the door")),
    ('coordination', _('Coordination')),
    ('training', _('Training of partners')),
    ('printing', _('Printing of cards and materials')),
    ('support', _("The network's support (Kaikukeskus)")),
    ('registry', _('The registry (Kaikukanta)')),
)
#: Inputs every estimate starts from when its item has none of its own (an item saved before they existed).
EXAMPLE_DEFAULTS = {
    'hourly_cost': {'low': 35, 'expected': 40, 'high': 50},
    'issue_minutes': {'low': 10, 'expected': 20, 'high': 30},
    'renewal_share': {'low': 20, 'expected': 40, 'high': 60},
    'renewal_minutes': {'low': 5, 'expected': 10, 'high': 15},
    'county_issuer_share': {'low': 50, 'expected': 70, 'high': 90},
    'door_seconds': {'low': 30, 'expected': 60, 'high': 120},
    'venues': {'low': 10, 'expected': 20, 'high': 30},
    'issuer_sites': {'low': 6, 'expected': 12, 'high': 20},
    'coordination_base_hours': {'low': 150, 'expected': 240, 'high': 400},
    'coordination_hours_per_partner': {'low': 2, 'expected': 4, 'high': 8},
    'training_hours_per_partner': {'low': 2, 'expected': 3, 'high': 5},
    'printing_per_card': {'low': 1, 'expected': 1.5, 'high': 3},
    'materials': {'low': 500, 'expected': 1000, 'high': 2000},
    'support': {'low': 2000, 'expected': 5000, 'high': 10000},
    'registry': {'low': 0, 'expected': 0, 'high': 2000},
    'payers': dict(DEFAULT_PAYERS),
    'break_even': {'cost_per_use': 10},
    'pilot': {'share': 25},
}
#: What a source text or an assumption can be about.
SOURCE_KEYS = (
    *((name, title) for name, title, *_rest in INPUTS),
    ('sectors', _('Sector mix')),
    ('compare_sectors', _('Sector mix to compare with')),
    ('funding_options', _('Funding options')),
    ('payers', _('Who pays')),
    ('pilot', _('Pilot')),
)


def number_node(title, maximum, **kw):
    if maximum == 100:
        max_err = _('A share can be at most 100 %.')
    else:
        max_err = _('Enter at most ${max}.', mapping={'max': f'{maximum:,}'.replace(',', ' ')})
    return colander.SchemaNode(
        Number(),
        title=title,
        missing_msg=_('Enter a number.'),
        validator=colander.Range(min=0, max=maximum, min_err=_('Enter zero or more.'), max_err=max_err),
        widget=deform.widget.TextInputWidget(),
        **kw,
    )


def _ordered(node, value):
    if not value['low'] <= value['expected'] <= value['high']:
        raise colander.Invalid(
            node, _('The low value may not be above the expected one, nor the expected above the high.')
        )


def range_node(name, title, maximum):
    """A low / expected / high triple of one input."""
    node = colander.SchemaNode(colander.Mapping(unknown='raise'), name=name, title=title, validator=_ordered)
    for bound, bound_title in BOUNDS:
        node.add(number_node(bound_title, maximum, name=bound))
    return node


def _adds_up_to_100(node, value):
    total = sum(value.values())
    if abs(total - 100) > 0.5:
        raise colander.Invalid(
            node,
            _(
                'The shares of the sectors must add up to 100 %; now they add up to ${total} %.',
                mapping={'total': f'{total:g}'},
            ),
        )


def sectors_node(name, title):
    node = colander.SchemaNode(
        colander.Mapping(unknown='raise'), name=name, title=title, validator=_adds_up_to_100
    )
    for sector, sector_title in SECTOR_TITLES:
        node.add(number_node(sector_title, 100, name=sector))
    return node


def payers_node():
    """Who bears each cost line: the city, the wellbeing services county or the venues."""
    node = colander.SchemaNode(colander.Mapping(unknown='raise'), name='payers', title=_('Who pays'))
    for line, title in LINE_TITLES:
        node.add(
            colander.SchemaNode(
                colander.String(),
                name=line,
                title=title,
                missing_msg=_('Choose who pays.'),
                validator=colander.OneOf(PAYERS),
                widget=deform.widget.SelectWidget(values=PAYER_TITLES),
            )
        )
    return node


def single_number_node(name, title, child, child_title, maximum):
    """A group with one number, such as the cost per use to break even at."""
    node = colander.SchemaNode(colander.Mapping(unknown='raise'), name=name, title=title)
    node.add(number_node(child_title, maximum, name=child))
    return node


LINKS_HELP = _('One source a line: its address (https://...) and, after a space, the year of the figure.')
LINK_RE = re.compile(r'^(https://\S+)(?:\s+(\d{4}))?$')


def parse_links(text):
    """``address year`` lines as ``[(address, year or None), ...]``; None if a line is not of that form."""
    links = []
    for line in text.splitlines():
        if not line.strip():
            continue
        match = LINK_RE.match(line.strip())
        year = int(match.group(2)) if match and match.group(2) else None
        if not match or (year is not None and not 1900 <= year <= 2100):
            return None
        links.append((match.group(1), year))
    return links


def _links_valid(node, value):
    if parse_links(value) is None:
        raise colander.Invalid(node, LINKS_HELP)


def links_node(keys):
    """The public pages behind each input's figure, one ``address year`` line each."""
    node = colander.SchemaNode(
        colander.Mapping(unknown='raise'),
        name='links',
        title=_('Links to the sources'),
        description=LINKS_HELP,
        missing={},
    )
    for key, title in SOURCE_KEYS:
        if key in keys:
            child = text_node(title, max_len=1000, textarea=True, name=key)
            child.validator = colander.All(child.validator, _links_valid)
            node.add(child)
    return node


def sources_node(keys):
    """Where each default comes from, per input: a translatable mapping of short texts."""
    node = colander.SchemaNode(
        colander.Mapping(unknown='raise'),
        name='sources',
        title=_('Sources of the defaults'),
        description=_('Where each figure comes from, or why it is assumed.'),
    )
    for key, title in SOURCE_KEYS:
        if key in keys:
            node.add(text_node(title, max_len=600, textarea=True, name=key))
    return node


class Estimate(Item):
    """Default inputs of the cost-benefit estimator, with their sources."""

    type_name = 'Estimate'
    translatable = ('title', 'description', 'body', 'sources')
    assumptions = ()
    sectors = None
    links = None

    def field_values(self, names, lang=None):
        """The stored values; an input the item was saved without has the example default."""
        values = super().field_values(names, lang)
        for name, default in EXAMPLE_DEFAULTS.items():
            if name in values and values[name] is None:
                values[name] = copy.deepcopy(default)
        return values

    def source_links(self):
        """``{input: [(address, site name, year), ...]}`` for the pages behind the figures."""
        return {
            key: [(url, urlsplit(url).hostname, year) for url, year in parse_links(text) or ()]
            for key, text in (self.links or {}).items()
        }

    def inputs(self):
        """The stored defaults as :class:`portal.estimator.Inputs`."""
        return inputs_from_values(self.field_values(self.input_field_names()))

    @classmethod
    def input_field_names(cls):
        return (*INPUT_NAMES, 'sectors', 'payers', 'break_even')

    def source_texts(self, lang):
        """The source texts in ``lang`` or, lacking them, the item's own language, and which it is."""
        for candidate in (lang, self.language):
            sources = self.texts.get(candidate, {}).get('sources') if candidate else None
            if sources:
                return dict(sources), candidate
        return {}, self.language


def inputs_from_values(values):
    """Validated field values (``{'residents': {'low': ..}, 'sectors': {..}}``) as estimator inputs."""
    ranges = {name: Range(*(values[name][bound] for bound, _title in BOUNDS)) for name in INPUT_NAMES}
    return Inputs(**ranges, sectors=dict(values['sectors']), payers=dict(values['payers']))


class DecisionBrief(Estimate):
    """An estimate for one municipality, with the brief's text, a mix to compare with and funding options."""

    type_name = 'DecisionBrief'
    guide = ''
    compare_sectors = None
    funding_options = ()

    @classmethod
    def input_field_names(cls):
        return (*INPUT_NAMES, 'sectors', 'compare_sectors', 'payers', 'break_even', 'pilot')

    def guide_item(self):
        """The guide this brief follows (``guide`` is its path from the site root), or None."""
        return self.find_item(self.guide, 'Guide') if self.guide else None


def add_input_nodes(schema, with_compare=False):
    """Add the estimator's inputs to ``schema``: the ranges, the sector mix (or mixes), who pays, and the
    cost per use to break even at (and, for a brief, the pilot's share of the city)."""
    for name, title, _unit, maximum in INPUTS:
        schema.add(range_node(name, title, maximum))
    schema.add(sectors_node('sectors', _('Sector mix')))
    if with_compare:
        schema.add(sectors_node('compare_sectors', _('Sector mix to compare with')))
    schema.add(payers_node())
    schema.add(
        single_number_node(
            'break_even', _('Break-even'), 'cost_per_use', _('Cost per use at most (€)'), 1_000
        )
    )
    if with_compare:
        schema.add(
            single_number_node(
                'pilot', _('Pilot'), 'share', _("The pilot area's share of the residents (%)"), 100
            )
        )
    return schema


class InputsSchema(colander.MappingSchema):
    """The estimator's GET form: only the inputs.  Build with :func:`inputs_schema`."""


def inputs_schema(with_compare=False):
    return add_input_nodes(InputsSchema(), with_compare)


class EstimateSchema(ItemSchema):
    """An estimate's fields: the item's own, the inputs, which of them are assumptions, and the sources."""

    body = body_node()
    #: Whether the schema has a second sector mix to compare with (a decision brief's).
    with_compare = False

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        add_input_nodes(self, self.with_compare)
        assumptions = choices_node(
            SOURCE_KEYS, _('Assumptions'), description=_('The inputs whose defaults have no source.')
        )
        assumptions.name = 'assumptions'
        self.add(assumptions)
        self.add(sources_node(self.source_keys()))
        self.add(links_node(self.source_keys()))
        self.add_brief_nodes()

    def source_keys(self):
        return (*INPUT_NAMES, 'sectors', 'payers')

    def add_brief_nodes(self):
        """A decision brief adds its own fields here."""


class FundingOptionsSchema(colander.SequenceSchema):
    city_share = number_node(_("The city's share of the cost (%)"), 100)


class DecisionBriefSchema(EstimateSchema):
    with_compare = True

    def source_keys(self):
        return (*INPUT_NAMES, 'sectors', 'compare_sectors', 'funding_options', 'payers', 'pilot')

    def add_brief_nodes(self):
        self.add(
            text_node(
                _('Guide'),
                description=_('The path of the guide this brief follows, such as guides/my-guide.'),
                max_len=200,
                name='guide',
            )
        )
        self.add(
            FundingOptionsSchema(
                name='funding_options',
                title=_('Funding options'),
                description=_("The city's share of the direct cost in each option, in percent."),
                validator=colander.Length(min=1, max=10),
            )
        )


def includeme(config):
    config.add_content_type(
        Estimate, title=_('Cost-benefit estimate'), schema=EstimateSchema, addable_to=('Site', 'Folder')
    )
    config.add_content_type(
        DecisionBrief, title=_('Decision brief'), schema=DecisionBriefSchema, addable_to=('Site', 'Folder')
    )
