"""Users, groups and roles.

Users and groups live in ZODB under ``root['principals']`` (:class:`Principals`), beside the site.  The
user object keeps the ids of its open sessions in a BTree of their own (session id → time of login):
logging out removes one, disabling the user or resetting the password removes them all.  A BTree, not a
mapping stored whole, so that logins of one user at the same moment (one person on a phone and a laptop,
or a shared door account) each add their own key and ZODB merges them instead of failing all but one.
Roles are named bundles of permissions, declared with ``config.add_role(name, title, permissions)``
(plugins add their own).  A role declared ``local_only`` is held only where it is given on a folder (a
workspace's coordinator): it cannot be given site-wide, and a site-wide grant of it from before is
ignored.
"""

import re
from dataclasses import dataclass

from BTrees.OOBTree import OOBTree
from persistent import Persistent
from pyramid.authorization import ALL_PERMISSIONS, Allow
from pyramid_zodbconn import get_connection

from portal.security.passwords import hash_password, needs_rehash, verify_password

PRINCIPALS_KEY = 'principals'
LOGIN_RE = re.compile(r'^[a-z0-9][a-z0-9._@-]{1,99}$')


def normalize_login(login):
    return (login or '').strip().lower()


class User(Persistent):
    """A person who can log in.  The password is kept only as an argon2id hash."""

    title = ''
    email = ''
    disabled = False
    groups = ()
    #: The second factor (:mod:`portal.security.twofactor`): the TOTP secret (None until enrolled), the
    #: last time step a code was accepted for, and the key and keyed hashes of the unused recovery codes.
    totp_secret = None
    totp_last_step = -1
    recovery_key = None
    recovery_hashes = ()

    def __init__(self, login, roles=(), title=''):
        if not LOGIN_RE.match(login):
            raise ValueError(f'invalid login name: {login!r}')
        self.login = login
        self.roles = tuple(roles)
        self.title = title
        self.password_hash = None
        self.sessions = OOBTree()

    @property
    def principal(self):
        return f'user:{self.login}'

    def set_password(self, password):
        """Hash and keep ``password``; every open session ends.  The caller checks the rules first."""
        self.password_hash = hash_password(password)
        self.end_all_sessions()

    def check_password(self, password):
        """True when ``password`` is right; a hash with outdated parameters is replaced then."""
        if self.disabled or not verify_password(self.password_hash, password):
            return False
        if needs_rehash(self.password_hash):
            self.password_hash = hash_password(password)
        return True

    def start_session(self, sid, now, max_age):
        """Remember a new session, forgetting those older than ``max_age`` seconds."""
        for old, started in list(self.sessions.items()):
            if now - started > max_age:
                self.sessions.pop(old, None)
        self.sessions[sid] = now

    def has_session(self, sid):
        return sid in self.sessions

    def end_session(self, sid):
        self.sessions.pop(sid, None)

    def end_all_sessions(self):
        if self.sessions:
            self.sessions.clear()

    def set_disabled(self, disabled):
        self.disabled = bool(disabled)
        if self.disabled:
            self.end_all_sessions()


class Group(Persistent):
    """A named set of users that holds roles for all of them."""

    def __init__(self, name, title='', roles=()):
        self.name = name
        self.title = title
        self.roles = tuple(roles)

    @property
    def principal(self):
        return f'group:{self.name}'


class Principals(Persistent):
    """Every user and group of the site, by login name and group name."""

    def __init__(self):
        self.users = OOBTree()
        self.groups = OOBTree()

    def get_user(self, login):
        return self.users.get(normalize_login(login))

    def add_user(self, login, roles=(), title=''):
        login = normalize_login(login)
        if login in self.users:
            raise KeyError(f'login already in use: {login}')
        user = User(login, roles=roles, title=title)
        self.users[login] = user
        return user

    def list_users(self):
        return list(self.users.values())

    def get_group(self, name):
        return self.groups.get(name)

    def add_group(self, name, title='', roles=()):
        if name in self.groups:
            raise KeyError(f'group already exists: {name}')
        group = self.groups[name] = Group(name, title, roles)
        return group

    def principals_of(self, user, local_only=()):
        """The principals a user holds everywhere: itself, its groups and their roles, its roles; the
        roles named in ``local_only`` are left out, since they count only where given on a folder."""
        found = [user.principal]
        roles = list(user.roles)
        for name in user.groups:
            group = self.groups.get(name)
            if group is not None:
                found.append(group.principal)
                roles.extend(group.roles)
        found.extend(role_principal(role) for role in dict.fromkeys(roles) if role not in local_only)
        return found


def ensure_principals(zodb_root):
    """The site's users and groups, created on an empty database."""
    principals = zodb_root.get(PRINCIPALS_KEY)
    if principals is None:
        principals = zodb_root[PRINCIPALS_KEY] = Principals()
    return principals


def get_principals(request):
    return ensure_principals(get_connection(request).root())


#: The permissions that content items check: a role granting none of them means nothing on a folder.
CONTENT_PERMISSIONS = frozenset(
    ('view', 'contents', 'add', 'edit', 'delete', 'submit', 'publish', 'history', 'manage_users')
)


@dataclass(frozen=True)
class Role:
    name: str
    title: str
    permissions: tuple
    #: True for a role that is held only on the folder where it is given, never site-wide.
    local_only: bool = False
    #: The type names of the items the sharing page may give the role on (``*``: any container).
    given_on: tuple = ('*',)

    def applies_to(self, type_name):
        """Whether the role may be given on an item of ``type_name`` (the sharing page)."""
        return '*' in self.given_on or type_name in self.given_on


def role_principal(name):
    return f'role:{name}'


def add_role(config, name, title, permissions, local_only=False, given_on=None):
    """Configurator directive: declare a role and the permissions it grants where it is held.  A
    ``local_only`` role can be given only on a folder (the sharing view), never site-wide.

    ``given_on`` names the types of the items the sharing page offers the role on (``*`` for any); by
    default a role that grants a permission content checks applies to any container and any other role
    (a plugin's, such as the card registry's door and issuer roles) to none, so a folder never offers a
    role that would mean nothing there.
    """
    permissions = ALL_PERMISSIONS if permissions is ALL_PERMISSIONS else tuple(permissions)
    if given_on is None:
        about_content = permissions is ALL_PERMISSIONS or bool(CONTENT_PERMISSIONS & set(permissions))
        given_on = ('*',) if about_content else ()
    role = Role(name, title, permissions, bool(local_only), tuple(given_on))
    intr = config.introspectable('roles', name, name, 'role')
    intr['permissions'] = role.permissions
    intr['local_only'] = role.local_only
    intr['given_on'] = role.given_on

    def register():
        config.registry.roles[name] = role

    config.action(('portal.role', name), register, introspectables=(intr,))


def site_wide_roles(registry):
    """The roles that may be given site-wide (on the users page or by ``portal-adduser``), by name."""
    return {name: role for name, role in registry.roles.items() if not role.local_only}


def local_only_roles(registry):
    return frozenset(name for name, role in registry.roles.items() if role.local_only)


def role_acl(registry):
    return [(Allow, role_principal(role.name), role.permissions) for role in registry.roles.values()]
