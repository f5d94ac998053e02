"""The security policy: ACLs from each item's workflow state, roles granted site-wide or on a folder.

The policy checks a context's ACL (from its workflow state, :mod:`portal.workflow`) up to the site, and at
the site the ACL that grants each role its permissions.  Every view declares a permission; the default is
``manage``, so a view that forgets one is closed, not public.
"""

import time
from dataclasses import dataclass

from pyramid.authorization import ALL_PERMISSIONS, ACLAllowed, ACLDenied, Allow, Authenticated, Everyone
from pyramid.location import lineage

from portal.security.principals import get_principals, local_only_roles, role_acl, role_principal

SESSION_KEY = 'auth'


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
        found = principals.principals_of(user, local_only=local_only_roles(request.registry))
        return {'login': user.login, 'user': user, 'principals': found}

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
