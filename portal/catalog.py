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
It intersects the filters' sets and the words' postings first, smallest first, and scores only the
documents left.  An anonymous query for content types reads the ``public`` index (the types, and
type:section, of what anyone may view) instead of intersecting ``allowed``, ``content_type`` and ``path``;
it is kept by the same events, and :class:`SiteCatalog` counts every change in a conflict-free counter,
whose value (:meth:`SiteCatalog.generation`) keys what a process remembers: the facet counts of queries
without text here, and the anonymous catalogue pages in :mod:`portal.views.search`.
"""

import functools
import heapq
import math
import re
import secrets
import threading
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass, field

from BTrees import family64
from BTrees.Length import Length
from hypatia.catalog import Catalog
from hypatia.field import FieldIndex
from hypatia.keyword import KeywordIndex
from hypatia.text import TextIndex
from hypatia.text.baseindex import inverse_doc_frequency
from hypatia.text.lexicon import Lexicon
from hypatia.text.okapiindex import score as okapi_score
from pyramid.authorization import ACLHelper, Everyone
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
#: How many facet counts of queries without text are remembered per process.
FACET_CACHE_SIZE = 512
#: An intersection probes the larger set for each member of the smaller one when the larger is at least
#: this many times bigger; otherwise it merges the two.
PROBE_RATIO = 16
#: hypatia sorts newest first by n-best (ties by docid, highest first) below this limit, by timsort
#: (ties lowest first) from it on: :func:`_newest` reads the times in order only below it.
NBEST_LIMIT = 300
#: A sort by title reads the titles in order when there are more hits than this (see :func:`_by_title`).
TITLE_SCAN_MIN = 2000

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
    'public': 'keyword',
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
        self.ensure_counter()
        self.ensure_indexes()

    def ensure_counter(self):
        """Give the catalog its change counter (:meth:`generation`) if it lacks one."""
        if getattr(self, 'changes', None) is None:
            #: Bumped by every change to the indexes.  A Length, so that concurrent writers do not
            #: conflict on it: ZODB adds up their increments.
            self.changes = Length()
            #: Tells this catalog apart from any other in the process's caches.
            self.token = secrets.token_hex(8)

    def generation(self):
        """A key that changes whenever the indexes change: (token, counter), or None when it cannot be
        trusted (no counter, or a change made in this very transaction, which may still be aborted)."""
        changes = getattr(self, 'changes', None)
        if changes is None or changes._p_changed:
            return None
        return (self.token, changes())

    def note_change(self):
        """Move the change counter on: something that pages show, indexed or not, changed."""
        changes = getattr(self, 'changes', None)
        if changes is not None:
            changes.change(1)

    def index_doc(self, docid, obj):
        self.note_change()
        super().index_doc(docid, obj)

    def reindex_doc(self, docid, obj):
        self.note_change()
        super().reindex_doc(docid, obj)

    def unindex_doc(self, docid):
        self.note_change()
        super().unindex_doc(docid)

    def reset(self):
        self.note_change()
        super().reset()

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


@index_view('public')
def public_view(item, default):
    """For an item that anyone may view: its content type, and its content type with the top-level
    section it is in (``Venue:/venues``).  A query by an anonymous visitor for a type (in a section) reads
    one set of this index instead of intersecting ``allowed``, ``content_type`` and ``path``."""
    if Everyone not in _acl_helper.principals_allowed_by_permission(item, 'view'):
        return default
    return [item.type_name, f'{item.type_name}:{_section(item)}']


def _section(item):
    path = resource_path(item)
    return '/' + path.strip('/').split('/', 1)[0]


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
    if _is_site(item):
        catalog.note_change()  # the site is not indexed, but its title and settings are on every page
    else:
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
    #: The set of every hit, for facet counting.  It may be an index's own set: never change it.
    hits: object
    #: The key under which the facet counts of ``hits`` may be remembered (:func:`facet_counts`), or
    #: None: only a query without text whose catalog state is known gets one.
    facet_key: object = None


def query_words(text):
    """The words of a search text that a search uses."""
    return words(text)[:MAX_QUERY_WORDS]


def intersect(sets):
    """The documents in every one of ``sets``, smallest set first.  When the result so far is much
    smaller than the next set, its members are looked up one by one instead of merging the two sets
    (a merge reads every member of both)."""
    sets = sorted(sets, key=len)
    result = sets[0]
    for more in sets[1:]:
        if not result:
            break
        if len(result) * PROBE_RATIO < len(more):
            result = IF.Set(filter(more.__contains__, result))
        else:
            result = IF.intersection(result, more)
    return result


def _postings(catalog, term):
    """For each language whose text index knows ``term``: (text index, docid → frequency)."""
    found = []
    for language in LANGUAGES:
        index = catalog[f'text_{language}'].index
        for wid in index._lexicon.termToWordIds(term):
            docs = index._wordinfo.get(wid)
            if docs:
                found.append((index, IF.Bucket(docs) if isinstance(docs, dict) else docs))
    return found


def _okapi(index, docs, hits):
    """Okapi BM25 scores of the documents among ``hits`` that hold a word whose postings are ``docs``,
    computed as hypatia's :class:`OkapiIndex` computes them for every document of the word."""
    count = float(index.indexed_count())
    mean_length = index._totaldoclen() / count
    idf = inverse_doc_frequency(len(docs), count)
    found = IF.weightedIntersection(docs, hits, 1, 0)[1]  # the frequencies of the hits
    scores = IF.Bucket()
    if okapi_score is not None:
        okapi_score(scores, list(found.items()), index._docweight, idf, mean_length)
        return scores
    lengths = index._docweight  # pragma: no cover (hypatia without its C extension)
    for docid, frequency in found.items():  # pragma: no cover
        weight = 1.0 - index.B + index.B * lengths[docid] / mean_length
        scores[docid] = frequency * (index.K1 + 1.0) / (frequency + index.K1 * weight) * idf
    return scores  # pragma: no cover


def _text_scores(postings, hits):
    """Scores of ``hits`` for the words whose postings are ``postings``: each word's scores summed over
    the languages, then over the words."""
    scores = None
    for word in postings:
        word_scores = None
        for index, docs in word:
            part = _okapi(index, docs, hits)
            word_scores = part if word_scores is None else IF.weightedUnion(word_scores, part)[1]
        scores = word_scores if scores is None else IF.weightedIntersection(scores, word_scores)[1]
    return scores


def _any(index, values):
    """Documents with any of ``values``: the index's own set when there is one value (no copy)."""
    if len(values) == 1:
        return index._fwd_index.get(values[0]) or IF.TreeSet()
    return index.applyAny(list(values))


def _is_section(path):
    """Whether ``path`` is a top-level section of the site (``/venues``)."""
    return len(path) > 1 and path.count('/') == 1


def _filter_sets(catalog, principals, query):
    """The sets whose intersection is the documents the principals may view that pass the query's
    filters (text aside).  An anonymous query for content types reads the ``public`` index: one set
    instead of ``allowed`` ∩ ``content_type`` (∩ ``path`` for a section)."""
    sets = []
    path = query.path
    public = catalog.get('public')
    if public is not None and query.types and set(principals) == {Everyone}:
        if _is_section(path):
            sets.append(_any(public, [f'{name}:{path}' for name in query.types]))
            path = ''
        else:
            sets.append(_any(public, list(query.types)))
    else:
        sets.append(_any(catalog['allowed'], list(principals)))
        if query.types:
            sets.append(_any(catalog['content_type'], list(query.types)))
    if path:
        sets.append(_any(catalog['path'], [path]))
    for name, values in query.filters.items():
        index = catalog[name]
        if isinstance(index, KeywordIndex):
            sets.extend(_any(index, [value]) for value in values)  # every value must match
        elif values:
            sets.append(_any(index, list(values)))
    return sets


def candidates(catalog, principals, query):
    """The set of documents the principals may view that pass the query's filters (text aside).  It
    may be an index's own set: never change it."""
    return intersect(_filter_sets(catalog, principals, query))


def _by_title(catalog, hits, end):
    """The first ``end`` of ``hits`` by title (ties by docid), as hypatia's field sort orders them.
    For many hits the titles are read in order until ``end`` hits are found, without copying ``hits``;
    documents without a title are left out, as hypatia leaves them out."""
    index = catalog['title']
    if len(hits) <= TITLE_SCAN_MIN:
        return list(index.sort(hits, limit=end, raise_unsortable=False))
    docids = []
    for docs in index._fwd_index.values():
        for docid in docs:
            if docid in hits:
                docids.append(docid)
                if len(docids) >= end:
                    return docids
    return docids


def _newest(catalog, hits, end):
    """The first ``end`` of ``hits`` by modification time, newest first, as hypatia's field sort orders
    them for fewer than ``NBEST_LIMIT`` (ties by docid, highest first).  For many hits the times are read
    from the newest down until ``end`` hits are found; documents without a time are left out."""
    index = catalog['modified']
    if len(hits) <= TITLE_SCAN_MIN or end >= NBEST_LIMIT:
        return list(index.sort(hits, reverse=True, limit=end, raise_unsortable=False))
    fwd = index._fwd_index
    docids = []
    try:
        value = fwd.maxKey()
        while True:
            for docid in reversed(list(fwd[value])):
                if docid in hits:
                    docids.append(docid)
                    if len(docids) >= end:
                        return docids
            value = fwd.maxKey(math.nextafter(value, -math.inf))
    except ValueError:  # no older time
        return docids


def _facet_key(catalog, principals, query):
    generation = catalog.generation() if isinstance(catalog, SiteCatalog) else None
    if generation is None:
        return None
    filters = tuple(sorted((name, tuple(values)) for name, values in query.filters.items() if values))
    return (generation, tuple(sorted(set(principals))), tuple(query.types), query.path, filters)


def search(catalog, principals, query):
    """Answer ``query`` for a requester holding ``principals``.

    The filters and the words' postings are intersected first, smallest set first; only the documents
    left are scored, and only the first page's worth is sorted.  Relevance ranks by text score, ties by
    title; ``name`` sorts by title; ``newest`` by modification time, newest first.  Without text,
    relevance means name.
    """
    sets = _filter_sets(catalog, principals, query)
    terms = query_words(query.text)
    postings = [_postings(catalog, term) for term in terms]
    facet_key = None
    if not terms:
        hits = intersect(sets)
        facet_key = _facet_key(catalog, principals, query)
    elif all(postings):
        # a word found in one language is intersected through its postings as they are (no copy)
        word_sets = [
            word[0][1] if len(word) == 1 else IF.multiunion([docs for _i, docs in word]) for word in postings
        ]
        hits = intersect(sets + word_sets)
    else:
        hits = IF.Set()
    total = len(hits)
    end = query.start + query.limit
    if not total or query.start >= total:
        return Result(total, [], hits, facet_key)
    if query.sort == 'relevance' and terms:
        titles = catalog['title']._rev_index
        scores = _text_scores(postings, hits)
        ranked = heapq.nsmallest(end, scores.items(), key=lambda pair: (-pair[1], titles.get(pair[0], '')))
        docids = [docid for docid, _score in ranked]
    elif query.sort == 'newest':
        docids = _newest(catalog, hits, end)
    else:
        docids = _by_title(catalog, hits, end)
    return Result(total, docids[query.start : end], hits, facet_key)


class LRUCache:
    """Values remembered per process, least recently used out first, safe to share between threads.
    Keys that hold the catalog's generation (:meth:`SiteCatalog.generation`) become unreachable when
    anything changes, in any process.  A size of 0 remembers nothing."""

    def __init__(self, size):
        self.size = size
        self.entries = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            value = self.entries.get(key)
            if value is not None:
                self.entries.move_to_end(key)
            return value

    def put(self, key, value):
        if not self.size:
            return
        with self.lock:
            self.entries[key] = value
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)

    def clear(self):
        with self.lock:
            self.entries.clear()


facet_cache = LRUCache(FACET_CACHE_SIZE)


def facet_counts(catalog, name, hits, key=None):
    """``{value: count}`` of the values of index ``name`` among ``hits``, or None when counting would
    take too long: more than ``FACET_SCAN_LIMIT`` hits and more than ``FACET_INTERSECT_MAX_VALUES``
    values (municipalities before a region is chosen).  With ``key`` (a result's ``facet_key``) the
    counts are remembered and reused until the catalog changes; the caller must not change them."""
    if key is not None:
        cached = facet_cache.get((key, name))
        if cached is not None:
            return cached
    counts = _count_facet(catalog[name], hits)
    if key is not None and counts is not None:
        facet_cache.put((key, name), counts)
    return counts


def _count_facet(index, hits):
    """Counts by value among ``hits``.  A few hits of a field index are counted through its reverse map
    (docid → value).  A keyword index keeps each document's values as a persistent set of their own,
    which would load one object a hit, so its values are counted through its value sets instead, as
    are many hits."""
    counts = {}
    many_values = len(index._fwd_index) > FACET_INTERSECT_MAX_VALUES
    if many_values and len(hits) > FACET_SCAN_LIMIT:
        return None
    keyword = isinstance(index, KeywordIndex)
    if len(hits) <= FACET_SCAN_LIMIT and (many_values or not keyword):
        rev = index._rev_index
        for docid in hits:
            value = rev.get(docid)
            if value is None:
                continue
            for each in value if keyword else (value,):
                counts[each] = counts.get(each, 0) + 1
        return counts
    size = len(hits)
    for value, docids in index._fwd_index.items():
        if size * PROBE_RATIO < len(docids):
            count = sum(map(docids.__contains__, hits))
        else:
            count = len(IF.intersection(hits, docids))
        if count:
            counts[value] = count
    return counts


def includeme(config):
    config.add_subscriber(item_added, ObjectAdded)
    config.add_subscriber(item_removed, ObjectRemoved)
    config.add_subscriber(item_modified, ObjectModified)
    config.add_subscriber(state_changed, StateChanged)
