"""Keep each user's open sessions in a BTree instead of a PersistentMapping, so concurrent logins merge.

A ``PersistentMapping`` is stored whole: two logins of one user at once both changed it and all but one
failed with a conflict.  Each user's sessions (session id → time of login) move into an ``OOBTree`` with
the same items, so no one is logged out by the upgrade.
"""

from BTrees.OOBTree import OOBTree

PRINCIPALS_KEY = 'principals'


def evolve(root, registry):
    principals = root.get(PRINCIPALS_KEY)
    if principals is None:
        return
    for user in principals.users.values():
        sessions = user.__dict__.get('sessions')
        if sessions is not None and not isinstance(sessions, OOBTree):
            user.sessions = OOBTree(dict(sessions))
