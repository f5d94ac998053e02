"""Pages: a title, a short description and a rich-text body."""

from portal.forms import ItemSchema, body_node
from portal.i18n import _
from portal.resources.base import Item


class Page(Item):
    type_name = 'Page'


class PageSchema(ItemSchema):
    body = body_node()


def includeme(config):
    config.add_content_type(
        Page,
        title=_('Page'),
        schema=PageSchema,
        addable_to=('Site', 'Folder'),
        search_section=('page', _('Pages')),
    )
