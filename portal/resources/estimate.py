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

import re

import colander
import deform.widget

from portal.estimator import Inputs, Range
from portal.forms import ItemSchema, body_node, choices_node, text_node
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
    ('ticket_value', _('Average value of a ticket the venue forgoes'), 'euro', 1_000),
    ('coordination_hours', _('Coordination hours a month'), 'hours', 744),
    ('hourly_cost', _('Cost of an hour of work'), 'euro', 1_000),
    ('printing', _('Printing of cards and materials a year'), 'euro', 10_000_000),
    ('training_hours', _('Training hours a year'), 'hours', 100_000),
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
}
#: What a source text or an assumption can be about.
SOURCE_KEYS = (
    *((name, title) for name, title, *_rest in INPUTS),
    ('sectors', _('Sector mix')),
    ('compare_sectors', _('Sector mix to compare with')),
    ('funding_options', _('Funding options')),
)
NUMBER_RE = re.compile(r'^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)\Z')
MAX_NUMBER_CHARS = 30


class Number(colander.SchemaType):
    """A number written the way people write it: ``9,1``, ``9.1`` or ``150 000``.

    Whole numbers come out as ``int`` and others as ``float``, so a content file keeps ``150000`` as it
    was written.  Infinity, NaN and exponents are refused.
    """

    def serialize(self, node, appstruct):
        if appstruct is colander.null or appstruct is None:
            return colander.null
        return str(appstruct)

    def deserialize(self, node, cstruct):
        if cstruct is colander.null or cstruct is None:
            return colander.null
        if isinstance(cstruct, bool):
            raise colander.Invalid(node, _('Enter a number, such as 12 or 9.5.'))
        if isinstance(cstruct, (int, float)):
            value = float(cstruct)
            if value != value or value in (float('inf'), float('-inf')):
                raise colander.Invalid(node, _('Enter a number, such as 12 or 9.5.'))
        elif isinstance(cstruct, str):
            text = re.sub(r'[\s\u00a0\u202f]', '', cstruct).replace(',', '.').replace('\u2212', '-')
            if not text:
                return colander.null
            if len(text) > MAX_NUMBER_CHARS or not NUMBER_RE.match(text):
                raise colander.Invalid(node, _('Enter a number, such as 12 or 9.5.'))
            value = float(text)
        else:
            raise colander.Invalid(node, _('Enter a number, such as 12 or 9.5.'))
        return int(value) if value.is_integer() else value


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

    def inputs(self):
        """The stored defaults as :class:`portal.estimator.Inputs`."""
        return inputs_from_values(self.field_values(self.input_field_names()))

    @classmethod
    def input_field_names(cls):
        return (*INPUT_NAMES, 'sectors')

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
    return Inputs(**ranges, sectors=dict(values['sectors']))


class DecisionBrief(Estimate):
    """An estimate for one municipality, with the brief's text, a mix to compare with and funding options."""

    type_name = 'DecisionBrief'
    guide = ''
    compare_sectors = None
    funding_options = ()

    @classmethod
    def input_field_names(cls):
        return (*INPUT_NAMES, 'sectors', 'compare_sectors')

    def guide_item(self):
        """The guide this brief follows (``guide`` is its path from the site root), or None."""
        return self.find_item(self.guide, 'Guide') if self.guide else None


def add_input_nodes(schema, with_compare=False):
    """Add the estimator's inputs to ``schema``: the ranges, then the sector mix (or mixes)."""
    for name, title, _unit, maximum in INPUTS:
        schema.add(range_node(name, title, maximum))
    schema.add(sectors_node('sectors', _('Sector mix')))
    if with_compare:
        schema.add(sectors_node('compare_sectors', _('Sector mix to compare with')))
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
        self.add_brief_nodes()

    def source_keys(self):
        return (*INPUT_NAMES, 'sectors')

    def add_brief_nodes(self):
        """A decision brief adds its own fields here."""


class FundingOptionsSchema(colander.SequenceSchema):
    city_share = number_node(_("The city's share of the cost (%)"), 100)


class DecisionBriefSchema(EstimateSchema):
    with_compare = True

    def source_keys(self):
        return (*INPUT_NAMES, 'sectors', 'compare_sectors', 'funding_options')

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
