"""Site search (``/@@search``) and the query parameters every search page reads.

Every answer comes from the catalog (:mod:`portal.catalog`), filtered by the principals the requester
holds, so a search never shows what the requester may not view.  Input that cannot be understood is a
400 with a reason.  The venue catalogue (:mod:`portal.views.catalogue`) reads its parameters with the
helpers here.

Site search answers questions as people type them (*saako lapsi ilmaisen lipun*): stop and question words
are left out, the pages holding the most of the other words come first, and pages
(for card holders, issuers, venues and municipalities: the card's rules) count ``PAGE_BOOST`` times a
venue's score, so a venue never outranks them for words about the card.
"""

import math
import unicodedata
from urllib.parse import urlencode

from pyramid.authorization import Authenticated, Everyone
from pyramid.httpexceptions import HTTPBadRequest
from pyramid.interfaces import ISecurityPolicy
from pyramid.view import view_config

from portal.catalog import MAX_QUERY_LENGTH, Query, search, words
from portal.i18n import _, plural
from portal.resources.site import Site

THEME = 'kaiku_theme:templates/'
PAGE_SIZE = 20
#: How much more a page's score counts than a venue's in site search.
PAGE_BOOST = 2.0
#: The highest page number accepted.
MAX_PAGE = 10_000


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


def item_url(request, catalog, docid):
    return f'{request.application_url}{catalog.paths[docid]}/'


def corrected_text(text, result):
    """The search text as it was read when words were corrected (``uimahali`` → ``uimahalli``), or
    None."""
    if not result.corrections:
        return None
    return ' '.join(result.corrections.get(word, word) for word in words(text))


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
            match='most',
            boosts={'Page': PAGE_BOOST},
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
    total = result.total if result else 0
    return {
        'q': q,
        'corrected': corrected_text(q, result) if result is not None else None,
        'chosen': chosen,
        'types': section_titles,
        'total': total,
        'count_text': plural(request, '${n} result', '${n} results', total),
        'items': [catalog.item_for(docid) for docid in result.docids] if result else [],
        'urls': [item_url(request, catalog, docid) for docid in result.docids] if result else [],
        'page': page,
        'pages': pages,
        'page_links': page_links(page, pages, lambda n: f'{base}&page={n}'),
        'type_titles': {ct.name: ct.title for ct in request.registry.content_types},
    }
