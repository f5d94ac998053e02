"""Logging in and out: ``/login`` and ``/logout``.

A successful login starts a fresh session (:func:`portal.security.log_in`) and goes back to ``came_from``
when that is a page of this site, never elsewhere; without one, to the landing page of the user's role
(:func:`add_landing_page`: a plugin sends its staff to their own pages), else to the front page.  A wrong
login name and a wrong password give the same message and take the same time.  Too many failures for a
login name at one address, or far more for the login name or the address as a whole
(:func:`portal.security.login_limits`), within the window are refused with 429 before the password is
even checked.

Administrators manage users at ``/@@users``: add, change roles, reset a password, disable (which ends the
user's open sessions at once).  Every change goes to the audit log with the names of what changed, never
a password.
"""

from urllib.parse import quote, urlsplit

import colander
import deform
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from portal.audit import record
from portal.forms import make_form, validate
from portal.i18n import _
from portal.resources.site import Site
from portal.security import (
    LOGIN_RE,
    MANAGE_USERS,
    current_user,
    get_principals,
    log_in,
    log_out,
    login_limits,
    normalize_login,
    password_problem,
    site_wide_roles,
    spend_time_like_verify,
)
from portal.security.twofactor import is_enrolled
from portal.views.manage import form_page
from portal.views.twofactor import begin_second_step

THEME = 'kaiku_theme:templates/'


#: What stays as it is when ``came_from`` is quoted: the URL's own delimiters and its percent escapes.
CAME_FROM_SAFE = "/?#&=;:@!$'()*+,~-._%"


def safe_came_from(request, value):
    """``value`` as an address on this site, or the front page when it points anywhere else.

    The address is quoted (characters outside ASCII as percent-escaped UTF-8), so that the ``Location``
    header of the redirect can be sent whatever was typed: an unquoted ``/。x`` made the answer to a
    successful login fail, and the new session with it.
    """
    home = request.application_url + '/'
    if not value or not isinstance(value, str) or len(value) > 2000:
        return home
    if value.startswith(request.application_url + '/'):
        value = value[len(request.application_url) :]
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not value.startswith('/') or value.startswith(('//', '/\\')):
        return home
    if any(ch in value for ch in '\\\r\n\t') or not value.isprintable():
        return home
    return request.application_url + quote(value, safe=CAME_FROM_SAFE)


def add_landing_page(config, role, path, order):
    """Configurator directive: after a login that names no page to come back to, a holder of ``role``
    (given site-wide) lands on ``path`` of the site (``registry/door``), not on the front page.  A user
    with several such roles lands on the page of the lowest ``order``."""

    def register():
        config.registry.landing_pages[role] = (order, path)

    config.action(('portal.landing_page', role), register)


def landing_page(request, user):
    """The page ``user``'s roles land on after a login (:func:`add_landing_page`), or the front page."""
    landings = request.registry.landing_pages
    found = sorted(landings[role] for role in user.roles if role in landings)
    return request.application_url + '/' + (found[0][1] if found else '')


def after_login(request, user, came_from):
    """Where a login goes: back to ``came_from`` when it names a page of this site other than the front
    page, else to the landing page of the user's roles."""
    target = safe_came_from(request, came_from)
    if target != request.application_url + '/':
        return target
    return landing_page(request, user)


def _came_from(request):
    try:
        return request.params.get('came_from', '')
    except UnicodeDecodeError:
        return ''


def login_wait(request, login_name):
    """Seconds until ``login_name`` may be tried again from the requester's address, 0 when now."""
    limits = login_limits(request, login_name, request.registry.session_settings.max_failures)
    return request.registry.login_throttle.retry_after(limits)


def login_failed(request, login_name):
    limits = login_limits(request, login_name, request.registry.session_settings.max_failures)
    request.registry.login_throttle.failed(limits)


@view_config(context=Site, name='login', renderer=THEME + 'login.pt', permission=NO_PERMISSION_REQUIRED)
def login(context, request):
    came_from = _came_from(request)
    values = {'login': '', 'came_from': came_from, 'error': None, 'retry_minutes': None}
    if request.method != 'POST':
        return values
    login_name = normalize_login(request.POST.get('login', ''))[:200]
    password = request.POST.get('password', '')
    values['login'] = login_name
    wait = login_wait(request, login_name)
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
        login_failed(request, login_name)
        record(request, 'login-failed', detail={'login': login_name})
        request.response.status_int = 400
        values['error'] = _('The login name or the password is wrong.')
        return values
    second_step = begin_second_step(request, user, context, came_from)
    if second_step is not None:
        return second_step
    log_in(request, user)
    record(request, 'login', actor=user.login)
    return HTTPSeeOther(after_login(request, user, came_from))


@view_config(context=Site, name='logout', renderer=THEME + 'logout.pt', permission=NO_PERMISSION_REQUIRED)
def logout(context, request):
    if request.method != 'POST':
        return {'user': current_user(request)}
    user = current_user(request)
    if user is not None:
        record(request, 'logout', actor=user.login)
    log_out(request)
    return HTTPSeeOther(request.application_url + '/')


# User administration ----------------------------------------------------------------------------------
def roles_node(request):
    """The roles given site-wide: a local-only role (a workspace's coordinator) is given on its folder."""
    roles = [(role.name, role.title) for role in site_wide_roles(request.registry).values()]
    return colander.SchemaNode(
        colander.Set(),
        name='roles',
        title=_('Roles'),
        missing=(),
        validator=colander.ContainsOnly([name for name, _title in roles]),
        widget=deform.widget.CheckboxChoiceWidget(values=roles),
    )


@colander.deferred
def _password_validator(node, kw):
    def validate(node, value):
        login = kw['request'].POST.get('login') or kw.get('login')
        problem = password_problem(value, login)
        if problem is not None:
            raise colander.Invalid(node, problem)

    return validate


def password_node(required):
    return colander.SchemaNode(
        colander.String(),
        name='password',
        title=_('Password') if required else _('New password'),
        description=_(
            'At least 12 characters; a few words make a good one. Leave empty to keep the current password.'
        )
        if not required
        else _('At least 12 characters; a few words make a good one.'),
        missing=colander.required if required else '',
        validator=_password_validator,
        widget=deform.widget.CheckedPasswordWidget(redisplay=False),
    )


def user_schema(request, new):
    schema = colander.SchemaNode(colander.Mapping())
    if new:
        schema.add(
            colander.SchemaNode(
                colander.String(),
                name='login',
                title=_('Login name'),
                description=_('Lower-case letters, digits and . _ @ -, e.g. anna.virtanen'),
                preparer=normalize_login,
                validator=_login_validator,
            )
        )
    schema.add(
        colander.SchemaNode(
            colander.String(),
            name='title',
            title=_('Full name'),
            missing='',
            validator=colander.Length(max=200),
        )
    )
    schema.add(
        colander.SchemaNode(
            colander.String(), name='email', title=_('Email'), missing='', validator=colander.Email()
        )
    )
    schema.add(roles_node(request))
    if not new:
        schema.add(
            colander.SchemaNode(
                colander.Boolean(),
                name='disabled',
                title=_('Disabled'),
                description=_('A disabled user cannot log in; their open sessions end at once.'),
                missing=False,
            )
        )
    schema.add(password_node(required=new))
    return schema


@colander.deferred
def _login_validator(node, kw):
    principals = get_principals(kw['request'])

    def login_free(node, value):
        if principals.get_user(value) is not None:
            raise colander.Invalid(node, _('This login name is in use.'))

    return colander.All(
        colander.Regex(LOGIN_RE, msg=_('Use lower-case letters, digits and . _ @ - only.')), login_free
    )


@view_config(context=Site, name='users', renderer=THEME + 'users.pt', permission=MANAGE_USERS)
def users(context, request):
    listed = sorted(get_principals(request).list_users(), key=lambda user: user.login)
    titles = {role.name: role.title for role in request.registry.roles.values()}
    enrolled = {user.login for user in listed if is_enrolled(user)}
    return {'users': listed, 'role_titles': titles, 'enrolled': enrolled}


@view_config(context=Site, name='add-user', renderer=THEME + 'form_page.pt', permission=MANAGE_USERS)
def add_user(context, request):
    buttons = (deform.Button('save', _('Add')), deform.Button('cancel', _('Cancel')))
    form = make_form(
        request,
        user_schema(request, new=True),
        buttons,
        action=request.resource_url(context, '@@add-user'),
        formid='user-form',
    )
    title = _('Add a user')
    if request.method != 'POST':
        return form_page(request, form, title)
    if 'cancel' in request.POST:
        return HTTPSeeOther(request.resource_url(context, '@@users'))
    try:
        values = validate(form, request)
    except deform.ValidationFailure as failure:
        return form_page(request, failure.render(), title, status=400)
    user = get_principals(request).add_user(
        values['login'], roles=sorted(values['roles']), title=values['title']
    )
    user.email = values['email']
    user.set_password(values['password'])
    record(request, 'user-add', f'/users/{user.login}', detail={'roles': user.roles})
    return HTTPSeeOther(request.resource_url(context, '@@users'))


@view_config(context=Site, name='user', renderer=THEME + 'form_page.pt', permission=MANAGE_USERS)
def edit_user(context, request):
    """Change a user's name, roles, password, or disable them (which ends their sessions)."""
    user = get_principals(request).get_user(request.params.get('login', ''))
    if user is None:
        raise HTTPNotFound(_('There is no such user.'))
    buttons = (deform.Button('save', _('Save')), deform.Button('cancel', _('Cancel')))
    action = request.resource_url(context, '@@user', query={'login': user.login})
    form = make_form(request, user_schema(request, new=False), buttons, action=action, formid='user-form')
    title = _('User ${login}', mapping={'login': user.login})
    if request.method != 'POST':
        current = {
            'title': user.title,
            'email': user.email,
            'roles': set(user.roles),
            'disabled': user.disabled,
        }
        return form_page(request, form.render(current), title)
    if 'cancel' in request.POST:
        return HTTPSeeOther(request.resource_url(context, '@@users'))
    try:
        values = validate(form, request)
    except deform.ValidationFailure as failure:
        return form_page(request, failure.render(), title, status=400)
    changed = [name for name in ('title', 'email') if getattr(user, name) != values[name]]
    for name in changed:
        setattr(user, name, values[name])
    roles = tuple(sorted(values['roles']))
    if roles != tuple(sorted(user.roles)):
        user.roles = roles
        changed.append('roles')
    if values['disabled'] != user.disabled:
        user.set_disabled(values['disabled'])
        changed.append('disabled')
    if values['password']:
        user.set_password(values['password'])
        changed.append('password')
    if changed:
        record(
            request,
            'user-edit',
            f'/users/{user.login}',
            detail={'changed': changed, 'roles': user.roles, 'disabled': user.disabled},
        )
    return HTTPSeeOther(request.resource_url(context, '@@users'))
