"""The catalogue's open data: ``search.json`` and ``search.csv`` of the venues folder.

Both read the catalogue's own parameters (:func:`portal.views.catalogue.catalogue_params`) and run its
query, so the HTML page, the JSON and the CSV always carry the same venues.  The JSON names each facet
by the query parameter that filters by it (``category``, ``access``, ``region``, ``municipality``), so a
client follows a facet value by adding ``name=value`` to the query.
"""

import csv
import io
import json

from pyramid.response import Response
from pyramid.view import view_config

from portal.resources.folder import Folder
from portal.views.catalogue import FACETS, catalogue_params, facets_of, run_catalogue
from portal.views.search import PAGE_SIZE, item_url

CSV_FORMULA_STARTS = ('=', '+', '-', '@', '\t', '\r')
#: Public venue fields in the open data, in column order.
TEXT_COLUMNS = ('title', 'description', 'card_benefit', 'how_to_get_ticket', 'course_limits', 'opening_hours')
VALUE_COLUMNS = (
    'categories',
    'municipality',
    'region',
    'wellbeing_county',
    'street_address',
    'postcode',
    'latitude',
    'longitude',
    'website',
    'phone',
    'email',
    'accessibility',
    'child_tickets',
    'languages',
    'sample',
)


def venue_record(request, catalog, docid):
    """A venue's public fields in the request's language, with its URL."""
    venue = catalog.item_for(docid)
    lang = request.locale_name
    record = {'url': item_url(request, catalog, docid), 'name': venue.__name__}
    for name in TEXT_COLUMNS:
        record[name] = str(venue.text(name, lang))
    for name in VALUE_COLUMNS:
        value = getattr(venue, name, None)
        record[name] = list(value) if isinstance(value, tuple) else value
    record['modified'] = venue.modified.isoformat() if venue.modified else None
    return record


def open_data(context, request):
    params = catalogue_params(request)
    result, pages = run_catalogue(context, request, params)
    catalog = request.root.catalog
    return params, result, pages, [venue_record(request, catalog, docid) for docid in result.docids]


@view_config(context=Folder, name='search.json', permission='view', request_method='GET', is_venues=True)
def catalogue_json(context, request):
    params, result, pages, records = open_data(context, request)
    facets = facets_of(request, result)
    body = {
        'total': result.total,
        'page': params.page,
        'pages': pages,
        'page_size': PAGE_SIZE,
        'items': records,
        'facets': {
            param: [{'value': v, 'count': c} for v, c in facets[index]]
            for index, param, _vocabulary in FACETS
            if index in facets
        },
    }
    text = json.dumps(body, ensure_ascii=False)
    response = Response(text, content_type='application/json', charset='utf-8')
    response.headers['Access-Control-Allow-Origin'] = '*'
    return response


def neutralise(value):
    """A CSV cell that a spreadsheet program will not run as a formula."""
    if value is None:
        return ''
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, list):
        value = '; '.join(str(v) for v in value)
    value = str(value)
    return "'" + value if value.startswith(CSV_FORMULA_STARTS) else value


@view_config(context=Folder, name='search.csv', permission='view', request_method='GET', is_venues=True)
def catalogue_csv(context, request):
    records = open_data(context, request)[3]
    columns = ['url', 'name', *TEXT_COLUMNS, *VALUE_COLUMNS, 'modified']
    out = io.StringIO()
    out.write('\ufeff')
    writer = csv.writer(out)
    writer.writerow(columns)
    for record in records:
        writer.writerow([neutralise(record[name]) for name in columns])
    response = Response(out.getvalue(), content_type='text/csv', charset='utf-8')
    response.headers['Content-Disposition'] = 'attachment; filename="venues.csv"'
    response.headers['Access-Control-Allow-Origin'] = '*'
    return response
