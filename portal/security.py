"""Who the requester is, and what they may do: users, groups, roles, passwords, sessions, the policy.

Users and groups live in ZODB under ``root['principals']`` (:class:`Principals`), beside the site.  A
password is kept only as an argon2id hash (argon2-cffi's defaults, which follow RFC 9106); a hash made with
weaker parameters than the current ones is replaced at the next successful login.  Password rules: 12 to
256 characters, not in the bundled list of common passwords (``portal/common-passwords.txt``), not the
login name.

A login lives in a signed cookie session (``SignedCookieSessionFactory``): the cookie holds the login, a
random session id and the time of login.  Idle expiry is the session factory's ``timeout`` and absolute
expiry is checked against the login time, both inside the signed cookie, so keeping a session alive never
writes to the database.  The user object keeps the ids of its open sessions: logging out removes one,
disabling the user or resetting the password removes them all, and a cookie whose id is no longer there
is worth nothing, so logout really ends the session on the server side.

Roles are named bundles of permissions, declared with ``config.add_role(name, title, permissions)``
(plugins add their own).  A user holds roles site-wide (``user.roles``, or through a group) or locally on
a folder (``item.local_roles``: an Editor of one municipality's folder only).  The policy checks a
context's ACL (from its workflow state, :mod:`portal.workflow`) up to the site, and at the site the ACL
that grants each role its permissions.  Every view declares a permission; the default is ``manage``, so
a view that forgets one is closed, not public.

Failed logins are counted per login name and per client address in memory, per process: after
``portal.login_max_failures`` failures within ``portal.login_window`` seconds further tries are refused
(429) until the window has passed.  With several processes an attacker gets that many tries per process,
which still bounds guessing to a few dozen an hour.

Two tweens live here: one adds the security headers to every response, one refuses to let a GET or HEAD
write to the database (the plone.protect idea).
"""

import logging
import os
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from BTrees.OOBTree import OOBTree
from persistent import Persistent
from persistent.mapping import PersistentMapping
from pyramid.authorization import ALL_PERMISSIONS, ACLAllowed, ACLDenied, Allow, Authenticated, Everyone
from pyramid.csrf import SessionCSRFStoragePolicy
from pyramid.location import lineage
from pyramid.session import SignedCookieSessionFactory
from pyramid.settings import asbool
from pyramid.tweens import EXCVIEW
from pyramid_zodbconn import get_connection

from portal.i18n import _

log = logging.getLogger(__name__)

PRINCIPALS_KEY = 'principals'
SESSION_KEY = 'auth'
LOGIN_RE = re.compile(r'^[a-z0-9][a-z0-9._@-]{1,99}$')
MIN_PASSWORD = 12
MAX_PASSWORD = 256

# Permissions -------------------------------------------------------------------------------------------
VIEW = 'view'
CONTENTS = 'contents'  # the management listing of a folder
ADD = 'add'
EDIT = 'edit'
DELETE = 'delete'
SUBMIT = 'submit'  # private → pending review
PUBLISH = 'publish'  # publish, reject, retract
HISTORY = 'history'  # see and revert revisions
MANAGE_USERS = 'manage_users'
VIEW_AUDIT = 'view_audit'
SEND_FEEDBACK = 'send_feedback'  # the accessibility feedback form, open to everyone
MANAGE = 'manage'

_hasher = PasswordHasher()
_dummy_hash = None


# Passwords ---------------------------------------------------------------------------------------------
def _load_common_passwords():
    path = os.path.join(os.path.dirname(__file__), 'common-passwords.txt')
    with open(path, encoding='utf-8') as f:
        return frozenset(line.strip() for line in f if line.strip() and not line.startswith('#'))


COMMON_PASSWORDS = _load_common_passwords()


def password_problem(password, login=None):
    """The translation string saying why ``password`` is not acceptable, or None when it is."""
    if len(password) < MIN_PASSWORD:
        return _('A password needs at least ${n} characters.', mapping={'n': MIN_PASSWORD})
    if len(password) > MAX_PASSWORD:
        return _('A password may have at most ${n} characters.', mapping={'n': MAX_PASSWORD})
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS or lowered.rstrip('0123456789!?.-_ ') in COMMON_PASSWORDS:
        return _('This password is one of the most common ones. Choose another.')
    if login and login.lower() in lowered:
        return _('A password must not contain the login name.')
    return None


def hash_password(password):
    return _hasher.hash(password)


def verify_password(stored_hash, password):
    """True when ``password`` matches ``stored_hash``; never raises for a wrong or damaged hash."""
    if not stored_hash:
        return False
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def spend_time_like_verify(password):
    """Verify against a dummy hash, so an unknown login takes as long as a wrong password."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash(secrets.token_hex(16))
    verify_password(_dummy_hash, password)


def normalize_login(login):
    return (login or '').strip().lower()


# Users and groups ------------------------------------------------------------------------------------
class User(Persistent):
    """A person who can log in.  The password is kept only as an argon2id hash."""

    title = ''
    email = ''
    disabled = False
    groups = ()

    def __init__(self, login, roles=(), title=''):
        if not LOGIN_RE.match(login):
            raise ValueError(f'invalid login name: {login!r}')
        self.login = login
        self.roles = tuple(roles)
        self.title = title
        self.password_hash = None
        self.sessions = PersistentMapping()

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
        if _hasher.check_needs_rehash(self.password_hash):
            self.password_hash = hash_password(password)
        return True

    def start_session(self, sid, now, max_age):
        """Remember a new session, forgetting those older than ``max_age`` seconds."""
        for old, started in list(self.sessions.items()):
            if now - started > max_age:
                del self.sessions[old]
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

    def principals_of(self, user):
        """The principals a user holds everywhere: itself, its groups and their roles, its roles."""
        found = [user.principal]
        roles = list(user.roles)
        for name in user.groups:
            group = self.groups.get(name)
            if group is not None:
                found.append(group.principal)
                roles.extend(group.roles)
        found.extend(role_principal(role) for role in dict.fromkeys(roles))
        return found


def ensure_principals(zodb_root):
    """The site's users and groups, created on an empty database."""
    principals = zodb_root.get(PRINCIPALS_KEY)
    if principals is None:
        principals = zodb_root[PRINCIPALS_KEY] = Principals()
    return principals


def get_principals(request):
    return ensure_principals(get_connection(request).root())


# Roles -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Role:
    name: str
    title: str
    permissions: tuple


def role_principal(name):
    return f'role:{name}'


def add_role(config, name, title, permissions):
    """Configurator directive: declare a role and the permissions it grants site-wide."""
    role = Role(name, title, ALL_PERMISSIONS if permissions is ALL_PERMISSIONS else tuple(permissions))
    intr = config.introspectable('roles', name, name, 'role')
    intr['permissions'] = role.permissions

    def register():
        config.registry.roles[name] = role

    config.action(('portal.role', name), register, introspectables=(intr,))


def role_acl(registry):
    return [(Allow, role_principal(role.name), role.permissions) for role in registry.roles.values()]


# The policy ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SessionSettings:
    idle_timeout: int
    max_age: int
    max_failures: int
    failure_window: int

    @classmethod
    def from_settings(cls, settings):
        return cls(
            idle_timeout=int(settings.get('portal.session_idle_timeout', 1800)),
            max_age=int(settings.get('portal.session_max_age', 8 * 3600)),
            max_failures=int(settings.get('portal.login_max_failures', 10)),
            failure_window=int(settings.get('portal.login_window', 900)),
        )


class SecurityPolicy:
    """ACL security with roles granted site-wide or on a folder."""

    def identity(self, request):
        """The logged-in user as ``{'login', 'user', 'principals'}``, or None."""
        auth = request.session.get(SESSION_KEY)
        if not isinstance(auth, dict):
            return None
        settings = request.registry.session_settings
        try:
            started = float(auth['started'])
            login, sid = auth['login'], auth['sid']
        except (KeyError, TypeError, ValueError):
            return None
        if time.time() - started > settings.max_age:
            return None
        principals = get_principals(request)
        user = principals.get_user(login)
        if user is None or user.disabled or not user.has_session(sid):
            return None
        return {'login': user.login, 'user': user, 'principals': principals.principals_of(user)}

    def authenticated_userid(self, request):
        identity = request.identity
        return identity['login'] if identity else None

    def effective_principals(self, request, context=None):
        principals = [Everyone]
        identity = request.identity
        if identity:
            principals += [Authenticated, *identity['principals']]
            principals += local_roles_of(context, principals)
        return principals

    def permits(self, request, context, permission):
        principals = self.effective_principals(request, context)
        return acl_permits(context, principals, permission, role_acl(request.registry))

    def remember(self, request, userid, **kw):
        return []

    def forget(self, request, **kw):
        return []


def local_roles_of(context, principals):
    """Role principals that ``principals`` hold on ``context`` or its parents through local roles."""
    found = []
    for location in lineage(context):
        local = getattr(location, 'local_roles', None)
        if not local:
            continue
        for principal in principals:
            found.extend(role_principal(role) for role in local.get(principal, ()))
    return list(dict.fromkeys(found))


def acl_permits(context, principals, permission, root_acl):
    """Pyramid's ACL walk, with ``root_acl`` (the roles' grants) added at the top of the lineage."""
    principals = set(principals)
    for location in lineage(context):
        acl = getattr(location, '__acl__', ())
        if callable(acl):
            acl = acl()
        if getattr(location, '__parent__', None) is None:
            acl = [*acl, *root_acl]
        for action, principal, permissions in acl:
            if principal not in principals:
                continue
            if permissions is not ALL_PERMISSIONS and not isinstance(permissions, (list, tuple, set)):
                permissions = (permissions,)
            if permissions is ALL_PERMISSIONS or permission in permissions:
                cls = ACLAllowed if action == Allow else ACLDenied
                return cls((action, principal, permissions), acl, permission, principals, location)
    return ACLDenied('<default deny>', (), permission, principals, context)


def current_user(request):
    identity = request.identity
    return identity['user'] if identity else None


# Sessions and login ------------------------------------------------------------------------------------
def new_token():
    """A random token of 256 bits, for CSRF tokens and session ids."""
    return secrets.token_urlsafe(32)


class StrongSessionCSRF(SessionCSRFStoragePolicy):
    """Pyramid's session CSRF storage with 256-bit tokens instead of ``uuid4().hex``'s 122 bits."""

    _token_factory = staticmethod(new_token)


def log_in(request, user):
    """Start a new session for ``user``: a fresh session (and CSRF token), remembered by the user."""
    now = time.time()
    sid = new_token()
    request.session.invalidate()
    request.session[SESSION_KEY] = {'login': user.login, 'sid': sid, 'started': now}
    user.start_session(sid, now, request.registry.session_settings.max_age)
    request.registry.login_throttle.succeeded(login_key(user.login))


def log_out(request):
    """End the requester's session here and on the server."""
    auth = request.session.get(SESSION_KEY)
    user = current_user(request)
    if user is not None and isinstance(auth, dict):
        user.end_session(auth.get('sid'))
    request.session.invalidate()


def login_key(login):
    return f'login:{normalize_login(login)}'


def address_key(request):
    return f'addr:{request.client_addr}'


class LoginThrottle:
    """Failed logins per key (a login name, a client address) within a sliding window, in memory."""

    def __init__(self, max_failures, window, clock=time.monotonic):
        self.max_failures = max_failures
        self.window = window
        self.clock = clock
        self._failures = {}
        self._lock = threading.Lock()

    def _recent(self, key, now):
        times = self._failures.get(key)
        if times is None:
            return None
        while times and now - times[0] > self.window:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times

    def retry_after(self, keys):
        """Seconds until a try is allowed again for every key, 0 when it is allowed now."""
        now = self.clock()
        wait = 0
        with self._lock:
            for key in keys:
                times = self._recent(key, now)
                if times and len(times) >= self.max_failures:
                    wait = max(wait, int(self.window - (now - times[0])) + 1)
        return wait

    def failed(self, keys):
        now = self.clock()
        with self._lock:
            for key in keys:
                self._failures.setdefault(key, deque()).append(now)
                if len(self._failures) > 100_000:  # bound the memory an attack can take
                    self._failures.pop(next(iter(self._failures)))

    def succeeded(self, key):
        with self._lock:
            self._failures.pop(key, None)


def session_secret(settings):
    """The session signing secret: ``portal.session_secret``, or one kept in ``portal.session_secret_file``
    (created with 64 random bytes when missing, readable by its owner only)."""
    secret = settings.get('portal.session_secret')
    if secret:
        return secret
    path = settings.get('portal.session_secret_file')
    if not path:
        raise ValueError('set portal.session_secret or portal.session_secret_file in the ini file')
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, 'w') as f:
            f.write(secrets.token_hex(64))
    with open(path, encoding='ascii') as f:
        return f.read().strip()


# Tweens ----------------------------------------------------------------------------------------------
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'self'; form-action 'self'"
)


def security_headers_tween_factory(handler, registry):
    """Add the security headers to every response; ``Cache-Control: no-store`` for logged-in users."""
    hsts = registry.settings.get('portal.hsts') or ''

    def security_headers_tween(request):
        response = handler(request)
        headers = response.headers
        headers.setdefault('Content-Security-Policy', CSP)
        headers.setdefault('X-Content-Type-Options', 'nosniff')
        headers.setdefault('Referrer-Policy', 'strict-origin-when-cross-origin')
        headers.setdefault('X-Frame-Options', 'SAMEORIGIN')
        if hsts:
            headers.setdefault('Strict-Transport-Security', hsts)
        session = request.__dict__.get('session')
        if session is not None and session.get(SESSION_KEY):
            response.cache_control.no_store = True
            response.cache_control.private = True
            response.cache_control.max_age = None
            response.cache_control.public = None
        return response

    return security_headers_tween


def zodb_connections(request):
    """The database connections this request opened (the content database's and those it joined)."""
    primary = request.__dict__.get('_primary_zodb_conn')
    if primary is None:
        return []
    return list(primary.connections.values())


def has_pending_writes(request):
    """True when a persistent object was changed or added during this request."""
    return any(conn._registered_objects or conn._added for conn in zodb_connections(request))


def no_write_on_get_tween_factory(handler, registry):
    """Abort the transaction of a GET or HEAD that changed the database, and log it as an error."""

    def no_write_on_get_tween(request):
        response = handler(request)
        if request.method in ('GET', 'HEAD') and has_pending_writes(request):
            log.error('a %s request tried to write to the database: %s', request.method, request.path_qs)
            request.tm.doom()
        return response

    return no_write_on_get_tween


def includeme(config):
    settings = config.get_settings()
    registry = config.registry
    registry.roles = {}
    registry.session_settings = session_settings = SessionSettings.from_settings(settings)
    registry.login_throttle = LoginThrottle(session_settings.max_failures, session_settings.failure_window)
    config.add_directive('add_role', add_role)
    config.add_role('Administrator', _('Administrator'), ALL_PERMISSIONS)
    config.add_role('Editor', _('Editor'), (VIEW, CONTENTS, ADD, EDIT, DELETE, SUBMIT, HISTORY))
    config.add_role('Publisher', _('Publisher'), (VIEW, CONTENTS, PUBLISH, HISTORY))
    # Grants nothing site-wide: an onboarding workspace's own ACL gives its holders their rights there
    # (portal.resources.workspace), so the role is given on one workspace through the sharing view.
    config.add_role('WorkspaceCoordinator', _('Onboarding coordinator'), ())
    config.set_session_factory(
        SignedCookieSessionFactory(
            session_secret(settings),
            cookie_name='kaiku_session',
            secure=asbool(settings.get('portal.secure_cookies', True)),
            httponly=True,
            samesite='Lax',
            timeout=session_settings.idle_timeout,
            reissue_time=max(1, min(60, session_settings.idle_timeout // 10)),
            hashalg='sha512',
        )
    )
    config.set_csrf_storage_policy(StrongSessionCSRF())
    config.set_default_csrf_options(require_csrf=True)
    config.set_security_policy(SecurityPolicy())
    config.set_default_permission('manage')
    config.add_tween('portal.security.security_headers_tween_factory', over='pyramid_tm.tm_tween_factory')
    config.add_tween(
        'portal.security.no_write_on_get_tween_factory', under='pyramid_tm.tm_tween_factory', over=EXCVIEW
    )
