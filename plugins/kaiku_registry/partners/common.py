"""The coordinators' pages: partners, their sites, the people who act for them, and the sites' API tokens.

A coordinator answers for one area, a municipality or a region (``Registry.area_of``), and sees and changes
only the partners and sites in it: a record of another area is answered as not found, the same answer as
for an id that does not exist, so nothing of it leaks.  A national administrator sees every area and alone
may make another national administrator.

Places come from the portal's municipality table (:mod:`portal.places`): the forms offer its municipalities,
and a record's region is derived from its municipality, never typed, so nobody can file a Tampere partner
under Keski-Suomi.  A change is checked against the requester's area on every record it touches, both as
it is and as it will be: the partner, the site, the person, the site the person acts for and the area
they coordinate.  Nobody changes their own roles, and nobody grants or removes a role over a place outside
their area.

Every change is a POST carrying the CSRF token (Pyramid checks it before the view runs), is validated whole
by a colander schema before anything is written, and is written to the audit log.  Users themselves (login
names, passwords) are made on the portal's own users page; here a coordinator links an existing login to
a site and grants the registry's roles.  An API token is shown once, in the answer to the POST that made it;
the registry keeps only its digest.
"""

import datetime
from dataclasses import dataclass

import colander
from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound, HTTPSeeOther
from pyramid.renderers import get_renderer, render_to_response
from pyramid.traversal import find_root
from pyramid.view import view_config

from kaiku_registry import HELSINKI, today
from kaiku_registry.i18n import _
from kaiku_registry.models import AREA_KINDS, TRAINING_STATUSES, Registry, area_place, in_area
from kaiku_registry.schemas import (
    PARTNER_KIND_TITLES,
    SITE_KIND_TITLES,
    TRAINING_TITLES,
    PartnerSchema,
    SiteSchema,
    settled_site,
    venue_finder,
)
from kaiku_registry.views import ROLE_TITLES, post, query
from portal import audit, places
from portal.security import LOGIN_RE, MANAGE_USERS, get_principals, normalize_login

TEMPLATES = 'kaiku_registry:templates/'
MANAGE = 'registry.manage'
PARTNER_FIELDS = (
    'name',
    'kind',
    'municipality',
    'contact_title',
    'contact_email',
    'contact_phone',
    'commitment_signed',
    'trained',
)
SITE_FIELDS = ('name', 'kind', 'municipality', 'venue_path', 'active')
REGISTRY_ROLES = ('VenueStaff', 'IssuerStaff', 'Coordinator', 'NationalAdmin')
#: Roles a coordinator may never change: whoever holds them is beyond a coordinator's reach.
HIGHER_ROLES = ('NationalAdmin', 'Administrator')
#: Rows on one page of a list.
PAGE_SIZE = 50
AREA_KIND_TITLES = (('municipality', _('Municipality')), ('region', _('Region')))


@dataclass(frozen=True)
class Scope:
    """What the requester may manage: everything (``national``) or one area ``(kind, name)``."""

    national: bool
    area: tuple | None

    def covers(self, municipality):
        """True when the place ``municipality`` lies in the area.  A stored region is not trusted:
        the table says which region a municipality lies in, and an unknown place lies in no area."""
        return self.national or in_area(self.area, municipality)


def scope_of(context, request):
    national = bool(request.has_permission('registry.all_areas', context))
    area = context.area_of(request.authenticated_userid)
    if not national and area is None:
        raise HTTPForbidden(_('Your account has no area yet. Ask the national administrator.'))
    return Scope(national, area)


def not_found():
    return HTTPNotFound(_('No such record in your area.'))


def record_id(request, name='id'):
    """The integer id in the query (GET) or the form (POST), or None."""
    value = post(request, name) if request.method == 'POST' else query(request, name)
    try:
        return int(value or '')
    except ValueError:
        return None


def partner_in_scope(context, scope, partner_id):
    partner = context.partners.get(partner_id) if partner_id is not None else None
    if partner is None or not scope.covers(partner.municipality):
        raise not_found()
    return partner


def site_in_scope(context, scope, site_id):
    site = context.sites.get(site_id) if site_id is not None else None
    if site is None or not scope.covers(site.municipality):
        raise not_found()
    return site


def errors_of(request, invalid):
    return invalid.asdict(translate=request.localizer.translate)


def render(request, template, values):
    response = render_to_response(TEMPLATES + template, values, request=request)
    if values.get('errors'):
        response.status_int = 400
    return response


def choice_title(choices, value):
    return dict(choices).get(value, value)


def page_values(context, request, scope, **values):
    """What every page of this module shows: the area line and the navigation between the pages."""
    return {
        'scope': scope,
        'errors': {},
        'message': None,
        'partner_kinds': PARTNER_KIND_TITLES,
        'site_kinds': SITE_KIND_TITLES,
        'training_titles': TRAINING_TITLES,
        'choice_title': choice_title,
        'can_add_users': bool(request.has_permission(MANAGE_USERS, find_root(context))),
        'place': place_title(request),
        'municipality_choices': municipality_choices(request, scope),
        'pm': get_renderer(TEMPLATES + 'partners_macros.pt').implementation(),
        **values,
    }


def out_of_area(errors, scope, municipality):
    if not scope.covers(municipality):
        errors['municipality'] = _('This place is outside your area.')


def municipality_choices(request, scope):
    """``(Finnish name, title in the reader's language)`` of the municipalities the requester may choose."""
    language = request.localizer.locale_name
    return [
        (place.name_fi, title)
        for code, title in places.municipality_choices(language)
        if scope.covers((place := places.municipality(code)).name_fi)
    ]


def place_title(request):
    """A function that shows a stored municipality or region in the reader's language."""
    language = request.localizer.locale_name

    def title(name):
        found = places.municipality_named(name) or places.region_named(name) or places.county_named(name)
        return found.title(language) if found else name

    return title


def count_by(rows, value_of, prefix):
    """``{'<prefix>:<value>': rows with that value}``, for the counts beside a filter's choices."""
    found = {}
    for row in rows:
        key = f'{prefix}:{value_of(row)}'
        found[key] = found.get(key, 0) + 1
    return found


def paginate(context, request, view_name, rows, wanted):
    """One page of ``rows`` (``?page=``, :data:`PAGE_SIZE` a page) and the links to the others, which
    keep the filters in ``wanted``: ``{'rows', 'first', 'last', 'page_links'}``."""
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    try:
        page = min(max(int(query(request, 'page') or 1), 1), pages)
    except ValueError:
        page = 1
    keep = {name: value for name, value in wanted.items() if value}
    links = []
    for number in range(1, pages + 1):
        if number in (1, pages) or abs(number - page) <= 2:
            url = request.resource_url(context, view_name, query={**keep, 'page': number})
            links.append((number, url, number == page))
        elif links and links[-1] is not None:
            links.append(None)
    start = (page - 1) * PAGE_SIZE
    return {
        'rows': rows[start : start + PAGE_SIZE],
        'first': start + 1 if rows else 0,
        'last': min(start + PAGE_SIZE, len(rows)),
        'page_links': links if pages > 1 else [],
    }


def sort_rows(rows, key, keys, default):
    return sorted(rows, key=keys.get(key, keys[default]))


# Partners --------------------------------------------------------------------------------------------
PARTNER_SORTS = {
    'name': lambda row: row['partner'].name.lower(),
    'municipality': lambda row: (row['partner'].municipality.lower(), row['partner'].name.lower()),
    'training': lambda row: (TRAINING_STATUSES.index(row['training']), row['due'] or datetime.date.min),
}


@view_config(
    context=Registry,
    name='partners',
    request_method='GET',
    renderer=TEMPLATES + 'partners.pt',
    permission=MANAGE,
)
def partners(context, request):
    """The partners of the area, filtered by municipality, kind and training, with counts."""
    scope = scope_of(context, request)
    day = today()
    site_counts = {}
    for site in context.sites.values():
        site_counts[site.partner_id] = site_counts.get(site.partner_id, 0) + 1
    rows = [
        {
            'partner': partner,
            'training': partner.training_status(day),
            'due': partner.training_due(),
            'sites': site_counts.get(partner.id, 0),
        }
        for partner in context.partners.values()
        if scope.covers(partner.municipality)
    ]
    municipalities = sorted({row['partner'].municipality for row in rows})
    wanted = {name: query(request, name) or '' for name in ('municipality', 'kind', 'training', 'sort')}
    if wanted['municipality'] not in municipalities:
        wanted['municipality'] = ''
    if wanted['kind'] not in dict(PARTNER_KIND_TITLES):
        wanted['kind'] = ''
    if wanted['training'] not in TRAINING_STATUSES and wanted['training'] != 'due':
        wanted['training'] = ''
    counts = {status: sum(1 for row in rows if row['training'] == status) for status in TRAINING_STATUSES}
    counts.update(count_by(rows, lambda row: row['partner'].municipality, 'municipality'))
    counts.update(count_by(rows, lambda row: row['partner'].kind, 'kind'))
    counts['due'] = len(rows) - counts['ok']
    shown = [
        row
        for row in rows
        if (not wanted['municipality'] or row['partner'].municipality == wanted['municipality'])
        and (not wanted['kind'] or row['partner'].kind == wanted['kind'])
        and (
            not wanted['training']
            or row['training'] == wanted['training']
            or (wanted['training'] == 'due' and row['training'] != 'ok')
        )
    ]
    return page_values(
        context,
        request,
        scope,
        **paginate(
            context, request, 'partners', sort_rows(shown, wanted['sort'], PARTNER_SORTS, 'name'), wanted
        ),
        matching=len(shown),
        total=len(rows),
        counts=counts,
        municipalities=municipalities,
        wanted=wanted,
        today=day,
    )


def partner_form_values(partner=None):
    if partner is None:
        return dict.fromkeys(PARTNER_FIELDS, '')
    values = {name: getattr(partner, name) or '' for name in PARTNER_FIELDS}
    for name in ('commitment_signed', 'trained'):
        values[name] = values[name].isoformat() if values[name] else ''
    return values


def read_partner(request, scope):
    """``(values, cstruct, errors)`` of the partner form: values only when everything is right."""
    cstruct = {name: post(request, name).strip() for name in PARTNER_FIELDS}
    try:
        values = PartnerSchema().deserialize(cstruct)
    except colander.Invalid as e:
        return None, cstruct, errors_of(request, e)
    errors = {}
    out_of_area(errors, scope, values['municipality'])
    if errors:
        return None, cstruct, {k: request.localizer.translate(v) for k, v in errors.items()}
    return values, cstruct, {}


def labels_of(schema, **extra):
    """Field titles and descriptions of ``schema`` by field name (``<name>_help`` for a description)."""
    labels = dict(extra)
    for node in schema.children:
        labels[node.name] = node.title
        if node.description:
            labels[f'{node.name}_help'] = node.description
    return labels


def partner_page(context, request, scope, partner, **extra):
    day = today()
    page = page_values(
        context,
        request,
        scope,
        partner=partner,
        values=partner_form_values(partner),
        labels=labels_of(
            PartnerSchema(),
            trained_help=_('Staff are trained every year; the training is valid for 365 days.'),
        ),
        training=partner.training_status(day) if partner else None,
        due=partner.training_due() if partner else None,
        sites=sorted(
            (s for s in context.sites_of_partner(partner) if scope.covers(s.municipality)),
            key=lambda s: s.name.lower(),
        )
        if partner
        else [],
    )
    page.update(extra)
    return page


@view_config(
    context=Registry,
    name='partner-add',
    request_method='GET',
    renderer=TEMPLATES + 'partner.pt',
    permission=MANAGE,
)
def partner_add_form(context, request):
    scope = scope_of(context, request)
    page = partner_page(context, request, scope, None)
    if not scope.national and scope.area[0] == 'municipality':
        page['values']['municipality'] = scope.area[1]
    return page


@view_config(context=Registry, name='partner-add', request_method='POST', permission=MANAGE)
def partner_add(context, request):
    scope = scope_of(context, request)
    values, cstruct, errors = read_partner(request, scope)
    if errors:
        return render(
            request, 'partner.pt', partner_page(context, request, scope, None, values=cstruct, errors=errors)
        )
    partner = context.add_partner(values['name'], values['kind'], values['municipality'])
    context.update_partner(partner, **values)
    audit.record(request, 'registry.partner.add', detail={'partner': partner.id, 'fields': sorted(values)})
    return HTTPSeeOther(request.resource_url(context, 'partner', query={'id': partner.id, 'saved': 1}))


@view_config(
    context=Registry,
    name='partner',
    request_method='GET',
    renderer=TEMPLATES + 'partner.pt',
    permission=MANAGE,
)
def partner_view(context, request):
    scope = scope_of(context, request)
    partner = partner_in_scope(context, scope, record_id(request))
    saved = _('The changes were saved.') if query(request, 'saved') else None
    return partner_page(context, request, scope, partner, message=saved)


@view_config(context=Registry, name='partner', request_method='POST', permission=MANAGE)
def partner_edit(context, request):
    scope = scope_of(context, request)
    partner = partner_in_scope(context, scope, record_id(request))
    values, cstruct, errors = read_partner(request, scope)
    if errors:
        return render(
            request,
            'partner.pt',
            partner_page(context, request, scope, partner, values=cstruct, errors=errors),
        )
    changed = sorted(name for name, value in values.items() if getattr(partner, name) != value)
    context.update_partner(partner, **values)
    if changed:
        audit.record(request, 'registry.partner.edit', detail={'partner': partner.id, 'fields': changed})
    return HTTPSeeOther(request.resource_url(context, 'partner', query={'id': partner.id, 'saved': 1}))


# Sites -----------------------------------------------------------------------------------------------
SITE_SORTS = {
    'name': lambda row: row['site'].name.lower(),
    'municipality': lambda row: (row['site'].municipality.lower(), row['site'].name.lower()),
    'kind': lambda row: (row['site'].kind, row['site'].name.lower()),
}


@view_config(
    context=Registry, name='sites', request_method='GET', renderer=TEMPLATES + 'sites.pt', permission=MANAGE
)
def sites(context, request):
    """The sites of the area, filtered by municipality, kind and activity, with counts."""
    scope = scope_of(context, request)
    members = {}
    for site_id in context.members.values():
        members[site_id] = members.get(site_id, 0) + 1
    rows = [
        {'site': site, 'partner': context.partners.get(site.partner_id), 'people': members.get(site.id, 0)}
        for site in context.sites.values()
        if scope.covers(site.municipality)
    ]
    municipalities = sorted({row['site'].municipality for row in rows})
    wanted = {name: query(request, name) or '' for name in ('municipality', 'kind', 'active', 'sort')}
    if wanted['municipality'] not in municipalities:
        wanted['municipality'] = ''
    if wanted['kind'] not in dict(SITE_KIND_TITLES):
        wanted['kind'] = ''
    if wanted['active'] not in ('yes', 'no'):
        wanted['active'] = ''
    counts = {kind: sum(1 for row in rows if row['site'].kind == kind) for kind, _title in SITE_KIND_TITLES}
    counts.update(count_by(rows, lambda row: row['site'].municipality, 'municipality'))
    counts.update(count_by(rows, lambda row: row['site'].kind, 'kind'))
    counts.update(count_by(rows, lambda row: 'yes' if row['site'].active else 'no', 'active'))
    shown = [
        row
        for row in rows
        if (not wanted['municipality'] or row['site'].municipality == wanted['municipality'])
        and (not wanted['kind'] or row['site'].kind == wanted['kind'])
        and (not wanted['active'] or row['site'].active == (wanted['active'] == 'yes'))
    ]
    return page_values(
        context,
        request,
        scope,
        **paginate(context, request, 'sites', sort_rows(shown, wanted['sort'], SITE_SORTS, 'name'), wanted),
        matching=len(shown),
        total=len(rows),
        counts=counts,
        municipalities=municipalities,
        wanted=wanted,
    )


def site_form_values(site=None, partner=None):
    if site is None:
        values = dict.fromkeys(SITE_FIELDS, '')
        values['active'] = True
        if partner is not None:
            values.update(municipality=partner.municipality)
        return values
    return {name: getattr(site, name) for name in SITE_FIELDS}


def read_site(context, request, scope):
    cstruct = {name: post(request, name).strip() for name in SITE_FIELDS}
    cstruct['active'] = 'true' if post(request, 'active') else 'false'
    try:
        values = SiteSchema().bind(find_venue=venue_finder(context)).deserialize(cstruct)
    except colander.Invalid as e:
        return None, cstruct, errors_of(request, e)
    errors = {}
    out_of_area(errors, scope, values['municipality'])
    if errors:
        return None, cstruct, {k: request.localizer.translate(v) for k, v in errors.items()}
    return settled_site(values), cstruct, {}


def site_page(context, request, scope, site, partner, **extra):
    people = context.members_of([site.id]) if site else {}
    page = page_values(
        context,
        request,
        scope,
        site=site,
        partner=partner,
        values=site_form_values(site, partner),
        labels=labels_of(SiteSchema()),
        people=sorted(people),
        tokens=context.tokens_of(site) if site else [],
        new_token=None,
        helsinki=HELSINKI,
    )
    page.update(extra)
    return page


@view_config(
    context=Registry,
    name='site-add',
    request_method='GET',
    renderer=TEMPLATES + 'site.pt',
    permission=MANAGE,
)
def site_add_form(context, request):
    scope = scope_of(context, request)
    partner = partner_in_scope(context, scope, record_id(request, 'partner'))
    return site_page(context, request, scope, None, partner)


@view_config(context=Registry, name='site-add', request_method='POST', permission=MANAGE)
def site_add(context, request):
    scope = scope_of(context, request)
    partner = partner_in_scope(context, scope, record_id(request, 'partner'))
    values, cstruct, errors = read_site(context, request, scope)
    if errors:
        return render(
            request,
            'site.pt',
            site_page(context, request, scope, None, partner, values=cstruct, errors=errors),
        )
    site = context.add_site(partner, values['name'], values['kind'], values['municipality'])
    context.update_site(site, **values)
    audit.record(request, 'registry.site.add', detail={'site': site.id, 'partner': partner.id})
    return HTTPSeeOther(request.resource_url(context, 'site', query={'id': site.id, 'saved': 1}))


@view_config(
    context=Registry, name='site', request_method='GET', renderer=TEMPLATES + 'site.pt', permission=MANAGE
)
def site_view(context, request):
    scope = scope_of(context, request)
    site = site_in_scope(context, scope, record_id(request))
    saved = _('The changes were saved.') if query(request, 'saved') else None
    return site_page(context, request, scope, site, context.partners.get(site.partner_id), message=saved)


@view_config(context=Registry, name='site', request_method='POST', permission=MANAGE)
def site_edit(context, request):
    scope = scope_of(context, request)
    site = site_in_scope(context, scope, record_id(request))
    partner = context.partners.get(site.partner_id)
    values, cstruct, errors = read_site(context, request, scope)
    if errors:
        return render(
            request,
            'site.pt',
            site_page(context, request, scope, site, partner, values=cstruct, errors=errors),
        )
    changed = sorted(name for name, value in values.items() if getattr(site, name) != value)
    context.update_site(site, **values)
    if changed:
        audit.record(request, 'registry.site.edit', detail={'site': site.id, 'fields': changed})
    return HTTPSeeOther(request.resource_url(context, 'site', query={'id': site.id, 'saved': 1}))


@view_config(context=Registry, name='site-tokens', request_method='POST', permission=MANAGE)
def site_tokens(context, request):
    """Make a new API token for the site (shown once, in this answer) or revoke all of its tokens."""
    scope = scope_of(context, request)
    site = site_in_scope(context, scope, record_id(request))
    partner = context.partners.get(site.partner_id)
    action = post(request, 'action')
    if action == 'new':
        token = context.new_token(site)
        audit.record(request, 'registry.token.new', detail={'site': site.id})
        page = site_page(context, request, scope, site, partner)
        page['new_token'] = token
        return render(request, 'site.pt', page)
    if action == 'revoke':
        count = context.revoke_tokens(site)
        audit.record(request, 'registry.token.revoke', detail={'site': site.id, 'count': count})
        message = _('${count} API keys were revoked.', mapping={'count': count})
        return render(request, 'site.pt', site_page(context, request, scope, site, partner, message=message))
    page = site_page(context, request, scope, site, partner, errors={'tokens': _('Unknown action.')})
    return render(request, 'site.pt', page)


# People ----------------------------------------------------------------------------------------------
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


@view_config(
    context=Registry, name='people', request_method='GET', renderer=TEMPLATES + 'people.pt', permission=MANAGE
)
def people(context, request):
    """Who acts for the area's sites, and who coordinates in it."""
    scope = scope_of(context, request)
    principals = get_principals(request)
    rows = []
    for login, site_id in context.members.items():
        site = context.sites.get(site_id)
        if site is not None and scope.covers(site.municipality):
            rows.append({'login': login, 'site': site, 'area': context.area_of(login)})
    listed = {row['login'] for row in rows}
    for login, area in context.areas.items():
        if login not in listed and area_in_scope(context, scope, *area):
            rows.append({'login': login, 'site': None, 'area': area})
    rows.sort(key=lambda row: row['login'])
    listed = paginate(context, request, 'people', rows, {})
    for row in listed['rows']:
        user = principals.get_user(row['login'])
        row['roles'] = [ROLE_TITLES[r] for r in REGISTRY_ROLES if user is not None and r in user.roles]
        row['exists'] = user is not None
    return page_values(context, request, scope, **listed, matching=len(rows))


def person_page(context, request, scope, user, **extra):
    site = context.site_of(user.login)
    area = context.area_of(user.login)
    sites_in_scope = sorted(
        (s for s in context.sites.values() if scope.covers(s.municipality)),
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


@view_config(
    context=Registry, name='person', request_method='GET', renderer=TEMPLATES + 'person.pt', permission=MANAGE
)
def person(context, request):
    scope = scope_of(context, request)
    user = person_or_404(context, request, scope, query(request, 'login') or '')
    saved = _('The changes were saved.') if query(request, 'saved') else None
    return person_page(context, request, scope, user, message=saved)


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
            site = context.sites.get(int(cstruct['site']))
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


@view_config(context=Registry, name='person', request_method='POST', permission=MANAGE)
def person_edit(context, request):
    """Link a login to a site (or to none), grant or take the registry's roles, and give a coordinator
    an area; the user's other roles stay as they are."""
    scope = scope_of(context, request)
    user = person_or_404(context, request, scope, post(request, 'login'))
    if user.login == request.authenticated_userid:
        raise HTTPForbidden(_('Nobody changes their own roles: ask another coordinator.'))
    site, roles, area, cstruct, errors = read_person(context, request, scope)
    if errors:
        page = person_page(context, request, scope, user, errors=errors)
        page['values'] = cstruct
        return render(request, 'person.pt', page)
    kept = [role for role in user.roles if role not in REGISTRY_ROLES or role not in grantable_roles(scope)]
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
