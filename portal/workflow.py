"""Workflow states and the access each state gives.

Every item is private, pending review or published.  The state alone decides who may view an item: this
module turns a state into the ACL entries the security policy reads, so changing the state is all it takes
to publish or hide an item.
"""

from pyramid.authorization import ALL_PERMISSIONS, Allow, Deny, Everyone

from portal.i18n import _

PRIVATE = 'private'
PENDING = 'pending'
PUBLISHED = 'published'

STATES = (
    (PRIVATE, _('Private')),
    (PENDING, _('Pending review')),
    (PUBLISHED, _('Published')),
)

#: Roles that see items that are not published.
STAFF_ROLES = ('role:Administrator', 'role:Editor', 'role:Publisher')

ROOT_ACL = ((Allow, 'role:Administrator', ALL_PERMISSIONS),)


def state_acl(state):
    """The ACL entries an item in ``state`` carries before those it inherits."""
    if state == PUBLISHED:
        return [(Allow, Everyone, 'view')]
    return [*((Allow, role, 'view') for role in STAFF_ROLES), (Deny, Everyone, 'view')]


def is_published(item):
    return item.state == PUBLISHED
