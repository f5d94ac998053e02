"""The second login step, enrolment in the second factor, and its reset by an administrator.

After a right password :func:`begin_second_step` decides whether the login needs a second factor: always
for a user who has enrolled, and for a user who holds one of ``portal.second_factor_roles`` (site-wide,
through a group, or on any folder).  Then the session keeps only a half-finished login
(:data:`PENDING_KEY`: the login name, the time and where to go next), which grants nothing: the security
policy reads :data:`~portal.security.SESSION_KEY` alone.  The user is sent to ``@@two-factor`` for a code
(or a recovery code), or to ``@@two-factor-setup`` to enrol first; only then does
:func:`~portal.security.log_in` start the real session, with a fresh session id.

Wrong codes count as failed logins under the login name and the address, in the same throttle as wrong
passwords, and a right password does not clear them: only a finished login does.

A session that was logged in without the factor and needs it now (a role given during the session, a
session from before the setting, a factor turned on in another session) is turned into a half-finished
login by :func:`second_factor_gate` at its next request (about 8 µs a request here).
"""

import hashlib
import time

from pyramid.events import ContextFound, subscriber
from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound, HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from portal.audit import record
from portal.i18n import _
from portal.resources.site import Site
from portal.security import (
    MANAGE_USERS,
    SESSION_KEY,
    current_user,
    get_principals,
    local_roles_of,
    log_in,
    login_limits,
    role_principal,
    twofactor,
)

THEME = 'kaiku_theme:templates/'
#: The half-finished login in the session.
PENDING_KEY = 'twofactor_pending'
#: The secret being enrolled, kept in the session between showing the QR code and the first code.
ENROL_KEY = 'twofactor_secret'
#: The session id of a login made with the second factor (enrolment counts).
FACTOR_KEY = 'twofactor_sid'
#: Seconds a half-finished login lasts: time to find the phone, or to install an authenticator app.
PENDING_MAX_AGE = 15 * 60


def _password_mark(user):
    """A short digest of the password hash: a password change ends half-finished logins too."""
    return hashlib.sha256((user.password_hash or '').encode('utf-8')).hexdigest()[:16]


def held_role_names(request, user, site):
    """The names of the roles ``user`` holds site-wide, through groups, or on the site or any folder or
    workspace (where the sharing view grants local roles).  Folders are found through the catalog."""
    principals = get_principals(request)
    held = principals.principals_of(user)
    names = {name for name in request.registry.roles if role_principal(name) in held}
    own = [principal for principal in held if not principal.startswith('role:')]
    places = [site]
    catalog = getattr(site, 'catalog', None)
    if catalog is not None:
        types = [ct.name for ct in request.registry.content_types if ct.factory.is_container]
        types.append('Workspace')
        places += [catalog.item_for(docid) for docid in catalog['content_type'].applyAny(types)]
    for place in places:
        local = getattr(place, 'local_roles', None) or {}
        for principal in own:
            names.update(local.get(principal, ()))
    return names


def second_factor_required(request, user, site):
    required = request.registry.portal_settings.second_factor_roles
    return bool(required) and twofactor.requires_second_factor(held_role_names(request, user, site), required)


def begin_second_step(request, user, site, came_from):
    """After a right password: a redirect to the second step (or to enrolment) with a half-finished
    login in the session, or None when this user logs in with the password alone."""
    if not twofactor.is_enrolled(user) and not second_factor_required(request, user, site):
        return None
    return _pending_login(request, user, site, came_from)


def _pending_login(request, user, site, came_from):
    enrolled = twofactor.is_enrolled(user)
    request.session.invalidate()
    request.session[PENDING_KEY] = {
        'login': user.login,
        'started': time.time(),
        'came_from': came_from or '',
        'mark': _password_mark(user),
    }
    name = '@@two-factor' if enrolled else '@@two-factor-setup'
    return HTTPSeeOther(request.resource_url(site, name))


def pending_user(request):
    """The user of the half-finished login in this session, or None (none, expired, or changed since)."""
    pending = request.session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    try:
        started = float(pending['started'])
        login, mark = pending['login'], pending['mark']
    except (KeyError, TypeError, ValueError):
        return None
    if not 0 <= time.time() - started <= PENDING_MAX_AGE:
        return None
    user = get_principals(request).get_user(login)
    if user is None or user.disabled or mark != _password_mark(user):
        return None
    return user


def finish_login(request, user, method):
    """Start the real session (a fresh one) and record the login; return where to go next."""
    from portal.views.auth import after_login

    came_from = request.session.get(PENDING_KEY, {}).get('came_from', '')
    log_in(request, user)
    _mark_factor_given(request)
    record(request, 'login', actor=user.login, detail={'second_factor': method})
    return after_login(request, user, came_from)


def _mark_factor_given(request):
    """Note in the session that its login was made with the second factor."""
    request.session[FACTOR_KEY] = request.session[SESSION_KEY]['sid']


@subscriber(ContextFound)
def second_factor_gate(event):
    """A session logged in without the second factor that now needs one (a role given since, a session
    older than this check, a factor turned on in another session) becomes a half-finished login, and
    the requester is sent to the second step or to enrolment.  Roles held site-wide, through a group or
    on the item requested and its folders count; nothing is written to the database."""
    request = event.request
    identity = request.identity
    if not identity:
        return
    auth = request.session.get(SESSION_KEY)
    if request.session.get(FACTOR_KEY) == auth.get('sid'):
        return
    user = identity['user']
    required = request.registry.portal_settings.second_factor_roles
    if not twofactor.is_enrolled(user):
        if not required:
            return
        held = set(identity['principals'])
        own = [principal for principal in held if not principal.startswith('role:')]
        held.update(local_roles_of(request.context, own))
        if not any(role_principal(name) in held for name in required):
            return
    came_from = request.path_qs if request.method == 'GET' else ''
    raise _pending_login(request, user, request.root, came_from)


def _to_login(request, context):
    return HTTPSeeOther(request.resource_url(context, 'login'))


@view_config(
    context=Site, name='two-factor', renderer=THEME + 'twofactor.pt', permission=NO_PERMISSION_REQUIRED
)
def second_step(context, request):
    """The second login step: a one-time code from the app, or one of the recovery codes."""
    user = pending_user(request)
    if user is None:
        return _to_login(request, context)
    if not twofactor.is_enrolled(user):  # reset by an administrator since the password was given
        return HTTPSeeOther(request.resource_url(context, '@@two-factor-setup'))
    values = {'errors': {}}
    if request.method != 'POST':
        return values
    throttle = request.registry.login_throttle
    # The same limits as the password: per login and address, with ceilings per login and per address.
    keys = login_limits(request, user.login, request.registry.session_settings.max_failures)
    wait = throttle.retry_after(keys)
    if wait:
        record(request, 'login-throttled', detail={'login': user.login, 'step': 'second_factor'})
        request.response.status_int = 429
        request.response.headers['Retry-After'] = str(wait)
        values['errors']['code'] = _(
            'Too many failed logins. Wait ${minutes} minutes and try again.',
            mapping={'minutes': (wait + 59) // 60},
        )
        return values
    recovery = 'recovery_code' in request.POST
    field = 'recovery_code' if recovery else 'code'
    given = request.POST.get(field, '')
    if recovery:
        accepted = twofactor.use_recovery_code(user, given)
    else:
        accepted = twofactor.verify_code(user, given, time.time())
    if accepted:
        return HTTPSeeOther(finish_login(request, user, 'recovery_code' if recovery else 'code'))
    throttle.failed(keys)
    record(request, 'login-failed', detail={'login': user.login, 'step': 'second_factor'})
    request.response.status_int = 400
    if recovery:
        values['errors'][field] = _('This recovery code is wrong or has been used.')
    elif twofactor.clean_code(given) is None:
        values['errors'][field] = _('Give the six digits that your authenticator app shows.')
    else:
        values['errors'][field] = _(
            'The code is wrong or has been used. Wait for the next code and try again.'
        )
    return values


def _enrolling_user(request):
    """(user, finishing_login): the user who is enrolling, and whether enrolment finishes their login."""
    user = current_user(request)
    if user is not None:
        return user, False
    user = pending_user(request)
    return user, user is not None


@view_config(
    context=Site,
    name='two-factor-setup',
    renderer=THEME + 'twofactor_setup.pt',
    permission=NO_PERMISSION_REQUIRED,
)
def setup(context, request):
    """Enrolment: a QR code and the same secret as text, confirmed with a first code; then the recovery
    codes, shown this once."""
    user, finishing = _enrolling_user(request)
    if user is None:
        return _to_login(request, context)
    if twofactor.is_enrolled(user):
        if finishing:
            return HTTPSeeOther(request.resource_url(context, '@@two-factor'))
        return {'enrolled': True, 'codes_left': twofactor.recovery_codes_left(user)}
    secret = request.session.get(ENROL_KEY)
    if not isinstance(secret, str) or len(secret) != 32:
        secret = request.session[ENROL_KEY] = twofactor.new_secret()
    values = {'enrolled': False, 'error': None, 'finishing': finishing}
    if request.method == 'POST':
        codes = twofactor.enrol(user, secret, request.POST.get('code', ''), time.time())
        if codes is not None:
            record(
                request,
                'user-edit',
                f'/users/{user.login}',
                actor=user.login,
                detail={'changed': ['second_factor']},
            )
            if finishing:
                next_url = finish_login(request, user, 'enrolment')
            else:
                request.session.pop(ENROL_KEY, None)
                _mark_factor_given(request)
                next_url = request.resource_url(context)
            return render_recovery_codes(request, codes, next_url)
        request.response.status_int = 400
        values['error'] = _('The code is wrong. Give the code that your app shows now.')
    issuer = request.localizer.translate(_('Kaiku Portal'))
    uri = twofactor.provisioning_uri(secret, user.login, issuer)
    values['qr_svg'] = twofactor.qr_svg(
        uri, request.localizer.translate(_('QR code for your authenticator app'))
    )
    values['secret'] = twofactor.grouped(secret)
    values['otpauth_uri'] = uri
    return values


def render_recovery_codes(request, codes, next_url):
    """The page that shows the new recovery codes, this once, with a link on to ``next_url``."""
    return render_to_response(
        THEME + 'twofactor_codes.pt', {'codes': codes, 'next_url': next_url}, request=request
    )


@view_config(
    context=Site, name='two-factor-codes.txt', request_method='POST', permission=NO_PERMISSION_REQUIRED
)
def download_codes(context, request):
    """The recovery codes just shown, as a text file to print or keep.  The page posts them back: only
    codes that are this user's unused recovery codes are returned, so nothing else can be echoed."""
    user = current_user(request)
    if user is None:
        raise HTTPForbidden()
    codes = [code for code in request.POST.getall('code') if twofactor.is_recovery_code(user, code)]
    if not codes:
        raise HTTPNotFound(_('These recovery codes are not in use.'))
    translate = request.localizer.translate
    lines = [
        translate(_('Kaiku Portal: recovery codes for ${login}', mapping={'login': user.login})),
        translate(_('Each code works once, in place of the code of your authenticator app.')),
        '',
        *codes,
        '',
    ]
    response = Response('\n'.join(lines), content_type='text/plain', charset='utf-8')
    response.headers['Content-Disposition'] = 'attachment; filename="recovery-codes.txt"'
    response.headers['Cache-Control'] = 'no-store'
    return response


@view_config(context=Site, name='reset-second-factor', request_method='POST', permission=MANAGE_USERS)
def reset_second_factor(context, request):
    """An administrator takes a user's second factor away (a lost phone); the user enrols again at their
    next login, and their open sessions end."""
    user = get_principals(request).get_user(request.POST.get('login', ''))
    if user is None:
        raise HTTPNotFound(_('There is no such user.'))
    if twofactor.is_enrolled(user):
        twofactor.reset(user)
        record(request, 'user-edit', f'/users/{user.login}', detail={'changed': ['second_factor_reset']})
    return HTTPSeeOther(request.resource_url(context, '@@users'))
