"""Venues: places where the card gives free tickets or course places.

A venue tells the public what it is, where it is, how accessible it is and, in plain words, what the
Kaikukortti gives there and how to get the ticket.  Coordinates are optional.  ``sample`` marks the
made-up venues that the initial content ships so the catalogue can be tried before real data exists.

The municipality is one of :mod:`portal.places` (chosen from a list, stored by its official Finnish name,
which content files also use); the region and the wellbeing services county are derived from it whenever
a venue is written, whatever a form or a file says.
"""

import colander
import deform.widget

from portal import places
from portal.forms import ItemSchema, Number, body_node, choices_node, municipality_node, text_node
from portal.i18n import LANGUAGE_TITLES, LANGUAGES, _
from portal.resources.base import Item

CATEGORIES = (
    ('museum', _('Museum')),
    ('theatre', _('Theatre')),
    ('music', _('Music and concerts')),
    ('festival', _('Festival')),
    ('cinema', _('Cinema')),
    ('library', _('Library event')),
    ('swimming', _('Swimming hall')),
    ('sport', _('Sport')),
    ('course', _('Adult-education course')),
    ('science', _('Science centre or planetarium')),
    ('other', _('Other')),
)

ACCESSIBILITY = (
    ('step_free', _('Step-free access')),
    ('accessible_toilet', _('Accessible toilet')),
    ('induction_loop', _('Induction loop')),
    ('sign_language', _('Sign-language service')),
    ('easy_language', _('Easy-language service')),
    ('assistance_dogs', _('Assistance dogs welcome')),
)

POSTCODE = colander.Regex(r'^[0-9]{5}\Z', msg=_('A postcode has five digits.'))
PHONE = colander.Regex(
    r'^\+?[0-9 ()-]{5,25}$', msg=_('Give a phone number in digits, e.g. +358 40 123 4567.')
)


class Venue(Item):
    type_name = 'Venue'
    translatable = (
        'title',
        'description',
        'body',
        'card_benefit',
        'how_to_get_ticket',
        'course_limits',
        'opening_hours',
    )
    text_fields = ('title', 'description', 'body', 'card_benefit', 'how_to_get_ticket', 'course_limits')
    text_attributes = ('municipality', 'region')
    file_fields = ('picture',)
    categories = ()
    municipality = ''
    region = ''
    wellbeing_county = ''
    street_address = ''
    postcode = ''
    latitude = None
    longitude = None
    website = ''
    phone = ''
    email = ''
    accessibility = ()
    child_tickets = True
    languages = ()
    picture = None

    @property
    def coordinates(self):
        if self.latitude is None or self.longitude is None:
            return None
        return (self.latitude, self.longitude)


def _coordinate(title, low, high):
    return colander.SchemaNode(
        Number(always_float=True),
        title=title,
        missing=None,
        validator=colander.Range(low, high),
    )


def _derived(title, description):
    return colander.SchemaNode(
        colander.String(),
        title=title,
        description=description,
        missing='',
        widget=deform.widget.TextInputWidget(readonly=True),
    )


class VenueSchema(ItemSchema):
    body = body_node()
    categories = choices_node(CATEGORIES, _('Categories'), min_len=1)
    municipality = municipality_node()
    region = _derived(_('Region'), _('Follows from the municipality.'))
    wellbeing_county = _derived(_('Wellbeing services county'), _('Follows from the municipality.'))

    def preparer(self, value):
        """The region and the wellbeing services county of the chosen municipality, never typed ones."""
        if not isinstance(value, dict):
            return value
        place = places.municipality_named(value.get('municipality'))
        if place is None:
            return value
        county = place.county.name_fi if place.county is not None else ''
        return {**value, 'region': place.region.name_fi, 'wellbeing_county': county}

    street_address = text_node(_('Street address'), max_len=200)
    postcode = colander.SchemaNode(colander.String(), title=_('Postcode'), missing='', validator=POSTCODE)
    latitude = _coordinate(_('Latitude'), 59.0, 71.0)
    longitude = _coordinate(_('Longitude'), 19.0, 32.0)
    website = colander.SchemaNode(
        colander.String(),
        title=_('Website'),
        missing='',
        validator=colander.All(colander.url, colander.Length(max=500)),
    )
    phone = colander.SchemaNode(colander.String(), title=_('Phone'), missing='', validator=PHONE)
    email = colander.SchemaNode(colander.String(), title=_('Email'), missing='', validator=colander.Email())
    accessibility = choices_node(ACCESSIBILITY, _('Accessibility'))
    card_benefit = text_node(_('What the card gives here'), required=True, max_len=2000, textarea=True)
    how_to_get_ticket = text_node(_('How to get the ticket'), max_len=2000, textarea=True)
    child_tickets = colander.SchemaNode(
        colander.Boolean(),
        title=_('Child tickets'),
        description=_(
            "Free tickets for the holder's own children and grandchildren under 18 at the same event."
        ),
        default=True,
        missing=True,
    )
    course_limits = text_node(_('Course limits'), max_len=2000, textarea=True)
    opening_hours = text_node(_('Opening hours'), max_len=2000, textarea=True)
    languages = colander.SchemaNode(
        colander.Set(),
        title=_('Languages served'),
        missing=(),
        validator=colander.ContainsOnly(list(LANGUAGES)),
        preparer=lambda value: (
            tuple(v for v in LANGUAGES if v in value) if value not in (colander.null, None) else value
        ),
        widget=deform.widget.CheckboxChoiceWidget(values=LANGUAGE_TITLES),
    )
    sample = colander.SchemaNode(
        colander.Boolean(),
        title=_('Sample data'),
        description=_('Made-up venue shown to try the catalogue.'),
        missing=False,
    )


# index views: what the catalogue's facets find of a venue -------------------------------------------
def categories_view(item, default):
    return list(item.categories) or default


def municipality_view(item, default):
    return item.municipality or default


def region_view(item, default):
    return item.region or default


def wellbeing_county_view(item, default):
    return item.wellbeing_county or default


def accessibility_view(item, default):
    return list(item.accessibility) or default


#: The venue's own catalog indexes, their kinds and index views: the catalogue's facets.
INDEXES = (
    ('categories', 'keyword', categories_view),
    ('municipality', 'field', municipality_view),
    ('region', 'field', region_view),
    ('wellbeing_county', 'field', wellbeing_county_view),
    ('accessibility', 'keyword', accessibility_view),
)


def includeme(config):
    config.add_content_type(
        Venue,
        title=_('Venue'),
        schema=VenueSchema,
        addable_to=('Folder',),
        default_state='private',
        search_section=('venue', _('Venues')),
    )
    for name, kind, view in INDEXES:
        config.add_catalog_index(name, kind)
        config.add_index_view(name, Venue.type_name, view)
