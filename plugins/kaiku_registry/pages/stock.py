"""The card stock's pages: coordinators and national administrators make batches of codes for printing,
print their sheets or hand the print house a spreadsheet, allocate batches to issuing sites and follow
each code's state; issuer staff see their site's batches and mark a code spoiled or lost.

A coordinator sees the batches of their area (see :meth:`~kaiku_registry.stock.CardStock.batches_in`)
and allocates them to issuing sites in it; any other batch is answered as if it did not exist."""

import colander
from pyramid.httpexceptions import HTTPBadRequest, HTTPSeeOther
from pyramid.response import Response
from pyramid.view import view_config

from kaiku_registry import codes, today
from kaiku_registry.i18n import _
from kaiku_registry.models import CardRegistry, RuleError
from kaiku_registry.pages import TEMPLATES, errors_of, my_site, post, query
from kaiku_registry.partners.common import not_found, page_values, record_id, render, scope_of
from kaiku_registry.schemas import BatchSchema, StockMarkSchema
from kaiku_registry.stock import MAX_BATCH, STOCK_STATES
from portal import audit, spreadsheet

MANAGE = 'registry.manage'
STATE_TITLES = (
    ('unused', _('Unused')),
    ('issued', _('Issued')),
    ('spoiled', _('Spoiled')),
    ('lost', _('Lost')),
)
assert [state for state, _title in STATE_TITLES] == list(STOCK_STATES)
MARK_TITLES = STATE_TITLES[2:]
#: Why a batch cannot be allocated or a code marked, by the field it concerns, in the reader's words.
STOCK_ERRORS = {
    'not_issuer': ('site_id', _('A batch goes to an active issuing site.')),
    'other_area': ('site_id', _('The site lies outside the area of the batch.')),
    'batch_in_use': ('site_id', _('Cards have been issued from this batch already: it stays at its site.')),
    'not_in_stock': ('code', _('This code is not in the card stock of your site.')),
    'code_issued': ('code', _('A card has been issued with this code: close the card instead.')),
}


def stock_error(error):
    field, message = STOCK_ERRORS.get(error.code, ('form', error.message))
    return {field: message}


def area_of_scope(scope):
    return None if scope.national else scope.area


def batch_in_scope(context, request, scope):
    batch_id = record_id(request)
    batch = context.stock_batch(batch_id) if batch_id is not None else None
    if batch is None or batch not in context.batches_in(area_of_scope(scope)):
        raise not_found()
    return batch


def stock_values(context, request, scope, **values):
    batches = context.batches_in(area_of_scope(scope))
    return page_values(
        context,
        request,
        scope,
        batches=[(batch, context.site(batch.site_id), context.stock_counts(batch)) for batch in batches],
        state_titles=STATE_TITLES,
        max_batch=MAX_BATCH,
        **{'values': {}, **values},
    )


@view_config(context=CardRegistry, name='stock', request_method='GET', permission=MANAGE)
def stock(context, request):
    scope = scope_of(context, request)
    return render(request, 'stock.pt', stock_values(context, request, scope))


@view_config(context=CardRegistry, name='stock', request_method='POST', permission=MANAGE)
def new_batch(context, request):
    scope = scope_of(context, request)
    cstruct = {'size': post(request, 'size')}
    try:
        size = BatchSchema().deserialize(cstruct)['size']
    except colander.Invalid as e:
        return render(
            request,
            'stock.pt',
            stock_values(context, request, scope, errors=errors_of(request, e), values=cstruct),
        )
    batch = context.new_batch(size, today(), area_of_scope(scope))
    audit.record(request, 'registry.stock.batch', detail={'batch': batch.id, 'size': batch.size})
    return HTTPSeeOther(request.resource_url(context, 'stock-batch', query={'id': batch.id}))


def batch_values(context, request, scope, batch, **values):
    sites = [site for site in scope.sites(context) if site.kind == 'issuer' and site.active]
    return page_values(
        context,
        request,
        scope,
        batch=batch,
        site=context.site(batch.site_id),
        sites=sorted(sites, key=lambda site: (site.name, site.id)),
        rows=[(codes.grouped(code), state) for code, state in context.stock_rows(batch)],
        counts=context.stock_counts(batch),
        state_titles=STATE_TITLES,
        mark_titles=MARK_TITLES,
        **{'values': {}, **values},
    )


@view_config(context=CardRegistry, name='stock-batch', request_method='GET', permission=MANAGE)
def stock_batch(context, request):
    scope = scope_of(context, request)
    batch = batch_in_scope(context, request, scope)
    return render(request, 'stock_batch.pt', batch_values(context, request, scope, batch))


@view_config(context=CardRegistry, name='stock-allocate', request_method='POST', permission=MANAGE)
def allocate(context, request):
    scope = scope_of(context, request)
    batch = batch_in_scope(context, request, scope)
    site_id = record_id(request, 'site_id')
    site = context.site(site_id) if site_id is not None else None
    try:
        if site is None or not scope.covers(site.municipality):
            raise RuleError('other_area', 'The site lies outside the area.')
        context.allocate_batch(batch, site, today(), area_of_scope(scope))
    except RuleError as e:
        return render(
            request, 'stock_batch.pt', batch_values(context, request, scope, batch, errors=stock_error(e))
        )
    audit.record(request, 'registry.stock.allocate', detail={'batch': batch.id, 'site': site.id})
    message = _('The batch was allocated to ${site}.', mapping={'site': site.name})
    return render(request, 'stock_batch.pt', batch_values(context, request, scope, batch, message=message))


def mark(context, request, site=None):
    """Mark a code of the form spoiled or lost: ``(errors, values, message)``."""
    cstruct = {name: post(request, name) for name in ('code', 'mark')}
    try:
        values = StockMarkSchema().deserialize(cstruct)
        batch = context.mark_stock_code(values['code'], values['mark'], site)
    except colander.Invalid as e:
        return errors_of(request, e), cstruct, None
    except RuleError as e:
        return stock_error(e), cstruct, None
    audit.record(request, 'registry.stock.mark', detail={'batch': batch.id, 'mark': values['mark']})
    return {}, {}, _('The code was marked.')


@view_config(context=CardRegistry, name='stock-mark', request_method='POST', permission=MANAGE)
def stock_mark(context, request):
    scope = scope_of(context, request)
    batch = batch_in_scope(context, request, scope)
    if codes.parse(post(request, 'code')) not in batch.codes:
        errors, values, message = (
            {'code': _('This code is not in this batch.')},
            {'code': post(request, 'code')},
            None,
        )
    else:
        errors, values, message = mark(context, request)
    page = batch_values(context, request, scope, batch, errors=errors, values=values, message=message)
    return render(request, 'stock_batch.pt', page)


@view_config(
    context=CardRegistry,
    name='stock-sheet',
    request_method='GET',
    renderer=TEMPLATES + 'stock_sheet.pt',
    permission=MANAGE,
)
def stock_sheet(context, request):
    """The batch's cards for printing: each code grouped, as a QR code and a Code 39 barcode.

    The QR code carries the code alone: what a card is valid until and how many child tickets it gives
    are known only when it is issued, and a signed QR made before that would pass the door's offline
    check for a card not yet issued.  The issuing site prints the signed QR on a label when it issues
    the card."""
    scope = scope_of(context, request)
    batch = batch_in_scope(context, request, scope)
    title = request.localizer.translate(_('QR code of the card'))
    return {
        'batch': batch,
        'cards': [
            (codes.grouped(code), codes.qr_svg(code, title), codes.code39_svg(code))
            for code, state in context.stock_rows(batch)
            if state == 'unused'
        ],
    }


@view_config(context=CardRegistry, name='stock.csv', request_method='GET', permission=MANAGE)
def stock_csv(context, request):
    """The batch's codes for a print house, in the reader's spreadsheet dialect (``?dialect=plain``:
    commas for programs)."""
    scope = scope_of(context, request)
    batch = batch_in_scope(context, request, scope)
    dialect = spreadsheet.dialect_for(query(request, 'dialect'), request.locale_name)
    if dialect is None:
        raise HTTPBadRequest(_('Unknown CSV dialect: choose spreadsheet or plain.'))
    t = request.localizer.translate
    titles = dict(STATE_TITLES)
    writer = spreadsheet.Writer(dialect)
    writer.writerow([t(_('Number')), t(_('Card code')), t(_('Printed code')), t(_('State'))])
    for number, (code, state) in enumerate(context.stock_rows(batch), 1):
        writer.writerow([number, code, codes.grouped(code), t(titles[state])])
    response = Response(writer.encode(), content_type='text/csv', charset='utf-8')
    response.content_disposition = f'attachment; filename="card-stock-{batch.id}.csv"'
    return response


# The issuing site's own stock ----------------------------------------------------------------------
def site_stock_values(context, site, **values):
    return {
        'site': site,
        'batches': [(batch, context.stock_counts(batch)) for batch in context.batches_of_site(site)],
        'state_titles': STATE_TITLES,
        'mark_titles': MARK_TITLES,
        'errors': {},
        'values': {},
        'message': None,
        **values,
    }


@view_config(
    context=CardRegistry,
    name='site-stock',
    request_method='GET',
    renderer=TEMPLATES + 'site_stock.pt',
    permission='registry.issue',
)
def site_stock(context, request):
    return site_stock_values(context, my_site(context, request, 'issuer'))


@view_config(
    context=CardRegistry,
    name='site-stock',
    request_method='POST',
    renderer=TEMPLATES + 'site_stock.pt',
    permission='registry.issue',
)
def site_stock_mark(context, request):
    site = my_site(context, request, 'issuer')
    errors, values, message = mark(context, request, site)
    if errors:
        request.response.status_int = 400
    return site_stock_values(context, site, errors=errors, values=values, message=message)
