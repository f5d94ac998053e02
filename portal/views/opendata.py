"""The catalogue's open data: ``search.json`` and ``search.csv`` of the venues folder.

The CSV comes in the reader's spreadsheet dialect by default and as plain CSV for programs
(``?dialect=plain``), written by :mod:`portal.spreadsheet` either way, which also keeps a cell from
being run as a formula.

Both read the catalogue's own parameters (:func:`portal.views.catalogue.catalogue_params`) and run its
query, so the HTML page, the JSON and the CSV always carry the same venues.  The JSON names each facet
by the query parameter that filters by it (``category``, ``access``, ``region``, ``municipality``), so a
client follows a facet value by adding ``name=value`` to the query.
"""

import json

from pyramid.httpexceptions import HTTPBadRequest
from pyramid.response import Response
from pyramid.view import view_config

from portal import spreadsheet
from portal.i18n import LANGUAGE_TITLES, _
from portal.resources.folder import Folder
from portal.resources.venue import ACCESSIBILITY, CATEGORIES
from portal.venue_files import TEXT_COLUMNS, VALUE_COLUMNS
from portal.views.catalogue import FACETS, catalogue_params, facets_of, run_catalogue
from portal.views.search import PAGE_SIZE, item_url

#: Decimals of a coordinate in the CSV: six are about a tenth of a metre.
COORDINATE_PLACES = 6


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


#: The titles of the vocabularies whose values the spreadsheet dialect shows by their titles.
VALUE_TITLES = {'categories': CATEGORIES, 'accessibility': ACCESSIBILITY, 'languages': LANGUAGE_TITLES}
#: Columns that are no field of the venue's schema.
OTHER_TITLES = {'url': _('Link'), 'name': _('Name in the address'), 'modified': _('Modified')}


def column_titles(request, columns):
    """The columns as the reader's language names them: the venue form's own field titles."""
    schema = request.registry.content_types['Venue'].schema()
    titles = {node.name: node.title for node in schema.children}
    return [request.localizer.translate(OTHER_TITLES.get(name) or titles[name]) for name in columns]


def spreadsheet_cell(request, name, value):
    """A value as a person reads it: choices by their translated titles, truth values as Yes or No."""
    translate = request.localizer.translate
    if isinstance(value, bool):
        return translate(_('Yes') if value else _('No'))
    if isinstance(value, list):
        titles = dict(VALUE_TITLES.get(name, ()))
        return '; '.join(translate(titles[v]) if v in titles else str(v) for v in value)
    return value


def plain_cell(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, list):
        return '; '.join(str(v) for v in value)
    return value


@view_config(context=Folder, name='search.csv', permission='view', request_method='GET', is_venues=True)
def catalogue_csv(context, request):
    """The venues of a search as CSV: for people in the spreadsheet dialect of their language (in
    Finnish and Swedish semicolons and decimal commas, headers and choices in their words), for
    programs with ``?dialect=plain`` (commas, decimal points, field names, stored values)."""
    dialect = spreadsheet.dialect_for(request.GET.get('dialect'), request.locale_name)
    if dialect is None:
        raise HTTPBadRequest(_('Unknown CSV dialect: choose spreadsheet or plain.'))
    records = open_data(context, request)[3]
    columns = ['url', 'name', *TEXT_COLUMNS, *VALUE_COLUMNS, 'modified']
    for_people = dialect.name == spreadsheet.SPREADSHEET.name
    writer = spreadsheet.Writer(dialect, places=COORDINATE_PLACES)
    writer.writerow(column_titles(request, columns) if for_people else columns)
    for record in records:
        if for_people:
            writer.writerow([spreadsheet_cell(request, name, record[name]) for name in columns])
        else:
            writer.writerow([plain_cell(record[name]) for name in columns])
    response = Response(writer.encode(), content_type='text/csv', charset='utf-8')
    response.headers['Content-Disposition'] = 'attachment; filename="venues.csv"'
    response.headers['Access-Control-Allow-Origin'] = '*'
    return response
