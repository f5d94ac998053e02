# Over 400 lines: every registry form's schema and its validators in the one place the identifier guard walks.
"""Colander schemas of the registry's forms and API bodies.

Every text node of every schema of the plugin carries :func:`identifier_guard` (:func:`guard_schemas`
walks them, so a new field cannot be forgotten), so an identity code, a date, an address or (where a
field has no business holding one) a person's name typed anywhere is refused with a message instead of
being stored.  A node opts out with ``identifier_guard=False`` (the card code, which is checked as
such), lets names through with ``names_allowed=True`` (names of organisations and sites, which may
honour a person) or reads as a phone number with ``phone=True``.  Choices come from the model's fixed
lists.
"""

import datetime
import functools

import colander
import deform.widget
from pyramid.traversal import find_resource, find_root

from kaiku_registry import codes, today
from kaiku_registry.i18n import _
from kaiku_registry.models import (
    CLOSE_REASONS,
    GENDERS,
    LATE_ENTRY,
    LIFE_SITUATIONS,
    MAX_CHILDREN,
    MAX_GROUP,
    MAXIMUM_AGE,
    MINIMUM_AGE,
    PARTNER_KINDS,
    SECTORS,
    SITE_KINDS,
)
from kaiku_registry.privacy import REFUSALS, find_identifier
from kaiku_registry.records import CORRECTION_REASONS, suggested_sector
from kaiku_registry.stock import MAX_BATCH, STOCK_MARKS
from portal import places
from portal.forms import AsciiInteger, schema_classes

SECTOR_TITLES = (
    ('culture', _('Culture')),
    ('education', _('Education')),
    ('science', _('Science')),
    ('sport', _('Sport')),
)
GENDER_TITLES = (
    ('female', _('Woman')),
    ('male', _('Man')),
    ('other', _('Other')),
    ('not_told', _('Does not want to say')),
)
LIFE_SITUATION_TITLES = (
    ('unemployed', _('Unemployed')),
    ('student', _('Student')),
    ('retired', _('Retired')),
    ('disability', _('On disability benefit')),
    ('family_leave', _('On family leave')),
    ('low_income_work', _('Working on a low income')),
    ('other', _('Other')),
    ('not_told', _('Does not want to say')),
)
CLOSE_REASON_TITLES = (
    ('lost', _('Lost')),
    ('returned', _('Returned')),
    ('replaced', _('Replaced with a new card')),
)
PARTNER_KIND_TITLES = (
    ('municipality', _('Municipality')),
    ('wellbeing_county', _('Wellbeing services county')),
    ('issuer_ngo', _('Issuing organisation (NGO)')),
    ('venue_operator', _('Venue operator')),
    ('kaikukeskus', _('Kaikukeskus')),
)
SITE_KIND_TITLES = (
    ('issuer', _('Issues cards')),
    ('venue', _('Receives visitors (venue)')),
)
TRAINING_TITLES = (
    ('never', _('No training recorded')),
    ('overdue', _('Training overdue')),
    ('due_soon', _('Training due soon')),
    ('ok', _('Trained')),
)
assert [v for v, _t in SECTOR_TITLES] == list(SECTORS)
assert [v for v, _t in PARTNER_KIND_TITLES] == list(PARTNER_KINDS)
assert [v for v, _t in SITE_KIND_TITLES] == list(SITE_KINDS)
assert [v for v, _t in GENDER_TITLES] == list(GENDERS)
assert [v for v, _t in LIFE_SITUATION_TITLES] == list(LIFE_SITUATIONS)
assert [v for v, _t in CLOSE_REASON_TITLES] == list(CLOSE_REASONS)
#: Why a card's data was corrected; the issuer chooses from the first three (``renewal`` is the renewal's).
CORRECTION_REASON_TITLES = (
    ('typing_error', _('A typing error when the card was issued')),
    ('family_changed', _("The holder's number of children changed")),
    ('moved', _('The holder moved')),
    ('renewal', _('Checked at renewal')),
)
assert [v for v, _t in CORRECTION_REASON_TITLES] == list(CORRECTION_REASONS)
#: What an entry of a card's history (:class:`~kaiku_registry.records.CardEvent`) tells.
CARD_EVENT_TITLES = (
    ('children', _('Number of children and grandchildren under 18')),
    ('postcode', _('Postcode')),
    ('renewal', _('Renewed')),
    ('reprint', _('Printed again')),
)


def identifier_guard(node, value):
    """Refuse text that holds identifying data (:func:`kaiku_registry.privacy.find_identifier`), saying
    what kind was found and why it is not stored, never the value."""
    found = find_identifier(
        value,
        names_allowed=getattr(node, 'names_allowed', False),
        strict=not getattr(node, 'phone', False),
    )
    if found:
        raise colander.Invalid(node, REFUSALS[found])


def guard_text_nodes(node):
    """Give :func:`identifier_guard` to every ``String`` node under ``node`` (a schema class or
    instance), once."""
    nodes = list(getattr(node, '__all_schema_nodes__', ())) if isinstance(node, type) else [node]
    while nodes:
        current = nodes.pop()
        nodes.extend(current.children)
        if not isinstance(current.typ, colander.String) or getattr(current, 'identifier_guarded', False):
            continue
        if getattr(current, 'identifier_guard', True) is False:
            continue
        current.validator = _with_guard(current.validator)
        current.identifier_guarded = True
    return node


def _with_guard(validator):
    if validator is None:
        return identifier_guard
    if isinstance(validator, colander.deferred):
        return colander.deferred(functools.partial(_bound_with_guard, validator))
    return colander.All(validator, identifier_guard)


def _bound_with_guard(validator, node, kw):
    return colander.All(validator(node, kw), identifier_guard)


def registry_schema_classes():
    """Every colander schema class of the plugin."""
    return [cls for cls in schema_classes() if cls.__module__.partition('.')[0] == 'kaiku_registry']


def guard_schemas():
    """Guard the text nodes of every schema class of the plugin (run on import and at start-up)."""
    for cls in registry_schema_classes():
        guard_text_nodes(cls)


def free_text(title, max_len=200, **kw):
    return colander.SchemaNode(
        colander.String(),
        title=title,
        missing='',
        validator=colander.Length(max=max_len),
        **kw,
    )


def card_code(node, value):
    if codes.parse(value) is None:
        raise colander.Invalid(
            node, _('This is not a card code: check the letters and numbers (e.g. ABCD-EFGH-JK).')
        )


class CodeSchema(colander.MappingSchema):
    """A code typed at the door or a scanned QR payload."""

    code = colander.SchemaNode(
        colander.String(),
        title=_('Card code'),
        description=_('Type the code on the card, or scan its QR code or barcode.'),
        validator=colander.Length(min=1, max=200),
        widget=deform.widget.TextInputWidget(autocomplete='off', autofocus=True),
        identifier_guard=False,  # a card code or a signed QR payload, checked as such
    )


def plausible_birth_year(node, value):
    """The holder is 16 or over, or turns 16, this year in Finnish time (read at each check, not when the
    process started)."""
    this_year = today().year
    if value < this_year - MAXIMUM_AGE:
        raise colander.Invalid(node, _('The year is not plausible.'))
    if value > this_year - MINIMUM_AGE:
        raise colander.Invalid(node, _('The holder must be 16 or over, or turn 16 this year.'))


def birth_year_node():
    return colander.SchemaNode(
        AsciiInteger(),
        title=_('Year of birth'),
        description=_('Only the year: never the date of birth.'),
        validator=plausible_birth_year,
    )


class IssueCardSchema(colander.MappingSchema):
    birth_year = birth_year_node()
    postcode = colander.SchemaNode(
        colander.String(),
        title=_('Postcode'),
        validator=colander.Regex(r'^[0-9]{5}\Z', msg=_('A postcode has five digits.')),
    )
    children = colander.SchemaNode(
        AsciiInteger(),
        title=_('Number of children and grandchildren under 18'),
        description=_('Own children and grandchildren under 18 who may come along free.'),
        missing=0,
        validator=colander.Range(0, MAX_CHILDREN),
    )
    gender = colander.SchemaNode(
        colander.String(),
        title=_('Gender (optional)'),
        missing=None,
        validator=colander.OneOf(GENDERS),
        widget=deform.widget.SelectWidget(values=(('', _('Not asked')), *GENDER_TITLES)),
    )
    life_situation = colander.SchemaNode(
        colander.String(),
        title=_('Life situation (optional)'),
        missing=None,
        validator=colander.OneOf(LIFE_SITUATIONS),
        widget=deform.widget.SelectWidget(values=(('', _('Not asked')), *LIFE_SITUATION_TITLES)),
    )


class VisitSchema(colander.MappingSchema):
    sector = colander.SchemaNode(
        colander.String(),
        title=_('Sector'),
        validator=colander.OneOf(SECTORS),
        widget=deform.widget.RadioChoiceWidget(values=SECTOR_TITLES),
    )
    course = colander.SchemaNode(
        colander.Boolean(),
        title=_('A course place or season pass'),
        missing=False,
    )
    children = colander.SchemaNode(
        AsciiInteger(),
        title=_('Child tickets'),
        missing=0,
        validator=colander.Range(0, MAX_CHILDREN),
    )
    assistant = colander.SchemaNode(
        colander.Boolean(),
        title=_('A personal assistant or interpreter came along'),
        missing=False,
    )
    event = free_text(_('Event or course (optional)'))
    group = colander.SchemaNode(
        AsciiInteger(),
        title=_('Clients under 16 in the group'),
        missing=0,
        validator=colander.Range(0, MAX_GROUP, max_err=_('A group has at most ${max} clients under 16.')),
    )


class CloseCardSchema(colander.MappingSchema):
    reason = colander.SchemaNode(
        colander.String(),
        title=_('Why is the card closed?'),
        validator=colander.OneOf([v for v in CLOSE_REASONS if v != 'replaced']),
        widget=deform.widget.RadioChoiceWidget(values=CLOSE_REASON_TITLES[:2]),
    )


class RenewCardSchema(colander.MappingSchema):
    """The holder's data confirmed or corrected at renewal (a value left empty stays as it is; a community
    card has no postcode)."""

    children = colander.SchemaNode(
        AsciiInteger(),
        title=_('Number of children and grandchildren under 18'),
        missing=None,
        validator=colander.Range(0, MAX_CHILDREN),
    )
    postcode = colander.SchemaNode(
        colander.String(),
        title=_('Postcode'),
        missing=None,
        validator=colander.Regex(r'^[0-9]{5}\Z', msg=_('A postcode has five digits.')),
    )


class CorrectCardSchema(RenewCardSchema):
    """A correction of the children count or postcode, and why."""

    reason = colander.SchemaNode(
        colander.String(),
        title=_('Reason for the correction'),
        validator=colander.OneOf([v for v, _t in CORRECTION_REASON_TITLES[:-1]]),
        widget=deform.widget.SelectWidget(values=CORRECTION_REASON_TITLES[:-1]),
    )


def any_birth_year(node, value):
    """A year someone alive may have been born in (the holder's own view checks the pair, not the age)."""
    if not today().year - MAXIMUM_AGE <= value <= today().year:
        raise colander.Invalid(node, _('Give the year of birth as four digits, e.g. 1980.'))


class HolderLookupSchema(colander.MappingSchema):
    """A holder's card code (or scanned QR payload) and year of birth, for their own view of the card."""

    code = colander.SchemaNode(
        colander.String(),
        title=_('Card code'),
        validator=colander.Length(min=1, max=200),
        identifier_guard=False,  # a card code or a signed QR payload, checked as such
    )
    birth_year = colander.SchemaNode(AsciiInteger(), title=_('Year of birth'), validator=any_birth_year)


# Partners, sites and people (the coordinators' pages) -----------------------------------------------
def required_text(title, max_len=200, **kw):
    return colander.SchemaNode(
        colander.String(),
        title=title,
        preparer=lambda value: value.strip() if isinstance(value, str) else value,
        validator=colander.Length(min=1, max=max_len),
        **kw,
    )


def one_of(choices):
    """Like ``colander.OneOf``, with a message that does not list the internal values."""

    def validate(node, value):
        if value not in choices:
            raise colander.Invalid(node, _('Choose one of the choices.'))

    return validate


def settled_municipality(value):
    """A code or a Finnish or Swedish name of the municipality table, as its official Finnish name."""
    found = places.find_municipality(value) if isinstance(value, str) else None
    return found.name_fi if found else value


def known_municipality(node, value):
    if places.municipality_named(value) is None:
        raise colander.Invalid(node, _('Choose a municipality from the list.'))


def municipality_node():
    """A municipality of :mod:`portal.places` (by code or name, stored by its Finnish name): never free
    text, and its region and wellbeing services county follow from it."""
    return colander.SchemaNode(
        colander.String(),
        title=_('Municipality'),
        preparer=settled_municipality,
        validator=known_municipality,
    )


#: No registry date is earlier than the first Kaikukortti pilot (Espoo, 2014).
FIRST_DAY = datetime.date(2014, 1, 1)


def day_problem(value):
    """Why ``value`` cannot be a date of the registry (a card issued, a commitment signed, staff trained):
    it is after today in Finnish time or before the first pilot; None when it can be."""
    if value > today():
        return _('The date cannot be in the future.')
    if value < FIRST_DAY:
        return _('The date cannot be before ${day}.', mapping={'day': FIRST_DAY.strftime('%d.%m.%Y')})
    return None


def plausible_day(node, value):
    problem = day_problem(value)
    if problem is not None:
        raise colander.Invalid(node, problem)


class PartnerSchema(colander.MappingSchema):
    """A partner organisation, its contact person (a title and work contacts, never a name) and its
    commitment."""

    name = required_text(_('Name of the organisation'), names_allowed=True)
    kind = colander.SchemaNode(
        colander.String(),
        title=_('Kind of partner'),
        validator=one_of(PARTNER_KINDS),
    )
    municipality = municipality_node()
    contact_title = free_text(
        _('Title of the contact person'), description=_('A title, e.g. leisure coordinator; no names.')
    )
    contact_email = colander.SchemaNode(
        colander.String(),
        title=_('Work email of the contact'),
        missing='',
        validator=colander.All(colander.Length(max=200), colander.Email(msg=_('Check the email address.'))),
        names_allowed=True,  # a work address may carry the staff member's name, never a card holder's
    )
    contact_phone = colander.SchemaNode(
        colander.String(),
        title=_('Work phone of the contact'),
        missing='',
        validator=colander.Regex(r'^\+?[0-9][0-9 ()-]{4,24}$', msg=_('Digits, spaces and + ( ) - only.')),
        phone=True,
    )
    commitment_signed = colander.SchemaNode(
        colander.Date(), title=_('Commitment signed'), missing=None, validator=plausible_day
    )
    trained = colander.SchemaNode(
        colander.Date(), title=_('Staff last trained'), missing=None, validator=plausible_day
    )


def venue_finder(context):
    """A function that gives the Venue page at a catalogue path (or None), for :class:`SiteSchema`'s
    ``find_venue`` binding; ``context`` is anything in the site's tree."""
    root = find_root(context)

    def find_venue(path):
        if not path:
            return True  # no link is fine
        if not path.startswith('/') or '..' in path or '//' in path:
            return None
        try:
            found = find_resource(root, path.rstrip('/') or '/')
        except KeyError:
            return None
        return found if getattr(found, 'type_name', None) == 'Venue' else None

    return find_venue


def venue_sector(find_venue, path):
    """The sector that the categories of the venue page at ``path`` suggest (see
    :func:`kaiku_registry.records.suggested_sector`); without a page, the sector of any other venue."""
    venue = find_venue(path) if path else None
    return suggested_sector(getattr(venue, 'categories', ()))


def settled_site(values, find_venue):
    """A site's validated values as they are stored: a venue link ends with a slash, and a venue site
    without a default sector gets the one its venue page suggests (other sites have none)."""
    if values['venue_path'] and not values['venue_path'].endswith('/'):
        values['venue_path'] += '/'
    if values.get('kind') != 'venue':
        values['sector'] = None
    elif not values.get('sector'):
        values['sector'] = venue_sector(find_venue, values['venue_path'])
    return values


@colander.deferred
def venue_validator(node, kw):
    """A link to the public catalogue must name an existing Venue page (``kw['find_venue']``)."""
    find_venue = kw['find_venue']

    def existing_venue(node, value):
        if find_venue(value) is None:
            raise colander.Invalid(node, _('There is no venue page at this address in the catalogue.'))

    return colander.All(colander.Length(max=300), existing_venue)


class SiteSchema(colander.MappingSchema):
    """A site (toimipiste) of a partner; the place defaults to the partner's."""

    name = required_text(_('Name of the site'), names_allowed=True)
    kind = colander.SchemaNode(
        colander.String(),
        title=_('Kind of site'),
        validator=one_of(SITE_KINDS),
    )
    municipality = municipality_node()
    venue_path = colander.SchemaNode(
        colander.String(),
        title=_('Venue page in the catalogue (optional)'),
        description=_('The address of the venue page, e.g. /venues/uimahalli/'),
        missing='',
        validator=venue_validator,
    )
    active = colander.SchemaNode(colander.Boolean(), title=_('Active'), missing=False)
    sector = colander.SchemaNode(
        colander.String(),
        title=_('Default sector at the door'),
        description=_(
            'Preselected when a visit is recorded at this venue. Left empty, it is suggested from the '
            'categories of the venue page (swimming and sport: sport; courses: education; science '
            'centres and planetariums: science; others: culture).'
        ),
        missing=None,
        validator=one_of(SECTORS),
    )


class SiteEventSchema(colander.MappingSchema):
    """An event or course of a venue site's list (a name, never a person's)."""

    name = required_text(_('Event or course'), max_len=200)


guard_schemas()


# Card stock and entries made afterwards -------------------------------------------------------------
def late_day(node, value):
    """A day entered afterwards from paper: not in the future (Finnish time) and at most
    :data:`~kaiku_registry.records.LATE_ENTRY` back."""
    if value > today():
        raise colander.Invalid(node, _('The date cannot be in the future.'))
    if value < today() - LATE_ENTRY:
        raise colander.Invalid(
            node, _('The date can be at most ${days} days back.', mapping={'days': LATE_ENTRY.days})
        )


class PaperDate(colander.Date):
    """A date as a date picker sends it or as typed the Finnish way (see :func:`finnish_date`)."""

    err_template = _('Give the date as dd.mm.yyyy.')

    def deserialize(self, node, cstruct):
        return super().deserialize(node, finnish_date(cstruct))


def late_day_node(title):
    return colander.SchemaNode(
        PaperDate(),
        title=title,
        validator=late_day,
    )


def finnish_date(value):
    """A date typed the Finnish way (``4.12.2026``) as ISO, so both it and a date picker's ISO value
    are read; anything else is left for the type to refuse."""
    if isinstance(value, str):
        parts = value.strip().split('.')
        if len(parts) == 3 and all(part.isascii() and part.isdigit() for part in parts):
            day, month, year = parts
            return f'{year:0>4}-{month:0>2}-{day:0>2}'
    return value


def stock_code_node(title):
    return colander.SchemaNode(
        colander.String(),
        title=title,
        preparer=lambda value: codes.parse(value) or value if isinstance(value, str) else value,
        validator=card_code,
        identifier_guard=False,  # a card code, checked as such
    )


class StockCardSchema(colander.MappingSchema):
    """A card issued with a pre-printed code of the site's stock, on the day it was given."""

    code = stock_code_node(_('Pre-printed card code'))
    issued_on = late_day_node(_('Day the card was given'))


class LateVisitSchema(VisitSchema):
    """A visit noted on paper at the door, entered afterwards with its real day."""

    day = late_day_node(_('Day of the visit'))


class BatchSchema(colander.MappingSchema):
    size = colander.SchemaNode(
        AsciiInteger(),
        title=_('How many codes'),
        validator=colander.Range(1, MAX_BATCH, max_err=_('A batch holds at most ${max} codes.')),
    )


class StockMarkSchema(colander.MappingSchema):
    code = stock_code_node(_('Card code'))
    mark = colander.SchemaNode(colander.String(), title=_('Mark the code'), validator=one_of(STOCK_MARKS))
