"""``/@@setup?token=…``: the page that makes the first administrator while the site runs.

The site prints the link when it starts with no user at all (:mod:`portal.security.firstrun`).  The page
shows a form (login name, password twice) and, on a POST with the session's CSRF token, makes an
Administrator whose password follows the site's rules, forgets every setup token and sends the person to
log in.  Without a valid token, or once any user exists, it answers 404, so it never lets a second person
in.
"""

import colander
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from portal.audit import record
from portal.i18n import _
from portal.pagecache import uncacheable
from portal.resources.site import Site
from portal.security import LOGIN_RE, normalize_login, password_problem
from portal.security.firstrun import MAX_TOKEN, add_first_administrator, setup_allowed

THEME = 'kaiku_theme:templates/'
#: The form's fields in the order the page shows them and the error summary lists them.
FIELDS = ('login', 'password', 'password_again')


class SetupSchema(colander.MappingSchema):
    """The first administrator's login name and password, typed twice."""

    login = colander.SchemaNode(
        colander.String(),
        title=_('Login name'),
        preparer=lambda value: normalize_login(value) if isinstance(value, str) else value,
        validator=colander.Regex(LOGIN_RE, msg=_('Use lower-case letters, digits and . _ @ - only.')),
    )
    password = colander.SchemaNode(colander.String(), title=_('Password'))
    password_again = colander.SchemaNode(colander.String(), title=_('Password again'))

    def validator(self, node, values):
        """The site's password rules (:func:`portal.security.password_problem`), and the same password
        typed twice; the message goes beside the first password field."""
        problem = password_problem(values['password'], values['login'])
        if problem is None and values['password'] != values['password_again']:
            problem = _('The passwords differ. Type the same password twice.')
        if problem is not None:
            error = colander.Invalid(node)
            error['password'] = problem
            raise error


def _token(request):
    try:
        token = request.params.get('token', '')
    except UnicodeDecodeError:
        return ''
    return token if len(token) <= MAX_TOKEN else ''


@view_config(context=Site, name='setup', renderer=THEME + 'setup.pt', permission=NO_PERMISSION_REQUIRED)
def setup(context, request):
    token = _token(request)
    if not setup_allowed(request, token):
        raise HTTPNotFound()
    uncacheable(request)
    request.response.cache_control.no_store = True
    values = {'token': token, 'login': '', 'errors': {}, 'fields': FIELDS}
    if request.method != 'POST':
        return values
    posted = {name: request.POST.get(name, '') for name in FIELDS}
    values['login'] = normalize_login(posted['login'])[:200]
    try:
        appstruct = SetupSchema().deserialize(posted)
    except colander.Invalid as error:
        request.response.status_int = 400
        values['errors'] = error.asdict(translate=request.localizer.translate)
        return values
    user = add_first_administrator(request, appstruct['login'], appstruct['password'])
    record(request, 'user-add', f'/users/{user.login}', actor=user.login, detail={'roles': user.roles})
    return HTTPSeeOther(request.resource_url(context, 'login'))
