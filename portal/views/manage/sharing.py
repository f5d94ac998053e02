"""Local roles (``@@sharing``): who holds which role on a folder or a workspace and everything in it."""

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.traversal import resource_path
from pyramid.view import view_config

from portal.audit import record
from portal.events import LocalRolesChanged, notify
from portal.i18n import _
from portal.resources.base import Container
from portal.resources.workspace import Workspace
from portal.security import MANAGE_USERS, get_principals, normalize_login
from portal.views.manage.common import THEME


@view_config(context=Container, name='sharing', renderer=THEME + 'sharing.pt', permission=MANAGE_USERS)
@view_config(context=Workspace, name='sharing', renderer=THEME + 'sharing.pt', permission=MANAGE_USERS)
def sharing(context, request):
    """Local roles: give a user a role on this folder and everything in it, or take it away (also on a
    workspace, where the local WorkspaceCoordinator role makes its holder a coordinator of it)."""
    roles = request.registry.roles
    values = {'roles': list(roles.values()), 'error': None, 'login': ''}
    if request.method == 'POST':
        principals = get_principals(request)
        removing = request.POST.get('remove', '')
        login = normalize_login(removing.removeprefix('user:') or request.POST.get('login', ''))
        user = principals.get_user(login)
        role = request.POST.get('role', '')
        if user is None:
            values['error'] = _('There is no such user.')
        elif not removing and role not in roles:
            values['error'] = _('Choose a role.')
        if values['error']:
            values['login'] = login
            request.response.status_int = 400
        else:
            held = set((context.local_roles or {}).get(user.principal, ()))
            held = set() if removing else held | {role}
            context.set_local_roles(user.principal, sorted(held))
            notify(LocalRolesChanged(context), request.registry)
            record(
                request,
                'user-edit',
                resource_path(context),
                detail={'user': user.login, 'local_roles': sorted(held)},
            )
            return HTTPSeeOther(request.resource_url(context, '@@sharing'))
    values['granted'] = sorted((context.local_roles or {}).items())
    return values
