"""What the coordinators' pages share: the requester's area (:class:`Scope`), finding a record in it,
rendering a page with its errors, filters, counts and pages of rows."""

from dataclasses import dataclass

from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound
from pyramid.renderers import get_renderer, render_to_response
from pyramid.traversal import find_root

from kaiku_registry.i18n import _
from kaiku_registry.models import in_area
from kaiku_registry.pages import errors_of, post, query  # noqa: F401 - errors_of for the partner pages
from kaiku_registry.schemas import PARTNER_KIND_TITLES, SITE_KIND_TITLES, TRAINING_TITLES
from portal import places
from portal.security import MANAGE_USERS

TEMPLATES = 'kaiku_registry:templates/'
MANAGE = 'registry.manage'
#: Rows on one page of a list.
PAGE_SIZE = 50


@dataclass(frozen=True)
class Scope:
    """What the requester may manage: everything (``national``) or one area ``(kind, name)``."""

    national: bool
    area: tuple | None

    def covers(self, municipality):
        """True when the place ``municipality`` lies in the area.  A stored region is not trusted:
        the table says which region a municipality lies in, and an unknown place lies in no area."""
        return self.national or in_area(self.area, municipality)

    def partners(self, registry):
        """The partners of ``registry`` the scope covers."""
        return list(registry.all_partners()) if self.national else registry.partners_in(self.area)

    def sites(self, registry):
        """The sites of ``registry`` the scope covers."""
        return list(registry.all_sites()) if self.national else registry.sites_in(self.area)


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
    partner = context.partner(partner_id) if partner_id is not None else None
    if partner is None or not scope.covers(partner.municipality):
        raise not_found()
    return partner


def site_in_scope(context, scope, site_id):
    site = context.site(site_id) if site_id is not None else None
    if site is None or not scope.covers(site.municipality):
        raise not_found()
    return site


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


def labels_of(schema, **extra):
    """Field titles and descriptions of ``schema`` by field name (``<name>_help`` for a description)."""
    labels = dict(extra)
    for node in schema.children:
        labels[node.name] = node.title
        if node.description:
            labels[f'{node.name}_help'] = node.description
    return labels
