"""Folders: ordered containers of pages, venues, materials, guides and other folders."""

from portal.forms import ItemSchema, body_node
from portal.i18n import _
from portal.resources.base import Container


class Folder(Container):
    type_name = 'Folder'


class FolderSchema(ItemSchema):
    body = body_node()


def includeme(config):
    config.add_content_type(
        Folder,
        title=_('Folder'),
        schema=FolderSchema,
        addable_to=('Site', 'Folder'),
        search_section=('page', _('Pages')),
    )
