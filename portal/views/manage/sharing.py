"""Local roles (``@@sharing``): who holds which role on a folder or a workspace and everything in it.

The page shows, for everyone who holds a role here, the roles given here apart from those inherited from
the folders above and those their account holds site-wide; it finds users and groups by name (``?q=``)
to give them a role; and it offers only the roles declared to apply to this kind of item
(:meth:`portal.security.principals.Role.applies_to`), so a content folder never offers the card
registry's roles.
"""

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.location import lineage
from pyramid.traversal import resource_path
from pyramid.view import view_config

from portal.audit import record
from portal.events import LocalRolesChanged, notify
from portal.i18n import _
from portal.resources.base import Container
from portal.resources.workspace import Workspace
from portal.security import MANAGE_USERS, get_principals, normalize_login
from portal.views.manage.common import THEME

#: The most users and groups a search shows.
MAX_FOUND = 50


def roles_here(request, context):
    """The roles that may be given on ``context``, in their declaration order."""
    return [role for role in request.registry.roles.values() if role.applies_to(context.type_name)]


def find_principal(principals, key):
    """The user or group that ``key`` names (``group:name``, ``user:login`` or a bare login), or None."""
    if key.startswith('group:'):
        return principals.get_group(key.removeprefix('group:'))
    return principals.get_user(normalize_login(key.removeprefix('user:')))


def search_principals(principals, text):
    """Users and groups whose login, name or title holds ``text`` (case-insensitive), at most
    :data:`MAX_FOUND`: ``[{'principal', 'name' (the title, or the key), 'kind', 'key'}]``."""
    text = text.strip().lower()
    if not text:
        return []
    found = [
        {'principal': user.principal, 'name': user.title or user.login, 'kind': 'user', 'key': user.login}
        for user in principals.users.values()
        if text in user.login or text in (user.title or '').lower()
    ]
    found += [
        {'principal': group.principal, 'name': group.title or group.name, 'kind': 'group', 'key': group.name}
        for group in principals.groups.values()
        if text in group.name.lower() or text in (group.title or '').lower()
    ]
    return found[:MAX_FOUND]


def holders(request, context, principals):
    """Everyone with a local role here or above: ``[{'principal', 'name', 'here', 'inherited',
    'site_wide'}]``, ``inherited`` being ``(role title, folder)`` pairs, nearest folder first."""
    roles = request.registry.roles

    def title(name):
        return roles[name].title if name in roles else name

    found = {}
    for location in lineage(context):
        for principal, held in (getattr(location, 'local_roles', None) or {}).items():
            entry = found.setdefault(principal, {'principal': principal, 'here': [], 'inherited': []})
            if location is context:
                entry['here'] = [title(name) for name in held]
            else:
                entry['inherited'].extend((title(name), location) for name in held)
    for entry in found.values():
        holder = find_principal(principals, entry['principal'])
        entry['name'] = entry['principal'].split(':', 1)[1]
        entry['site_wide'] = [title(name) for name in getattr(holder, 'roles', ())]
    return sorted(found.values(), key=lambda entry: entry['principal'])


@view_config(context=Container, name='sharing', renderer=THEME + 'sharing.pt', permission=MANAGE_USERS)
@view_config(context=Workspace, name='sharing', renderer=THEME + 'sharing.pt', permission=MANAGE_USERS)
def sharing(context, request):
    """Local roles: give a user or a group a role on this folder and everything in it, or take them away
    (also on a workspace, where the local WorkspaceCoordinator role makes its holder a coordinator of it)."""
    offered = roles_here(request, context)
    principals = get_principals(request)
    query = request.GET.get('q', '').strip()[:100]
    values = {'roles': offered, 'error': None, 'login': '', 'q': query}
    if request.method == 'POST':
        removing = request.POST.get('remove', '')
        key = removing or request.POST.get('principal') or request.POST.get('login', '')
        holder = find_principal(principals, key.strip())
        role = request.POST.get('role', '')
        if holder is None:
            values['error'] = _('There is no such user or group.')
        elif not removing and role not in {each.name for each in offered}:
            values['error'] = _('Choose a role.') if not role else _('That role cannot be given here.')
        if values['error']:
            values['login'] = key
            request.response.status_int = 400
        else:
            held = set((context.local_roles or {}).get(holder.principal, ()))
            held = set() if removing else held | {role}
            context.set_local_roles(holder.principal, sorted(held))
            notify(LocalRolesChanged(context), request.registry)
            record(
                request,
                'user-edit',
                resource_path(context),
                detail={'user': getattr(holder, 'login', holder.principal), 'local_roles': sorted(held)},
            )
            return HTTPSeeOther(request.resource_url(context, '@@sharing'))
    values['holders'] = holders(request, context, principals)
    values['found'] = search_principals(principals, query)
    return values
