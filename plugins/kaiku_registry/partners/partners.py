"""The partners' pages: the area's partners with filters and counts, a partner's page, adding and
editing one."""

import datetime

import colander
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config, view_defaults

from kaiku_registry import today
from kaiku_registry.i18n import _
from kaiku_registry.models import TRAINING_STATUSES, CardRegistry
from kaiku_registry.pages import post, query
from kaiku_registry.partners.common import (
    MANAGE,
    TEMPLATES,
    count_by,
    errors_of,
    labels_of,
    out_of_area,
    page_values,
    paginate,
    partner_in_scope,
    record_id,
    render,
    scope_of,
    sort_rows,
)
from kaiku_registry.schemas import PARTNER_KIND_TITLES, PartnerSchema
from portal import audit

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
PARTNER_SORTS = {
    'name': lambda row: row['partner'].name.lower(),
    'municipality': lambda row: (row['partner'].municipality.lower(), row['partner'].name.lower()),
    'training': lambda row: (TRAINING_STATUSES.index(row['training']), row['due'] or datetime.date.min),
}


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


@view_defaults(context=CardRegistry, permission=MANAGE)
class PartnerPages:
    """The views of this room: each checks the requester's area before it reads or writes."""

    def __init__(self, context, request):
        self.context = context
        self.request = request

    @view_config(name='partners', request_method='GET', renderer=TEMPLATES + 'partners.pt')
    def partners(self):
        """The partners of the area, filtered by municipality, kind and training, with counts."""
        context, request = self.context, self.request
        scope = scope_of(context, request)
        day = today()
        site_counts = context.site_counts()
        rows = [
            {
                'partner': partner,
                'training': partner.training_status(day),
                'due': partner.training_due(),
                'sites': site_counts.get(partner.id, 0),
            }
            for partner in scope.partners(context)
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

    @view_config(name='partner-add', request_method='GET', renderer=TEMPLATES + 'partner.pt')
    def partner_add_form(self):
        context, request = self.context, self.request
        scope = scope_of(context, request)
        page = partner_page(context, request, scope, None)
        if not scope.national and scope.area[0] == 'municipality':
            page['values']['municipality'] = scope.area[1]
        return page

    @view_config(name='partner-add', request_method='POST')
    def partner_add(self):
        context, request = self.context, self.request
        scope = scope_of(context, request)
        values, cstruct, errors = read_partner(request, scope)
        if errors:
            return render(
                request,
                'partner.pt',
                partner_page(context, request, scope, None, values=cstruct, errors=errors),
            )
        partner = context.add_partner(values['name'], values['kind'], values['municipality'])
        context.update_partner(partner, **values)
        audit.record(
            request, 'registry.partner.add', detail={'partner': partner.id, 'fields': sorted(values)}
        )
        return HTTPSeeOther(request.resource_url(context, 'partner', query={'id': partner.id, 'saved': 1}))

    @view_config(name='partner', request_method='GET', renderer=TEMPLATES + 'partner.pt')
    def partner_view(self):
        context, request = self.context, self.request
        scope = scope_of(context, request)
        partner = partner_in_scope(context, scope, record_id(request))
        saved = _('The changes were saved.') if query(request, 'saved') else None
        return partner_page(context, request, scope, partner, message=saved)

    @view_config(name='partner', request_method='POST')
    def partner_edit(self):
        context, request = self.context, self.request
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
