"""The venue catalogue (``/venues``) and its open data (``search.json``, ``search.csv``).

Every answer comes from the catalog (:mod:`portal.catalog`), filtered by the principals the requester
holds, so a search never shows what the requester may not view.  The three forms of the catalogue read the
same parameters through :func:`catalogue_params` and run the same query, so the HTML page, the JSON and
the CSV always carry the same venues.  Input that cannot be understood is a 400 with a reason (the
parameter helpers are shared with site search, :mod:`portal.views.search`).

A municipality or region named in the search text (*uimahalli kajaanissa*, *teater i Tammerfors*)
becomes that filter (:mod:`portal.catalog.placenames`) unless one is already chosen.  Places are shown in
the reader's language (Kajana on Swedish pages); a place without venues says so by name and links to how
a municipality joins.
"""

import functools
from dataclasses import dataclass, field
from types import SimpleNamespace
from urllib.parse import quote_plus

from pyramid.view import view_config

from portal import places
from portal.catalog import Query, candidates, facet_cache, facet_counts, search
from portal.catalog.placenames import find_places
from portal.i18n import LANGUAGES, _, plural
from portal.resources.folder import Folder
from portal.resources.site import Site
from portal.resources.venue import ACCESSIBILITY, CATEGORIES
from portal.views.search import (
    PAGE_SIZE,
    _check_page,
    _choices,
    _single,
    bad_request,
    clean_text,
    corrected_text,
    page_links,
    page_param,
    principals_of,
    search_text,
)

THEME = 'kaiku_theme:templates/'
#: The folder whose default view is the venue catalogue.
VENUES_FOLDER = 'venues'
#: The longest region or municipality name accepted.
MAX_PLACE_LENGTH = 100
#: How many values a facet list shows at most (the most frequent first).
MAX_FACET_VALUES = 30
SORTS = ('relevance', 'name', 'newest')
SINGLE_PARAMS = ('q', 'region', 'municipality', 'lang', 'sort', 'page')


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
    q, region, municipality = search_text(request), _place(request, 'region'), _place(request, 'municipality')
    found = find_places(q)
    if found.municipality is not None and not municipality:
        municipality, q = found.municipality.name_fi, found.text
    if found.region is not None and not region:
        region, q = found.region.name_fi, found.text
    return CatalogueParams(
        q=q,
        region=region,
        municipality=municipality,
        categories=_choices(request, 'category', CATEGORIES, _('Unknown category: ${value}')),
        access=_choices(request, 'access', ACCESSIBILITY, _('Unknown accessibility feature: ${value}')),
        lang=lang,
        sort=sort,
        page=page_param(request),
    )


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


def facets_of(request, result):
    """``{index: [(value, count)]}`` of a result's hits, most frequent first, ties by value; a facet too
    costly to count for this many hits is left out.  Counts are remembered in the application's facet
    cache until the catalog changes."""
    catalog, cache = request.root.catalog, facet_cache(request.registry)
    facets = {}
    for index, _param, _vocabulary in FACETS:
        counts = facet_counts(catalog, index, result.hits, result.facet_key, cache)
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
    """``urlencode(pairs)``, with each name and value quoted once per process rather than per link (a
    pure function of its argument, so a process-wide memo is safe)."""
    return '&'.join(f'{_quoted(str(name))}={_quoted(str(value))}' for name, value in pairs)


def _encoded(name, value):
    """``name=value`` url-encoded for each value (of a list) that is not empty."""
    return [
        f'{_quoted(name)}={_quoted(str(each))}'
        for each in (value if isinstance(value, list) else [value])
        if each
    ]


def labels(request):
    """The catalogue's vocabulary titles translated into the request's language, as plain strings
    (category, accessibility, sort and facet titles), translated once per application and language
    (kept on the application registry, whose translation directories they come from)."""
    lang = request.locale_name
    remembered = request.registry.__dict__.setdefault('portal_catalogue_labels', {})
    found = remembered.get(lang)
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
        remembered[lang] = found
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
        meta = places.title_of_named('municipality', venue.municipality, lang) + ''.join(
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
    counted = facets_of(request, result)
    for index, param, _vocabulary in FACETS:
        if index not in counted:
            continue
        values = counted[index]
        selected = getattr(params, {'category': 'categories'}.get(param, param))
        titles = translated['values'].get(index)
        entries = []
        for value, count in values[:MAX_FACET_VALUES]:
            if titles is not None:
                label = titles.get(value, value)
            else:
                label = places.title_of_named(index, value, request.locale_name)
            chosen = value in selected if isinstance(selected, list) else value == selected
            if isinstance(selected, list):
                url = link(**{param: [v for v in selected if v != value] if chosen else [*selected, value]})
            else:
                url = link(**{param: '' if chosen else value})
            entries.append(Record(label=label, count=count, url=url, selected=chosen))
        facet_lists.append(Record(name=index, title=translated['facets'][index], entries=entries))
    return {
        'params': params,
        'corrected': corrected_text(params.q, result),
        'empty_place': empty_place(request, params, result),
        'rows': venue_rows(request, catalog, result.docids, translated['values']['categories']),
        'total': result.total,
        'count_text': plural(request, '${n} venue found', '${n} venues found', result.total),
        'chosen_text': chosen_text(request, params),
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
        'csv_plain_url': data_url('search.csv') + ('&' if query else '?') + 'dialect=plain',
    }


def chosen_text(request, params):
    """How many categories and accessibility features the search has chosen ("2 chosen"), shown beside
    the choices where a phone folds them away; None when none is."""
    n = len(params.categories) + len(params.access)
    return plural(request, '${n} chosen', '${n} chosen', n) if n else None


#: The page that tells how a municipality joins the Kaikukortti network.
JOIN_PAGE = 'kunnille'


def empty_place(request, params, result):
    """For a search that found nothing in a chosen municipality or region: the place's name in the
    reader's language, the page on how a municipality joins, and the municipality's onboarding
    workspace when the requester may view its summary; otherwise None."""
    if result.total or not (params.municipality or params.region):
        return None
    index, value = ('municipality', params.municipality) if params.municipality else ('region', params.region)
    site = request.root
    workspace_url = None
    if index == 'municipality':
        catalog = site.catalog
        for docid in candidates(catalog, principals_of(request), Query(types=('Workspace',))):
            if getattr(catalog.item_for(docid), 'municipality', None) == value:
                workspace_url = f'{request.application_url}{catalog.paths[docid]}/'
                break
    join = site.get(JOIN_PAGE)
    return Record(
        name=places.title_of_named(index, value, request.locale_name),
        join_url=f'{request.application_url}/{JOIN_PAGE}/' if join is not None else None,
        workspace_url=workspace_url,
    )


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
