"""Who the requester is, and what they may do.

The parts live in their own modules: :mod:`~portal.security.passwords` (argon2id hashes and rules),
:mod:`~portal.security.principals` (users, groups, roles), :mod:`~portal.security.policy` (the ACL policy
with local roles), :mod:`~portal.security.sessions` (signed-cookie sessions, login and logout, CSRF),
:mod:`~portal.security.throttle` (failed logins, counted in the database) and
:mod:`~portal.security.tweens` (security headers, no write on GET).  This module names the permissions,
re-exports what the rest of the portal uses, and wires the parts into the Configurator.
"""

from pyramid.authorization import ALL_PERMISSIONS
from pyramid.events import ApplicationCreated
from pyramid.session import SignedCookieSessionFactory
from pyramid.settings import asbool
from pyramid.tweens import EXCVIEW, INGRESS

from portal.i18n import _

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

from portal.security.passwords import (  # noqa: E402 - the permissions above are imported by the parts
    COMMON_PASSWORDS,
    MAX_PASSWORD,
    MIN_PASSWORD,
    hash_password,
    password_problem,
    spend_time_like_verify,
    verify_password,
)
from portal.security.policy import (  # noqa: E402
    SESSION_KEY,
    SecurityPolicy,
    SessionSettings,
    acl_permits,
    current_user,
    local_roles_of,
)
from portal.security.principals import (  # noqa: E402
    LOGIN_RE,
    PRINCIPALS_KEY,
    Group,
    Principals,
    Role,
    User,
    add_role,
    ensure_principals,
    get_principals,
    normalize_login,
    role_acl,
    role_principal,
    site_wide_roles,
)
from portal.security.sessions import (  # noqa: E402
    SESSION_COOKIE,
    StrongSessionCSRF,
    log_in,
    log_out,
    new_token,
    session_secret,
)
from portal.security.throttle import (  # noqa: E402
    Throttle,
    address_key,
    client_network,
    ensure_throttle_box,
    login_address_key,
    login_key,
    login_limits,
)
from portal.security.tweens import (  # noqa: E402
    CSP,
    has_pending_writes,
    no_write_on_get_tween_factory,
    security_headers_tween_factory,
    zodb_connections,
)

__all__ = [
    'ADD',
    'ALL_PERMISSIONS',
    'COMMON_PASSWORDS',
    'CONTENTS',
    'CSP',
    'DELETE',
    'EDIT',
    'HISTORY',
    'LOGIN_RE',
    'MANAGE',
    'MANAGE_USERS',
    'MAX_PASSWORD',
    'MIN_PASSWORD',
    'PRINCIPALS_KEY',
    'PUBLISH',
    'SEND_FEEDBACK',
    'SESSION_KEY',
    'SUBMIT',
    'VIEW',
    'VIEW_AUDIT',
    'Group',
    'Principals',
    'Role',
    'SecurityPolicy',
    'SessionSettings',
    'StrongSessionCSRF',
    'Throttle',
    'User',
    'acl_permits',
    'add_role',
    'address_key',
    'client_network',
    'current_user',
    'ensure_principals',
    'get_principals',
    'has_pending_writes',
    'hash_password',
    'local_roles_of',
    'log_in',
    'log_out',
    'login_address_key',
    'login_key',
    'login_limits',
    'new_token',
    'no_write_on_get_tween_factory',
    'normalize_login',
    'password_problem',
    'role_acl',
    'role_principal',
    'security_headers_tween_factory',
    'session_secret',
    'site_wide_roles',
    'spend_time_like_verify',
    'verify_password',
    'zodb_connections',
]


def includeme(config):
    settings = config.get_settings()
    registry = config.registry
    registry.roles = {}
    registry.session_settings = session_settings = SessionSettings.from_settings(settings)
    registry.login_throttle = Throttle(registry, 'login', session_settings.failure_window)
    config.add_subscriber(ensure_throttle_box, ApplicationCreated)
    config.add_directive('add_role', add_role)
    config.add_role('Administrator', _('Administrator'), ALL_PERMISSIONS)
    config.add_role('Editor', _('Editor'), (VIEW, CONTENTS, ADD, EDIT, DELETE, SUBMIT, HISTORY))
    config.add_role('Publisher', _('Publisher'), (VIEW, CONTENTS, PUBLISH, HISTORY))
    # Held only on one workspace, given through its sharing view: the workspace's own ACL gives its holders
    # their rights there (portal.resources.workspace).  Given site-wide it would open every workspace.
    config.add_role(
        'WorkspaceCoordinator', _('Onboarding coordinator'), (), local_only=True, given_on=('Workspace',)
    )
    config.set_session_factory(
        SignedCookieSessionFactory(
            session_secret(settings),
            cookie_name=SESSION_COOKIE,
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
    # The headers tween wraps every other tween, so that an answer any of them makes (or an exception
    # any of them raises) carries the headers; beneath it, nothing meets input that does not decode.
    config.add_tween('portal.security.tweens.security_headers_tween_factory', under=INGRESS)
    config.add_tween(
        'portal.security.tweens.valid_utf8_tween_factory',
        under='portal.security.tweens.security_headers_tween_factory',
        over='pyramid_tm.tm_tween_factory',
    )
    config.add_tween(
        'portal.security.tweens.no_write_on_get_tween_factory',
        under='pyramid_tm.tm_tween_factory',
        over=EXCVIEW,
    )
