"""The people's pages: who acts for the area's sites and who coordinates in it; linking a login to a
site, granting the registry's roles and giving a coordinator an area."""

from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config, view_defaults

from kaiku_registry.i18n import _
from kaiku_registry.models import AREA_KINDS, CardRegistry, area_place
from kaiku_registry.pages import ROLE_TITLES, post, query
from kaiku_registry.partners.common import (
    MANAGE,
    TEMPLATES,
    municipality_choices,
    page_values,
    paginate,
    render,
    scope_of,
)
from portal import audit, places
from portal.security import LOGIN_RE, get_principals, normalize_login

REGISTRY_ROLES = ('VenueStaff', 'IssuerStaff', 'Coordinator', 'NationalAdmin')
#: Roles a coordinator may never change: whoever holds them is beyond a coordinator's reach.
HIGHER_ROLES = ('NationalAdmin', 'Administrator')
AREA_KIND_TITLES = (('municipality', _('Municipality')), ('region', _('Region')))


def area_in_scope(context, scope, kind, name):
    """True when a coordinator of ``scope`` holds the area ``(kind, name)``: their own area, or a
    municipality of their region, as the municipality table says (never the records, which a coordinator
    writes).  An area the table does not know is in nobody's scope but a national administrator's."""
    if scope.national:
        return True
    found, own = area_place(kind, name), area_place(*scope.area)
    if found is None or own is None:
        return False
    if (kind, found) == (scope.area[0], own):
        return True
    return scope.area[0] == 'region' and kind == 'municipality' and found.region == own


def area_choices(request, scope):
    """``[(kind, [(name, title), ...]), ...]``: the regions and municipalities the requester may give a
    coordinator, titles in the reader's language."""
    language = request.localizer.locale_name
    regions = [
        (region.name_fi, title)
        for code, title in places.region_choices(language)
        if area_in_scope(None, scope, 'region', (region := places.region(code)).name_fi)
    ]
    return [('region', regions), ('municipality', municipality_choices(request, scope))]


def within_reach(context, scope, user):
    """True when the requester may change ``user``'s registry links and roles."""
    if scope.national:
        return True
    if any(role in HIGHER_ROLES for role in user.roles):
        return False
    site = context.site_of(user.login)
    area = context.area_of(user.login)
    if site is not None and not scope.covers(site.municipality):
        return False
    return area is None or area_in_scope(context, scope, *area)


def person_or_404(context, request, scope, login):
    login = normalize_login(login)
    user = get_principals(request).get_user(login) if LOGIN_RE.match(login) else None
    if user is None or not within_reach(context, scope, user):
        raise HTTPNotFound(_('There is no such user, or the user is outside your area.'))
    return user


def grantable_roles(scope):
    return [name for name in REGISTRY_ROLES if scope.national or name not in HIGHER_ROLES]


def person_page(context, request, scope, user, **extra):
    site = context.site_of(user.login)
    area = context.area_of(user.login)
    sites_in_scope = sorted(
        scope.sites(context),
        key=lambda s: (s.municipality, s.name),
    )
    page = page_values(
        context,
        request,
        scope,
        user=user,
        roles=[(name, ROLE_TITLES[name]) for name in grantable_roles(scope)],
        area_kinds=AREA_KIND_TITLES,
        area_choices=area_choices(request, scope),
        site_choices=sites_in_scope,
        values={
            'site': str(site.id) if site else '',
            'roles': [r for r in user.roles if r in REGISTRY_ROLES],
            'area_kind': area[0] if area else (scope.area[0] if scope.area else 'municipality'),
            'area_name': area[1] if area else '',
        },
    )
    page.update(extra)
    return page


def read_person(context, request, scope):
    """``(site, roles, area, cstruct, errors)`` of the person form, checked against the requester's reach."""
    try:
        chosen = request.POST.getall('roles')
    except UnicodeDecodeError:
        chosen = []
    cstruct = {
        'site': post(request, 'site'),
        'roles': chosen,
        'area_kind': post(request, 'area_kind'),
        'area_name': post(request, 'area_name').strip(),
    }
    errors = {}
    grantable = grantable_roles(scope)
    roles = [name for name in REGISTRY_ROLES if name in chosen]
    if any(name not in grantable for name in chosen):
        errors['roles'] = _('You cannot grant this role.')
    site = None
    if cstruct['site']:
        try:
            site = context.site(int(cstruct['site']))
        except ValueError:
            site = None
        if site is None or not scope.covers(site.municipality):
            errors['site'] = _('Choose a site of your area.')
            site = None
    for role, kind in (('VenueStaff', 'venue'), ('IssuerStaff', 'issuer')):
        if role in roles and (site is None or site.kind != kind) and 'site' not in errors:
            errors['site'] = (
                _('Venue staff act for a venue site: choose one.')
                if kind == 'venue'
                else _('Issuer staff act for an issuing site: choose one.')
            )
    area = None
    if 'Coordinator' in roles:
        kind, name = cstruct['area_kind'], cstruct['area_name']
        found = area_place(kind, name) if kind in AREA_KINDS else None
        if found is None:
            errors['area_name'] = _('A coordinator needs an area: a municipality or a region.')
        elif not area_in_scope(context, scope, kind, found.name_fi):
            errors['area_name'] = _('This place is outside your area.')
        else:
            area = (kind, found.name_fi)
    translated = {key: request.localizer.translate(value) for key, value in errors.items()}
    return site, roles, area, cstruct, translated


@view_defaults(context=CardRegistry, permission=MANAGE)
class PeoplePages:
    """The views of this room: each checks the requester's area before it reads or writes."""

    def __init__(self, context, request):
        self.context = context
        self.request = request

    @view_config(name='people', request_method='GET', renderer=TEMPLATES + 'people.pt')
    def people(self):
        """Who acts for the area's sites, and who coordinates in it."""
        context, request = self.context, self.request
        scope = scope_of(context, request)
        principals = get_principals(request)
        rows = []
        for login, site in context.members_with_sites():
            if scope.covers(site.municipality):
                rows.append({'login': login, 'site': site, 'area': context.area_of(login)})
        listed = {row['login'] for row in rows}
        for login, area in context.coordinators():
            if login not in listed and area_in_scope(context, scope, *area):
                rows.append({'login': login, 'site': None, 'area': area})
        rows.sort(key=lambda row: row['login'])
        listed = paginate(context, request, 'people', rows, {})
        for row in listed['rows']:
            user = principals.get_user(row['login'])
            row['roles'] = [ROLE_TITLES[r] for r in REGISTRY_ROLES if user is not None and r in user.roles]
            row['exists'] = user is not None
        return page_values(context, request, scope, **listed, matching=len(rows))

    @view_config(name='person', request_method='GET', renderer=TEMPLATES + 'person.pt')
    def person(self):
        context, request = self.context, self.request
        scope = scope_of(context, request)
        user = person_or_404(context, request, scope, query(request, 'login') or '')
        saved = _('The changes were saved.') if query(request, 'saved') else None
        return person_page(context, request, scope, user, message=saved)

    @view_config(name='person', request_method='POST')
    def person_edit(self):
        """Link a login to a site (or to none), grant or take the registry's roles, and give a coordinator
        an area; the user's other roles stay as they are."""
        context, request = self.context, self.request
        scope = scope_of(context, request)
        user = person_or_404(context, request, scope, post(request, 'login'))
        if user.login == request.authenticated_userid:
            raise HTTPForbidden(_('Nobody changes their own roles: ask another coordinator.'))
        site, roles, area, cstruct, errors = read_person(context, request, scope)
        if errors:
            page = person_page(context, request, scope, user, errors=errors)
            page['values'] = cstruct
            return render(request, 'person.pt', page)
        kept = [
            role for role in user.roles if role not in REGISTRY_ROLES or role not in grantable_roles(scope)
        ]
        new_roles = tuple(sorted({*kept, *roles}))
        if new_roles != tuple(sorted(user.roles)):
            user.roles = new_roles
        context.set_member(user.login, site)
        if area is None:
            context.clear_area(user.login)
        else:
            context.set_area(user.login, *area)
        audit.record(
            request,
            'registry.person.edit',
            f'/users/{user.login}',
            detail={'site': site.id if site else '', 'roles': roles, 'area': ':'.join(area) if area else ''},
        )
        return HTTPSeeOther(request.resource_url(context, 'person', query={'login': user.login, 'saved': 1}))
