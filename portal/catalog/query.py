"""Queries: what to look for, and how the catalog answers it for a requester's principals.

:func:`search` answers a query (text, filters, sort, a page).  It intersects the filters' sets and the
words' postings first, smallest first, and scores only the documents left (Okapi BM25, as hypatia scores).
A query word looks for its tokens in every language's index, as whole words and, at a lower weight, as
parts of compounds (:func:`portal.catalog.text.query_terms`); stop and question words are left out
(:func:`query_words`); a word found nowhere is replaced by the known word one edit away that most
documents hold (:func:`correct`), and the result says so.  A query that asks for the ``most`` words
finds the documents holding any of them, those holding the most first (site search answering a
question).  An anonymous query for content types reads the ``public`` index (the types, and type:section,
of what anyone may view) instead of intersecting ``allowed``, ``content_type`` and ``path``.
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
from portal.catalog.morphology import suggest
from portal.catalog.text import STOP_WORDS, query_terms, stem, words
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
    #: ``all``: every word must match; ``most``: documents holding any word, those holding the most
    #: words first.
    match: str = 'all'
    #: Content type → how many times its documents' text scores count (site search: pages over venues).
    boosts: dict = field(default_factory=dict)


@dataclass
class Result:
    total: int
    docids: list
    #: The set of every hit, for facet counting.  It may be an index's own set: never change it.
    hits: object
    #: The key under which the facet counts of ``hits`` may be remembered (:func:`facet_counts`), or
    #: None: only a query without text whose catalog state is known gets one.
    facet_key: object = None
    #: Typed word → the known word it was read as (a misspelling one edit away).
    corrections: dict = field(default_factory=dict)


class Posting(tuple):
    """``(text index, docid → frequency)`` of one token, with the ``weight`` its matches count by (a
    compound part counts less than a whole word)."""

    def __new__(cls, index, docs, weight=1.0):
        posting = tuple.__new__(cls, (index, docs))
        posting.weight = weight
        return posting


def query_words(text):
    """The words of a search text that a search uses: stop and question words left out (unless the text
    has nothing else), at most ``MAX_QUERY_WORDS``."""
    found = words(text)
    kept = [word for word in found if word not in STOP_WORDS]
    return (kept or found)[:MAX_QUERY_WORDS]


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
    """The :class:`Posting` of each token of ``term`` (as a whole word and as a compound's part) that a
    language's text index holds."""
    found = []
    for language in LANGUAGES:
        index = catalog[f'text_{language}'].index
        wids = index._lexicon._wids
        for token, weight in query_terms(language, term):
            docs = index._wordinfo.get(wids.get(token, 0))
            if docs:
                found.append(Posting(index, IF.Bucket(docs) if isinstance(docs, dict) else docs, weight))
    return found


#: The letters a misspelling may have lost, gained or swapped.
ALPHABET = 'abcdefghijklmnopqrstuvwxyzåäö'
#: Words shorter than this are not corrected (one edit away from too many).
MIN_CORRECTED_LENGTH = 4
#: How many of Voikko's suggestions for a word are tried, likeliest first.
SUGGESTIONS_TRIED = 5


def _edits(word):
    """Every string one deletion, transposition, substitution or insertion away from ``word``."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    found = {a + b[1:] for a, b in splits if b}
    found |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    found |= {a + c + b[1:] for a, b in splits if b for c in ALPHABET}
    found |= {a + c + b for a, b in splits for c in ALPHABET}
    found.discard(word)
    return found


def correct(catalog, word):
    """The word one edit away from ``word`` (or, in Swedish and English, the stem one edit away from its
    stem) that some language's index holds as a whole word, held by the most documents and found again
    when searched for; or None.  Candidates are looked up as they are, never analysed: a thousand of
    them cost a few milliseconds."""
    if len(word) < MIN_CORRECTED_LENGTH or not word.isalpha():
        return None
    counts = {}
    edits = _edits(word)
    for language in LANGUAGES:
        index = catalog[f'text_{language}'].index
        wids, wordinfo = index._lexicon._wids, index._wordinfo
        candidates = edits if language == 'fi' else edits | _edits(stem(language, word))
        for candidate in candidates:
            docs = wordinfo.get(wids.get(candidate, 0))
            if docs:
                counts[candidate] = counts.get(candidate, 0) + len(docs)
    for candidate in sorted(counts, key=lambda each: (-counts[each], each)):
        if _postings(catalog, candidate):
            return candidate
    # A misspelt inflected Finnish word is no indexed word's neighbour: Voikko's speller knows its forms.
    for suggestion in suggest(word)[:SUGGESTIONS_TRIED]:
        candidate = suggestion.lower()
        if candidate != word and candidate.isalpha() and _postings(catalog, candidate):
            return candidate
    return None


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


def _text_scores(postings, hits, union=False):
    """Scores of ``hits`` for the words whose postings are ``postings``: each word's scores (a posting's
    times its weight) summed over its tokens and languages, then over the words, of documents that hold
    every word (or, with ``union``, any word)."""
    scores = None
    for word in postings:
        word_scores = IF.Bucket()
        for posting in word:
            part = _okapi(posting[0], posting[1], hits)
            word_scores = IF.weightedUnion(word_scores, part, 1, getattr(posting, 'weight', 1.0))[1]
        if scores is None:
            scores = word_scores
        else:
            scores = (IF.weightedUnion if union else IF.weightedIntersection)(scores, word_scores)[1]
    return scores


def _word_set(word):
    """The documents holding one query word: its postings as they are when there is one (no copy)."""
    return word[0][1] if len(word) == 1 else IF.multiunion([posting[1] for posting in word])


def _boosted(catalog, scores, boosts):
    """``scores`` with each document's multiplied by its content type's boost."""
    if not boosts:
        return scores
    types = catalog['content_type']._rev_index
    return IF.Bucket({docid: score * boosts.get(types.get(docid), 1.0) for docid, score in scores.items()})


def _most_words(catalog, sets, postings, end, boosts):
    """The documents holding any of the words, those with the most words first, then by score; (hits,
    the first ``end`` docids)."""
    hits = intersect([*sets, IF.multiunion([_word_set(word) for word in postings if word])])
    if not hits:
        return hits, []
    word_sets = [_word_set(word) for word in postings if word]
    scores = _boosted(catalog, _text_scores([word for word in postings if word], hits, union=True), boosts)
    ranked = heapq.nsmallest(
        end,
        scores.items(),
        key=lambda pair: (-sum(pair[0] in each for each in word_sets), -pair[1], pair[0]),
    )
    return hits, [docid for docid, _score in ranked]


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
    postings = []
    corrections = {}
    for term in terms:
        found = _postings(catalog, term)
        if not found:
            corrected = correct(catalog, term)
            if corrected is not None:
                corrections[term] = corrected
                found = _postings(catalog, corrected)
        postings.append(found)
    facet_key = None
    end = query.start + query.limit
    if not terms:
        hits = intersect(sets)
        facet_key = _facet_key(catalog, principals, query)
    elif all(postings):
        # a word found in one language is intersected through its postings as they are (no copy)
        hits = intersect(sets + [_word_set(word) for word in postings])
    else:
        hits = IF.Set()
    if query.match == 'most' and len(terms) > 1 and any(postings):
        hits, docids = _most_words(catalog, sets, postings, end, query.boosts)
        return Result(len(hits), docids[query.start : end], hits, None, corrections)
    total = len(hits)
    if not total or query.start >= total:
        return Result(total, [], hits, facet_key, corrections)
    if query.sort == 'relevance' and terms:
        titles = catalog['title']._rev_index
        scores = _boosted(catalog, _text_scores(postings, hits), query.boosts)
        ranked = heapq.nsmallest(end, scores.items(), key=lambda pair: (-pair[1], titles.get(pair[0], '')))
        docids = [docid for docid, _score in ranked]
    elif query.sort == 'newest':
        docids = _newest(catalog, hits, end)
    else:
        docids = _by_title(catalog, hits, end)
    return Result(total, docids[query.start : end], hits, facet_key, corrections)
