"""The venue catalogue (``/venues``), its open data (``search.json``, ``search.csv``) and site search.

Every answer comes from the catalog (:mod:`portal.catalog`), filtered by the principals the requester
holds, so a search never shows what the requester may not view.  The three forms of the catalogue read the
same parameters through :func:`catalogue_params` and run the same query, so the HTML page, the JSON and
the CSV always carry the same venues.  Input that cannot be understood is a 400 with a reason.
"""

import csv
import functools
import io
import json
import math
import unicodedata
from dataclasses import dataclass, field
from types import SimpleNamespace
from urllib.parse import quote_plus, urlencode

from pyramid.authorization import Authenticated, Everyone
from pyramid.httpexceptions import HTTPBadRequest
from pyramid.interfaces import ISecurityPolicy
from pyramid.response import Response
from pyramid.view import view_config

from portal.catalog import MAX_QUERY_LENGTH, Query, facet_counts, search
from portal.i18n import LANGUAGES, _, plural
from portal.resources.folder import Folder
from portal.resources.site import Site
from portal.resources.venue import ACCESSIBILITY, CATEGORIES

THEME = 'kaiku_theme:templates/'
#: The folder whose default view is the venue catalogue.
VENUES_FOLDER = 'venues'
PAGE_SIZE = 20
#: The highest page number accepted.
MAX_PAGE = 10_000
#: The longest region or municipality name accepted.
MAX_PLACE_LENGTH = 100
#: How many values a facet list shows at most (the most frequent first).
MAX_FACET_VALUES = 30
SORTS = ('relevance', 'name', 'newest')
SINGLE_PARAMS = ('q', 'region', 'municipality', 'lang', 'sort', 'page')
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


def principals_of(request):
    """The principals the requester holds, as the security policy sees them."""
    policy = request.registry.queryUtility(ISecurityPolicy)
    if policy is not None and hasattr(policy, 'effective_principals'):
        return list(policy.effective_principals(request))
    userid = request.authenticated_userid
    return [Everyone, Authenticated, userid] if userid else [Everyone]


def bad_request(message):
    return HTTPBadRequest(message)


def _single(request, name, default=''):
    values = request.GET.getall(name)
    if len(values) > 1:
        raise bad_request(_('Give the parameter “${name}” only once.', mapping={'name': name}))
    return values[0] if values else default


def clean_text(value):
    """``value`` in NFC with control characters removed and spaces collapsed."""
    value = unicodedata.normalize('NFC', value)
    value = ''.join(' ' if unicodedata.category(c)[0] in 'CZ' else c for c in value)
    return ' '.join(value.split())


def search_text(request):
    q = clean_text(_single(request, 'q'))
    if len(q) > MAX_QUERY_LENGTH:
        raise bad_request(
            _(
                'The search text is too long: use at most ${max} characters.',
                mapping={'max': MAX_QUERY_LENGTH},
            )
        )
    return q


def page_param(request):
    value = _single(request, 'page', '1').strip()
    if not value.isascii() or not value.isdigit() or not 0 < int(value) <= MAX_PAGE:
        raise bad_request(
            _('The page number must be a whole number from 1 to ${max}.', mapping={'max': MAX_PAGE})
        )
    return int(value)


def _choices(request, name, vocabulary, message):
    known = dict(vocabulary)
    values = []
    for value in request.GET.getall(name):
        if value not in known:
            raise bad_request(_(message, mapping={'value': clean_text(value)[:50]}))
        if value not in values:
            values.append(value)
    return values


def _place(request, name):
    value = clean_text(_single(request, name))
    if len(value) > MAX_PLACE_LENGTH:
        raise bad_request(_('A place name is at most ${max} characters.', mapping={'max': MAX_PLACE_LENGTH}))
    return value


@dataclass
class CatalogueParams:
    q: str = ''
    region: str = ''
    municipality: str = ''
    categories: list = field(default_factory=list)
    access: list = field(default_factory=list)
    lang: str = ''
    sort: str = ''
    page: int = 1

    def filters(self):
        filters = {'categories': self.categories, 'accessibility': self.access}
        if self.region:
            filters['region'] = [self.region]
        if self.municipality:
            filters['municipality'] = [self.municipality]
        return filters

    @property
    def effective_sort(self):
        return self.sort or ('relevance' if self.q else 'name')

    def values(self):
        """Parameter name → value (a list for the repeatable ones), in the order links carry them."""
        return {
            'q': self.q,
            'region': self.region,
            'municipality': self.municipality,
            'category': self.categories,
            'access': self.access,
            'lang': self.lang,
            'sort': self.sort,
        }

    def pairs(self, **changes):
        """The parameters as (name, value) pairs, with ``changes`` applied; the page is dropped."""
        values = self.values()
        values.update(changes)
        pairs = []
        for name, value in values.items():
            for each in value if isinstance(value, list) else [value]:
                if each:
                    pairs.append((name, each))
        return pairs


def catalogue_params(request):
    """The catalogue's query parameters, validated; anything that cannot be understood raises a 400."""
    for name in SINGLE_PARAMS:
        _single(request, name)
    lang = _single(request, 'lang')
    if lang and lang not in LANGUAGES:
        raise bad_request(_('Unknown language: choose fi, sv or en.'))
    sort = _single(request, 'sort')
    if sort and sort not in SORTS:
        raise bad_request(_('Unknown sort order: choose one of the orders in the list.'))
    return CatalogueParams(
        q=search_text(request),
        region=_place(request, 'region'),
        municipality=_place(request, 'municipality'),
        categories=_choices(request, 'category', CATEGORIES, _('Unknown category: ${value}')),
        access=_choices(request, 'access', ACCESSIBILITY, _('Unknown accessibility feature: ${value}')),
        lang=lang,
        sort=sort,
        page=page_param(request),
    )


def _check_page(page, total):
    pages = max(1, math.ceil(total / PAGE_SIZE))
    if page > pages:
        raise bad_request(
            _(
                'There is no page ${page}: the last page of results is ${pages}.',
                mapping={'page': page, 'pages': pages},
            )
        )
    return pages


def run_catalogue(context, request, params):
    """The catalogue query for ``params``: (result, pages)."""
    catalog = request.root.catalog
    query = Query(
        text=params.q,
        filters=params.filters(),
        types=('Venue',),
        path='/' + context.__name__,
        sort=params.effective_sort,
        start=(params.page - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
    )
    result = search(catalog, principals_of(request), query)
    return result, _check_page(params.page, result.total)


def item_url(request, catalog, docid):
    return f'{request.application_url}{catalog.paths[docid]}/'


FACETS = (
    ('region', 'region', None),
    ('municipality', 'municipality', None),
    ('categories', 'category', CATEGORIES),
    ('accessibility', 'access', ACCESSIBILITY),
)
FACET_TITLES = {
    'region': _('Region'),
    'municipality': _('Municipality'),
    'categories': _('Category'),
    'accessibility': _('Accessibility'),
}
SORT_TITLES = (('relevance', _('Relevance')), ('name', _('Name')), ('newest', _('Newest')))


def facets_of(catalog, result):
    """``{index: [(value, count)]}`` of a result's hits, most frequent first, ties by value; a facet too
    costly to count for this many hits is left out."""
    facets = {}
    for index, _param, _vocabulary in FACETS:
        counts = facet_counts(catalog, index, result.hits, result.facet_key)
        if counts is not None:
            facets[index] = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))
    return facets


def is_venues_folder(context, request):
    return context.__name__ == VENUES_FOLDER and isinstance(context.__parent__, Site)


class Record(SimpleNamespace):
    """What a template shows of one thing, as attributes: Chameleon reads an attribute directly, while
    a dict key costs it a failed attribute lookup first."""


@functools.lru_cache(maxsize=4096)
def _quoted(value):
    return quote_plus(value)


def query_string(pairs):
    """``urlencode(pairs)``, with each name and value quoted once per process rather than per link."""
    return '&'.join(f'{_quoted(str(name))}={_quoted(str(value))}' for name, value in pairs)


def _encoded(name, value):
    """``name=value`` url-encoded for each value (of a list) that is not empty."""
    return [
        f'{_quoted(name)}={_quoted(str(each))}'
        for each in (value if isinstance(value, list) else [value])
        if each
    ]


_LABELS = {}


def labels(request):
    """The catalogue's vocabulary titles translated into the request's language, as plain strings
    (category, accessibility, sort and facet titles), translated once per process and language."""
    lang = request.locale_name
    found = _LABELS.get(lang)
    if found is None:
        translate = request.localizer.translate
        found = {
            'categories': [(value, translate(title)) for value, title in CATEGORIES],
            'accessibility': [(value, translate(title)) for value, title in ACCESSIBILITY],
            'sorts': [(value, translate(title)) for value, title in SORT_TITLES],
            'facets': {name: translate(title) for name, title in FACET_TITLES.items()},
        }
        found['values'] = {
            'categories': dict(found['categories']),
            'accessibility': dict(found['accessibility']),
        }
        _LABELS[lang] = found
    return found


def venue_rows(request, catalog, docids, category_labels):
    """What the catalogue lists of each venue: url, title, description (each with the language it is
    in when that differs from the page's), the place and categories line, and the sample flag."""
    lang = request.locale_name
    application_url = request.application_url
    rows = []
    for docid in docids:
        venue = catalog.item_for(docid)
        title = venue.text('title', lang)
        description = venue.text('description', lang)
        meta = (venue.municipality or '') + ''.join(
            f' · {category_labels.get(c, c)}' for c in venue.categories
        )
        rows.append(
            Record(
                url=f'{application_url}{catalog.paths[docid]}/',
                title=title,
                title_lang=title.lang if title.lang != lang else None,
                description=description,
                description_lang=description.lang if description and description.lang != lang else None,
                meta=meta,
                sample=venue.sample,
            )
        )
    return rows


@view_config(
    context=Folder,
    renderer=THEME + 'catalogue.pt',
    permission='view',
    request_method='GET',
    is_venues=True,
)
def catalogue(context, request):
    params = catalogue_params(request)
    result, pages = run_catalogue(context, request, params)
    catalog = request.root.catalog
    base = request.path_url
    translated = labels(request)

    encoded = {name: _encoded(name, value) for name, value in params.values().items()}

    def link(page=1, **changes):
        """The catalogue with ``changes`` to the parameters (the same as ``params.pairs(**changes)``
        url-encoded), at ``page``."""
        parts = []
        for name, value in encoded.items():
            parts += _encoded(name, changes[name]) if name in changes else value
        if page > 1:
            parts.append(f'page={page}')
        return f'{base}?{"&".join(parts)}' if parts else base

    query = query_string(params.pairs())
    folder_url = f'{request.application_url}/{context.__name__}/'

    def data_url(name):
        return f'{folder_url}{name}?{query}' if query else folder_url + name

    facet_lists = []
    counted = facets_of(catalog, result)
    for index, param, _vocabulary in FACETS:
        if index not in counted:
            continue
        values = counted[index]
        selected = getattr(params, {'category': 'categories'}.get(param, param))
        titles = translated['values'].get(index)
        entries = []
        for value, count in values[:MAX_FACET_VALUES]:
            label = titles.get(value, value) if titles is not None else value
            chosen = value in selected if isinstance(selected, list) else value == selected
            if isinstance(selected, list):
                url = link(**{param: [v for v in selected if v != value] if chosen else [*selected, value]})
            else:
                url = link(**{param: '' if chosen else value})
            entries.append(Record(label=label, count=count, url=url, selected=chosen))
        facet_lists.append(Record(name=index, title=translated['facets'][index], entries=entries))
    return {
        'params': params,
        'rows': venue_rows(request, catalog, result.docids, translated['values']['categories']),
        'total': result.total,
        'count_text': plural(request, '${n} venue found', '${n} venues found', result.total),
        'page': params.page,
        'pages': pages,
        'page_links': page_links(params.page, pages, lambda n: link(page=n)),
        'facets': facet_lists,
        'sorts': translated['sorts'],
        'reset_url': base,
        'categories': translated['categories'],
        'accessibility': translated['accessibility'],
        'json_url': data_url('search.json'),
        'csv_url': data_url('search.csv'),
    }


def page_links(page, pages, url_for):
    """(number, url, current) for the first, last and nearby pages; None marks a gap."""
    shown = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})
    links = []
    previous = 0
    for n in shown:
        if n - previous > 1:
            links.append(None)
        links.append((n, url_for(n), n == page))
        previous = n
    return links


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
    facets = facets_of(request.root.catalog, result)
    body = {
        'total': result.total,
        'page': params.page,
        'pages': pages,
        'page_size': PAGE_SIZE,
        'items': records,
        'facets': {name: [{'value': v, 'count': c} for v, c in values] for name, values in facets.items()},
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


@view_config(
    context=Site, name='search', renderer=THEME + 'search.pt', permission='view', request_method='GET'
)
def site_search(context, request):
    for name in ('q', 'page', 'lang'):
        _single(request, name)
    q = search_text(request)
    sections = request.registry.content_types.search_sections()
    section_titles = [(key, title) for key, (title, _types) in sections.items()]
    chosen = _choices(request, 'type', section_titles, _('Unknown type: ${value}'))
    page = page_param(request)
    catalog = context.catalog
    types = [t for key in (chosen or sections) for t in sections[key][1]]
    result = None
    pages = 1
    if q:
        query = Query(
            text=q,
            types=tuple(types),
            sort='relevance',
            start=(page - 1) * PAGE_SIZE,
            limit=PAGE_SIZE,
        )
        result = search(catalog, principals_of(request), query)
        pages = _check_page(page, result.total)
    elif page > 1:
        raise bad_request(
            _(
                'There is no page ${page}: the last page of results is ${pages}.',
                mapping={'page': page, 'pages': 1},
            )
        )
    pairs = [('q', q), *(('type', t) for t in chosen)]
    base = f'{request.path_url}?{urlencode(pairs)}'
    return {
        'q': q,
        'chosen': chosen,
        'types': section_titles,
        'total': result.total if result else 0,
        'count_text': plural(request, '${n} result', '${n} results', result.total if result else 0),
        'items': [catalog.item_for(docid) for docid in result.docids] if result else [],
        'urls': [item_url(request, catalog, docid) for docid in result.docids] if result else [],
        'page': page,
        'pages': pages,
        'page_links': page_links(page, pages, lambda n: f'{base}&page={n}'),
        'type_titles': {ct.name: ct.title for ct in request.registry.content_types},
    }


class VenuesFolderPredicate:
    """View predicate ``is_venues=True``: the context is the site's venues folder."""

    def __init__(self, value, config):
        self.value = bool(value)

    def text(self):
        return f'is_venues = {self.value}'

    phash = text

    def __call__(self, context, request):
        return is_venues_folder(context, request) == self.value


def includeme(config):
    config.add_view_predicate('is_venues', VenuesFolderPredicate)
