"""Logging in and out: ``/login`` and ``/logout``.

A successful login starts a fresh session (:func:`portal.security.log_in`) and goes back to ``came_from``
when that is a page of this site, never elsewhere.  A wrong login name and a wrong password give the same
message and take the same time.  Too many failures for a login name or from one address within the window
are refused with 429 before the password is even checked.
"""

from urllib.parse import urlsplit

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from portal.audit import record
from portal.i18n import _
from portal.resources.site import Site
from portal.security import (
    address_key,
    current_user,
    get_principals,
    log_in,
    log_out,
    login_key,
    normalize_login,
    spend_time_like_verify,
)

THEME = 'kaiku_theme:templates/'


def safe_came_from(request, value):
    """``value`` as an address on this site, or the front page when it points anywhere else."""
    home = request.application_url + '/'
    if not value or not isinstance(value, str) or len(value) > 2000:
        return home
    if value.startswith(request.application_url + '/'):
        value = value[len(request.application_url) :]
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not value.startswith('/') or value.startswith(('//', '/\\')):
        return home
    if any(ch in value for ch in '\\\r\n\t'):
        return home
    return request.application_url + value


def _came_from(request):
    try:
        return request.params.get('came_from', '')
    except UnicodeDecodeError:
        return ''


@view_config(context=Site, name='login', renderer=THEME + 'login.pt', permission=NO_PERMISSION_REQUIRED)
def login(context, request):
    came_from = _came_from(request)
    values = {'login': '', 'came_from': came_from, 'error': None, 'retry_minutes': None}
    if request.method != 'POST':
        return values
    login_name = normalize_login(request.POST.get('login', ''))[:200]
    password = request.POST.get('password', '')
    values['login'] = login_name
    throttle = request.registry.login_throttle
    keys = (login_key(login_name), address_key(request))
    wait = throttle.retry_after(keys)
    if wait:
        record(request, 'login-throttled', detail={'login': login_name})
        request.response.status_int = 429
        request.response.headers['Retry-After'] = str(wait)
        values['error'] = _(
            'Too many failed logins. Wait ${minutes} minutes and try again.',
            mapping={'minutes': (wait + 59) // 60},
        )
        return values
    user = get_principals(request).get_user(login_name) if login_name else None
    if user is None:
        spend_time_like_verify(password)
    if user is None or not password or not user.check_password(password):
        throttle.failed(keys)
        record(request, 'login-failed', detail={'login': login_name})
        request.response.status_int = 400
        values['error'] = _('The login name or the password is wrong.')
        return values
    log_in(request, user)
    record(request, 'login', actor=user.login)
    return HTTPSeeOther(safe_came_from(request, came_from))


@view_config(context=Site, name='logout', renderer=THEME + 'logout.pt', permission=NO_PERMISSION_REQUIRED)
def logout(context, request):
    if request.method != 'POST':
        return {'user': current_user(request)}
    user = current_user(request)
    if user is not None:
        record(request, 'logout', actor=user.login)
    log_out(request)
    return HTTPSeeOther(request.application_url + '/')
