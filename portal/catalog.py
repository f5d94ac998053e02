"""The site catalog: how lists and searches find content without walking the tree.

The catalog is a :mod:`hypatia` catalog kept in the site as ``site.catalog``.  It follows Substance D's
pattern:

* :data:`INDEXES` declares every index once (its name and kind).  Each index's discriminator is an
  :class:`IndexView`, a small picklable object that, when an item is indexed, calls the index-view
  function registered for that index and the item's content type (or the one registered for every
  type).  Index-view functions are registered with :func:`index_view`; a plugin registers its own the
  same way.  An index view returns the value to index, or ``default`` to leave the item out.
* Reindexing follows content events (:mod:`portal.events`): an added item is indexed, a removed one is
  unindexed with everything below it, a modified one is reindexed, and a state change reindexes the item
  and, for a container, everything below it (who may view an item depends on its parents' ACLs).  A move
  is a removal followed by an addition.  Views only read the catalog.
* Documents are known by integer ids; :class:`SiteCatalog` maps each id to the item and to its path.

Full text is indexed per language (``text_fi``, ``text_sv``, ``text_en``), each with a lexicon that
lower-cases and folds accents (keeping the Finnish and Swedish letters å, ä and ö) and stems words with
that language's Snowball stemmer, so that *uimahalliin*, *uimahallit* and *uimahalli* are one word.  The
stemmer is made when first used and is never stored: hypatia pickles the pipeline elements.

:func:`search` answers a query (text, filters, sort, a page) for a set of principals, and counts facets.
"""

import functools
import heapq
import re
import secrets
import unicodedata
from dataclasses import dataclass, field

from BTrees import family64
from hypatia.catalog import Catalog
from hypatia.field import FieldIndex
from hypatia.keyword import KeywordIndex
from hypatia.text import TextIndex
from hypatia.text.lexicon import Lexicon
from pyramid.authorization import ACLHelper
from pyramid.traversal import find_root, resource_path

from portal.events import ObjectAdded, ObjectModified, ObjectRemoved, StateChanged
from portal.i18n import LANGUAGES
from portal.resources.base import walk

IF = family64.IF
IO = family64.IO

#: The longest search text accepted, in characters, and the most words a search uses.
MAX_QUERY_LENGTH = 200
MAX_QUERY_WORDS = 12
#: Snowball stemmers by site language.
STEMMERS = {'fi': 'finnish', 'sv': 'swedish', 'en': 'english'}
#: Fields whose text goes into the full-text index, in every language an item has.
TEXT_FIELDS = (
    'title',
    'description',
    'body',
    'card_benefit',
    'how_to_get_ticket',
    'course_limits',
    'checklist',
)
#: How many (language, word) stems are remembered.
STEM_CACHE_SIZE = 200_000
#: Facet counting reads each hit's values, unless there are more hits than this and the index has at
#: most ``FACET_INTERSECT_MAX_VALUES`` values: then one set intersection a value is cheaper.
FACET_SCAN_LIMIT = 5000
FACET_INTERSECT_MAX_VALUES = 40

#: Every index: name and kind.  Text indexes get a lexicon for their language.
INDEXES = {
    'content_type': 'field',
    'path': 'keyword',
    'state': 'field',
    'allowed': 'keyword',
    'title': 'field',
    'text_fi': 'text',
    'text_sv': 'text',
    'text_en': 'text',
    'categories': 'keyword',
    'municipality': 'field',
    'region': 'field',
    'wellbeing_county': 'field',
    'accessibility': 'keyword',
    'language': 'keyword',
    'modified': 'field',
}

_INDEX_VIEWS = {}


def index_view(index_name, type_name=None):
    """Decorator: register ``func(item, default)`` as the value of ``index_name`` for ``type_name``
    (every type when None)."""

    def register(func):
        _INDEX_VIEWS[(index_name, type_name)] = func
        return func

    return register


class IndexView:
    """An index's discriminator: dispatches to the index view of the item's content type."""

    def __init__(self, index_name):
        self.index_name = index_name

    def __call__(self, item, default):
        view = _INDEX_VIEWS.get((self.index_name, item.type_name)) or _INDEX_VIEWS.get(
            (self.index_name, None)
        )
        if view is None:
            return default
        return view(item, default)


# text ----------------------------------------------------------------------------------------------
KEEP_LETTERS = frozenset('åäöÅÄÖ')
WORD_RE = re.compile(r'\w+')


def fold(text):
    """Lower-case ``text`` and remove accents, but keep å, ä and ö, which are letters of their own."""
    text = unicodedata.normalize('NFC', text).casefold()
    if text.isascii():
        return text
    out = []
    for char in text:
        if char in KEEP_LETTERS or char.isascii():
            out.append(char)
        else:
            out.extend(c for c in unicodedata.normalize('NFD', char) if not unicodedata.combining(c))
    return ''.join(out)


def words(text):
    """The words of ``text``, folded."""
    return WORD_RE.findall(fold(text))


class FoldingSplitter:
    """Lexicon pipeline element: split into folded words."""

    def process(self, lst):
        result = []
        for text in lst:
            result += words(text)
        return result

    processGlob = process


@functools.cache
def _stemmer(language):
    import snowballstemmer

    return snowballstemmer.stemmer(STEMMERS[language])


@functools.lru_cache(maxsize=STEM_CACHE_SIZE)
def stem(language, word):
    """``word`` stemmed for ``language``; remembered, since the pure-Python stemmers are slow and texts
    repeat their words."""
    return _stemmer(language).stemWord(word)


class Stemmer:
    """Lexicon pipeline element: Snowball stemming for one language.  Only the language is stored."""

    def __init__(self, language):
        self.language = language

    def process(self, lst):
        language = self.language
        return [stem(language, word) for word in lst]


def make_lexicon(language):
    return Lexicon(FoldingSplitter(), Stemmer(language))


def _make_index(name, kind):
    if kind == 'field':
        return FieldIndex(IndexView(name))
    if kind == 'keyword':
        return KeywordIndex(IndexView(name))
    return TextIndex(IndexView(name), lexicon=make_lexicon(name.split('_', 1)[1]))


# the catalog --------------------------------------------------------------------------------------
class SiteCatalog(Catalog):
    """The hypatia catalog of a site, with the map from document ids to items and their paths."""

    def __init__(self):
        super().__init__()
        self.docids = family64.OI.BTree()
        self.objects = IO.BTree()
        self.paths = IO.BTree()
        self.ensure_indexes()

    def ensure_indexes(self):
        """Add the declared indexes this catalog lacks; return their names."""
        added = []
        for name, kind in INDEXES.items():
            if name not in self:
                self[name] = _make_index(name, kind)
                added.append(name)
        return added

    def _new_docid(self):
        while True:
            docid = secrets.randbelow(2**62) + 1
            if docid not in self.objects:
                return docid

    def index(self, item):
        """Index ``item`` (or reindex it, when it is indexed under its current path)."""
        path = resource_path(item)
        docid = self.docids.get(path)
        if docid is None:
            docid = self._new_docid()
            self.docids[path] = docid
            self.paths[docid] = path
            self.objects[docid] = item
            self.index_doc(docid, item)
        else:
            self.objects[docid] = item
            self.reindex_doc(docid, item)
        return docid

    def unindex_path(self, path):
        """Unindex the item at ``path`` and everything below it."""
        for docid in list(self['path'].applyEq(path)):
            self.unindex_doc(docid)
            del self.docids[self.paths.pop(docid)]
            del self.objects[docid]

    def reindex_below(self, path):
        for docid in list(self['path'].applyEq(path)):
            self.reindex_doc(docid, self.objects[docid])

    def rebuild(self, site):
        """Empty the catalog and index every item below ``site``; return how many were indexed."""
        self.ensure_indexes()
        self.reset()
        self.docids.clear()
        self.objects.clear()
        self.paths.clear()
        count = 0
        for item in walk(site):
            if item is not site:
                self.index(item)
                count += 1
        return count

    def item_for(self, docid):
        """The item indexed as ``docid``."""
        return self.objects[docid]


def catalog_of(item):
    """The catalog of the site ``item`` is in, or None (a detached item, a site without a catalog)."""
    root = find_root(item)
    catalog = getattr(root, 'catalog', None)
    return catalog if isinstance(catalog, SiteCatalog) else None


def install_catalog(site):
    """Give ``site`` a catalog (if it has none) and index its content; return the catalog."""
    catalog = getattr(site, 'catalog', None)
    if not isinstance(catalog, SiteCatalog):
        catalog = site.catalog = SiteCatalog()
    catalog.rebuild(site)
    return catalog


# index views ---------------------------------------------------------------------------------------
_acl_helper = ACLHelper()


@index_view('content_type')
def content_type_view(item, default):
    return item.type_name


@index_view('path')
def path_view(item, default):
    """Every path from the site down to the item, so that a query for a path finds what is below."""
    path = resource_path(item)
    parts = path.strip('/').split('/')
    return ['/'] + ['/' + '/'.join(parts[: i + 1]) for i in range(len(parts))]


@index_view('state')
def state_view(item, default):
    return item.state


@index_view('allowed')
def allowed_view(item, default):
    """The principals that the ACLs of the item and its parents let view it."""
    return sorted(_acl_helper.principals_allowed_by_permission(item, 'view'))


@index_view('title')
def title_view(item, default):
    return fold(item.text('title')) or default


def _text_view(language):
    def view(item, default):
        texts = item.texts.get(language)
        if not texts:
            return default
        parts = []
        for name in TEXT_FIELDS:
            value = texts.get(name)
            if isinstance(value, str):
                parts.append(value)
            elif value:
                parts.extend(value)
        if language == item.language:
            parts += [getattr(item, 'municipality', ''), getattr(item, 'region', '')]
        return ' '.join(part for part in parts if part) or default

    view.__name__ = f'text_{language}_view'
    return view


for _language in LANGUAGES:
    index_view(f'text_{_language}')(_text_view(_language))


@index_view('categories', 'Venue')
def categories_view(item, default):
    return list(item.categories) or default


@index_view('municipality', 'Venue')
def municipality_view(item, default):
    return item.municipality or default


@index_view('region', 'Venue')
def region_view(item, default):
    return item.region or default


@index_view('wellbeing_county', 'Venue')
def wellbeing_county_view(item, default):
    return item.wellbeing_county or default


@index_view('accessibility', 'Venue')
def accessibility_view(item, default):
    return list(item.accessibility) or default


@index_view('language')
def language_view(item, default):
    return item.text_languages() or default


@index_view('modified')
def modified_view(item, default):
    return item.modified.timestamp() if item.modified else default


# subscribers ---------------------------------------------------------------------------------------
def _is_site(item):
    return item.__parent__ is None


def item_added(event):
    item = event.item
    catalog = None if _is_site(item) else catalog_of(item)
    if catalog is not None:
        catalog.index(item)


def item_removed(event):
    catalog = catalog_of(event.parent)
    if catalog is not None:
        parent_path = resource_path(event.parent).rstrip('/')
        catalog.unindex_path(f'{parent_path}/{event.name}')


def item_modified(event):
    item = event.item
    catalog = catalog_of(item)
    if catalog is None:
        return
    if not _is_site(item):
        catalog.index(item)
    if item.is_container and 'local_acl' in getattr(event, 'fields', ()):
        catalog.reindex_below(resource_path(item))


def state_changed(event):
    item = event.item
    catalog = catalog_of(item)
    if catalog is None:
        return
    if item.is_container:
        catalog.reindex_below(resource_path(item))
    else:
        catalog.index(item)


# queries -------------------------------------------------------------------------------------------
@dataclass
class Query:
    """What to look for: text, exact values per index, content types, the sort and the window."""

    text: str = ''
    #: Index name → values the result must all have (keyword indexes) or have one of (field indexes).
    filters: dict = field(default_factory=dict)
    types: tuple = ()
    path: str = ''
    sort: str = 'relevance'
    start: int = 0
    limit: int = 20


@dataclass
class Result:
    total: int
    docids: list
    #: The set of every hit, for facet counting.
    hits: object


def query_words(text):
    """The words of a search text that a search uses."""
    return words(text)[:MAX_QUERY_WORDS]


def _text_scores(catalog, text):
    """Scores by document for ``text`` (every word must match, in any language), or None for no text."""
    terms = query_words(text)
    if not terms:
        return None
    per_word = []
    for term in terms:
        found = None
        for language in LANGUAGES:
            hits = catalog[f'text_{language}'].index.search(term)
            if hits:
                found = hits if found is None else IF.weightedUnion(found, hits)[1]
        if not found:
            return IF.Bucket()
        per_word.append(found)
    scores = per_word[0]
    for more in per_word[1:]:
        scores = IF.weightedIntersection(scores, more)[1]
    return scores


def _any(index, values):
    """Documents with any of ``values``: the index's own set when there is one value (no copy)."""
    if len(values) == 1:
        return index._fwd_index.get(values[0]) or IF.TreeSet()
    return index.applyAny(list(values))


def candidates(catalog, principals, query):
    """The set of documents the principals may view that pass the query's filters (text aside)."""
    sets = [_any(catalog['allowed'], list(principals))]
    if query.types:
        sets.append(_any(catalog['content_type'], list(query.types)))
    if query.path:
        sets.append(_any(catalog['path'], [query.path]))
    for name, values in query.filters.items():
        index = catalog[name]
        if isinstance(index, KeywordIndex):
            sets.extend(_any(index, [value]) for value in values)  # every value must match
        elif values:
            sets.append(_any(index, list(values)))
    sets.sort(key=len)
    result = sets[0]
    for more in sets[1:]:
        if not result:
            break
        result = IF.intersection(result, more)
    return result if len(sets) > 1 else IF.TreeSet(result)


def search(catalog, principals, query):
    """Answer ``query`` for a requester holding ``principals``.

    Relevance ranks by text score, ties by title; ``name`` sorts by title; ``newest`` by modification
    time, newest first.  Without text, relevance means name.
    """
    allowed = candidates(catalog, principals, query)
    scores = _text_scores(catalog, query.text)
    if scores is not None:
        scores = IF.weightedIntersection(scores, allowed)[1] if allowed else IF.Bucket()
        hits = IF.TreeSet(scores.keys())
    else:
        hits = allowed
    total = len(hits)
    end = query.start + query.limit
    if not total or query.start >= total:
        return Result(total, [], hits)
    titles = catalog['title']._rev_index
    if query.sort == 'relevance' and scores is not None:
        ranked = heapq.nsmallest(end, scores.items(), key=lambda pair: (-pair[1], titles.get(pair[0], '')))
        docids = [docid for docid, _score in ranked]
    elif query.sort == 'newest':
        docids = list(catalog['modified'].sort(hits, reverse=True, limit=end, raise_unsortable=False))
    else:
        docids = list(catalog['title'].sort(hits, limit=end, raise_unsortable=False))
    return Result(total, docids[query.start : end], hits)


def facet_counts(catalog, name, hits):
    """``{value: count}`` of the values of index ``name`` among ``hits``, or None when counting would
    take too long: more than ``FACET_SCAN_LIMIT`` hits and more than ``FACET_INTERSECT_MAX_VALUES``
    values (municipalities before a region is chosen)."""
    index = catalog[name]
    counts = {}
    many_values = len(index._fwd_index) > FACET_INTERSECT_MAX_VALUES
    if many_values and len(hits) > FACET_SCAN_LIMIT:
        return None
    if len(hits) <= FACET_SCAN_LIMIT:
        rev = index._rev_index
        keyword = isinstance(index, KeywordIndex)
        for docid in hits:
            value = rev.get(docid)
            if value is None:
                continue
            for each in value if keyword else (value,):
                counts[each] = counts.get(each, 0) + 1
        return counts
    for value, docids in index._fwd_index.items():
        count = IF.intersection(hits, docids)
        if count:
            counts[value] = len(count)
    return counts


def includeme(config):
    config.add_subscriber(item_added, ObjectAdded)
    config.add_subscriber(item_removed, ObjectRemoved)
    config.add_subscriber(item_modified, ObjectModified)
    config.add_subscriber(state_changed, StateChanged)
