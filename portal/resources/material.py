"""Materials: brochures, posters, forms, logos, training and reports, as a file or as a link."""

import colander
import deform.widget

from portal.forms import ItemSchema, body_node, choices_node
from portal.i18n import LANGUAGE_TITLES, LANGUAGES, _
from portal.resources.base import Item

AUDIENCES = (
    ('public', _('Everyone')),
    ('issuers', _('Card issuers')),
    ('venues', _('Venues')),
    ('municipalities', _('Municipalities')),
)

KINDS = (
    ('brochure', _('Brochure')),
    ('poster', _('Poster')),
    ('form', _('Form')),
    ('logo', _('Logo')),
    ('training', _('Training material')),
    ('report', _('Report')),
)


class Material(Item):
    type_name = 'Material'
    file_fields = ('file',)
    audience = ()
    kind = 'brochure'
    link = ''
    file = None
    material_language = 'fi'


class MaterialSchema(ItemSchema):
    body = body_node()
    audience = choices_node(AUDIENCES, _('Audience'), min_len=1)
    kind = colander.SchemaNode(
        colander.String(),
        title=_('Kind'),
        validator=colander.OneOf([value for value, _title in KINDS]),
        widget=deform.widget.SelectWidget(values=KINDS),
    )
    material_language = colander.SchemaNode(
        colander.String(),
        title=_('Language of the material'),
        missing='fi',
        validator=colander.OneOf(LANGUAGES),
        widget=deform.widget.SelectWidget(values=LANGUAGE_TITLES),
    )
    link = colander.SchemaNode(
        colander.String(),
        title=_('Link'),
        description=_('An address on the web, when the material is not a file here.'),
        missing='',
        validator=colander.All(colander.url, colander.Length(max=500)),
    )


def includeme(config):
    config.add_content_type(
        Material,
        title=_('Material'),
        schema=MaterialSchema,
        addable_to=('Folder',),
        search_section=('material', _('Materials')),
    )
