"""Workflow states and the access each state gives.

Every item is private, pending review or published.  The state alone decides who may view an item: this
module turns a state into the ACL entries the security policy reads, so changing the state is all it takes
to publish or hide an item.

Transitions (Substance D's ACL workflow pattern): an Editor submits a private item for review; a
Publisher publishes it (from private or pending), sends it back, or retracts a published item.  Each
transition names the permission it needs; :func:`transition` moves the item and sends
:class:`portal.events.StateChanged`, which the catalog and the audit log follow.
"""

import datetime
from dataclasses import dataclass

from pyramid.authorization import ALL_PERMISSIONS, Allow, Deny, Everyone

from portal.events import StateChanged, notify
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


def utcnow():
    return datetime.datetime.now(datetime.UTC)


def is_published(item):
    return item.state == PUBLISHED


@dataclass(frozen=True)
class Transition:
    """A move from one of ``sources`` to ``target``, allowed to holders of ``permission`` on the item."""

    name: str
    title: str
    sources: tuple
    target: str
    permission: str


TRANSITIONS = (
    Transition('submit', _('Submit for review'), (PRIVATE,), PENDING, 'submit'),
    Transition('publish', _('Publish'), (PRIVATE, PENDING), PUBLISHED, 'publish'),
    Transition('reject', _('Send back'), (PENDING,), PRIVATE, 'publish'),
    Transition('retract', _('Retract'), (PUBLISHED,), PRIVATE, 'publish'),
)
TRANSITION_NAMES = tuple(t.name for t in TRANSITIONS)


class WorkflowError(ValueError):
    """A transition that does not exist or cannot start from the item's state."""


def state_title(state):
    return dict(STATES).get(state, state)


def transitions_from(state):
    return [t for t in TRANSITIONS if state in t.sources]


def allowed_transitions(item, permits):
    """The transitions from ``item``'s state that ``permits(permission, item)`` allows."""
    return [t for t in transitions_from(item.state) if permits(t.permission, item)]


#: The longest comment a transition keeps.
MAX_COMMENT = 2000


def transition(item, name, registry=None, comment=''):
    """Move ``item`` along the transition called ``name``; send :class:`StateChanged` with the person's
    ``comment`` (the history keeps it); return the transition.

    The caller checks the permission (see :func:`allowed_transitions`) and the comment's length
    (:data:`MAX_COMMENT`); this checks only that the transition exists and starts from the item's state.
    """
    found = next((t for t in transitions_from(item.state) if t.name == name), None)
    if found is None:
        raise WorkflowError(f'no transition {name!r} from {item.state!r}')
    old = item.state
    item.state = found.target
    item.modified = utcnow()
    notify(StateChanged(item, old, found.target, name, comment.strip()), registry)
    return found
