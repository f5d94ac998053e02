"""Queries: what to look for, and how the catalog answers it for a requester's principals.

:func:`search` answers a query (text, filters, sort, a page).  It intersects the filters' sets and the
words' postings first, smallest first, and scores only the documents left (Okapi BM25, as hypatia scores).
An anonymous query for content types reads the ``public`` index (the types, and type:section, of what
anyone may view) instead of intersecting ``allowed``, ``content_type`` and ``path``.
"""

import heapq
import math
from dataclasses import dataclass, field

from BTrees import family64
from hypatia.keyword import KeywordIndex
from hypatia.text.baseindex import inverse_doc_frequency
from hypatia.text.okapiindex import score as okapi_score
from pyramid.authorization import Everyone

from portal.catalog.indexes import SiteCatalog
from portal.catalog.text import words
from portal.i18n import LANGUAGES

IF = family64.IF

#: The longest search text accepted, in characters, and the most words a search uses.
MAX_QUERY_LENGTH = 200
MAX_QUERY_WORDS = 12
#: An intersection probes the larger set for each member of the smaller one when the larger is at least
#: this many times bigger; otherwise it merges the two.
PROBE_RATIO = 16
#: hypatia sorts newest first by n-best (ties by docid, highest first) below this limit, by timsort
#: (ties lowest first) from it on: :func:`_newest` reads the times in order only below it.
NBEST_LIMIT = 300
#: A sort by title reads the titles in order when there are more hits than this (see :func:`_by_title`).
TITLE_SCAN_MIN = 2000


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
