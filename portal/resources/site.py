"""The site root: a container whose own texts are the home page."""

from pyramid.authorization import Allow, Everyone

from portal.forms import ItemSchema, body_node
from portal.i18n import _
from portal.resources.base import Container
from portal.security import SEND_FEEDBACK
from portal.workflow import ROOT_ACL, state_acl


class Site(Container):
    """The root of the content tree, kept in the ZODB root as ``root['site']``."""

    type_name = 'Site'
    state = 'published'

    @property
    def __acl__(self):
        return [*ROOT_ACL, (Allow, Everyone, SEND_FEEDBACK), *self.local_acl, *state_acl(self.state)]


class SiteSchema(ItemSchema):
    body = body_node()


def includeme(config):
    config.add_content_type(Site, title=_('Site'), schema=SiteSchema, default_state='published')
