"""The sites' pages: the area's sites with filters and counts, a site's page, adding and editing one,
and its API tokens (shown once, in the answer to the POST that made them)."""

import colander
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config, view_defaults

from kaiku_registry.i18n import _
from kaiku_registry.models import CardRegistry
from kaiku_registry.pages import post, query
from kaiku_registry.partners.common import (
    MANAGE,
    TEMPLATES,
    count_by,
    errors_of,
    labels_of,
    not_found,
    out_of_area,
    page_values,
    paginate,
    partner_in_scope,
    record_id,
    render,
    scope_of,
    site_in_scope,
    sort_rows,
)
from kaiku_registry.schemas import (
    SECTOR_TITLES,
    SITE_KIND_TITLES,
    SiteEventSchema,
    SiteSchema,
    settled_site,
    venue_finder,
)
from portal import audit

SITE_FIELDS = ('name', 'kind', 'municipality', 'venue_path', 'active', 'sector')
SITE_SORTS = {
    'name': lambda row: row['site'].name.lower(),
    'municipality': lambda row: (row['site'].municipality.lower(), row['site'].name.lower()),
    'kind': lambda row: (row['site'].kind, row['site'].name.lower()),
}


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
    find_venue = venue_finder(context)
    try:
        values = SiteSchema().bind(find_venue=find_venue).deserialize(cstruct)
    except colander.Invalid as e:
        return None, cstruct, errors_of(request, e)
    errors = {}
    out_of_area(errors, scope, values['municipality'])
    if errors:
        return None, cstruct, {k: request.localizer.translate(v) for k, v in errors.items()}
    return settled_site(values, find_venue), cstruct, {}


def change_site_events(context, request, site):
    """Add the event typed in the form to the venue site's list (through the identifier guard), or take
    off the one named by ``remove``; ``(message, errors, text typed)``, each in the reader's language."""
    translate = request.localizer.translate
    removed = post(request, 'remove')
    if removed:
        context.remove_site_event(site, removed)
        return translate(_('The event was taken off the list.')), {}, ''
    text = post(request, 'name')
    try:
        name = SiteEventSchema().deserialize({'name': text})['name']
    except colander.Invalid as e:
        return None, {'event': errors_of(request, e)['name']}, text
    if not context.add_site_event(site, name):
        return None, {'event': translate(_('The list has this event already, or it is full.'))}, text
    return translate(_('The event was added to the list.')), {}, ''


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
        sectors=SECTOR_TITLES,
        new_token=None,
    )
    page.update(extra)
    return page


@view_defaults(context=CardRegistry, permission=MANAGE)
class SitePages:
    """The views of this room: each checks the requester's area before it reads or writes."""

    def __init__(self, context, request):
        self.context = context
        self.request = request

    @view_config(name='sites', request_method='GET', renderer=TEMPLATES + 'sites.pt')
    def sites(self):
        """The sites of the area, filtered by municipality, kind and activity, with counts."""
        context, request = self.context, self.request
        scope = scope_of(context, request)
        members = context.member_counts()
        rows = [
            {
                'site': site,
                'partner': context.partner(site.partner_id),
                'people': members.get(site.id, 0),
            }
            for site in scope.sites(context)
        ]
        municipalities = sorted({row['site'].municipality for row in rows})
        wanted = {name: query(request, name) or '' for name in ('municipality', 'kind', 'active', 'sort')}
        if wanted['municipality'] not in municipalities:
            wanted['municipality'] = ''
        if wanted['kind'] not in dict(SITE_KIND_TITLES):
            wanted['kind'] = ''
        if wanted['active'] not in ('yes', 'no'):
            wanted['active'] = ''
        counts = {
            kind: sum(1 for row in rows if row['site'].kind == kind) for kind, _title in SITE_KIND_TITLES
        }
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
            **paginate(
                context, request, 'sites', sort_rows(shown, wanted['sort'], SITE_SORTS, 'name'), wanted
            ),
            matching=len(shown),
            total=len(rows),
            counts=counts,
            municipalities=municipalities,
            wanted=wanted,
        )

    @view_config(name='site-add', request_method='GET', renderer=TEMPLATES + 'site.pt')
    def site_add_form(self):
        context, request = self.context, self.request
        scope = scope_of(context, request)
        partner = partner_in_scope(context, scope, record_id(request, 'partner'))
        return site_page(context, request, scope, None, partner)

    @view_config(name='site-add', request_method='POST')
    def site_add(self):
        context, request = self.context, self.request
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

    @view_config(name='site', request_method='GET', renderer=TEMPLATES + 'site.pt')
    def site_view(self):
        context, request = self.context, self.request
        scope = scope_of(context, request)
        site = site_in_scope(context, scope, record_id(request))
        saved = _('The changes were saved.') if query(request, 'saved') else None
        return site_page(context, request, scope, site, context.partner(site.partner_id), message=saved)

    @view_config(name='site', request_method='POST')
    def site_edit(self):
        context, request = self.context, self.request
        scope = scope_of(context, request)
        site = site_in_scope(context, scope, record_id(request))
        partner = context.partner(site.partner_id)
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

    @view_config(name='site-events', request_method='POST')
    def site_events(self):
        """Add an event to a venue site's list, or take one off."""
        context, request = self.context, self.request
        scope = scope_of(context, request)
        site = site_in_scope(context, scope, record_id(request))
        if site.kind != 'venue':
            raise not_found()
        message, errors, text = change_site_events(context, request, site)
        if not errors:
            audit.record(request, 'registry.site.edit', detail={'site': site.id, 'fields': ['events']})
        page = site_page(
            context, request, scope, site, context.partner(site.partner_id), message=message, errors=errors
        )
        page['event_text'] = text
        return render(request, 'site.pt', page)

    @view_config(name='site-tokens', request_method='POST')
    def site_tokens(self):
        """Make a new API token for the site (shown once, in this answer) or revoke all of its tokens."""
        context, request = self.context, self.request
        scope = scope_of(context, request)
        site = site_in_scope(context, scope, record_id(request))
        partner = context.partner(site.partner_id)
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
            return render(
                request, 'site.pt', site_page(context, request, scope, site, partner, message=message)
            )
        page = site_page(context, request, scope, site, partner, errors={'tokens': _('Unknown action.')})
        return render(request, 'site.pt', page)
