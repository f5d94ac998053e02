"""Text analysis for the full-text indexes: folding, splitting into words, lemmas and compound parts.

Each language's text index has a lexicon that lower-cases and folds accents (keeping the Finnish and Swedish
letters å, ä and ö) and turns each word into its *tokens*:

* Finnish: each lemma Voikko gives (:mod:`portal.catalog.morphology`: *Lahdessa* → *lahti*, *sirkukseen* →
  *sirkus* and *sirkku*), and for a compound each part marked with :data:`PART` (*taidemuseoon* →
  *taidemuseo*, *#taide*, *#museo*); a word Voikko does not know is stemmed by Snowball.
* Swedish: the Snowball stem, and for a compound ending in one of the common heads
  (:data:`SWEDISH_HEADS`) the head and the rest as parts (*simhallen* → *simhall*, *#hall*, *#sim*).
* English: the Snowball stem.

A query word looks for its own tokens as whole words (weight 1) and as parts of compounds
(:data:`PART_WEIGHT`), so *museo* finds *taidemuseo* but ranks a museum called *museo* first
(:func:`query_terms`).  hypatia pickles the pipeline elements into the database, so they are module-level
classes whose old path ``portal.catalog.<name>`` still resolves (the package re-exports them); the
stemmer and the analyser are made when first used and are never stored.
"""

import functools
import re
import threading
import unicodedata

from hypatia.text.lexicon import Lexicon

from portal.catalog import morphology

#: Snowball stemmers by site language.
STEMMERS = {'fi': 'finnish', 'sv': 'swedish', 'en': 'english'}
#: How many (language, word) stems and token lists are remembered.
STEM_CACHE_SIZE = 200_000
#: Marks a token that is a part of a compound, not a whole word.
PART = '#'
#: How much a match on a compound's part counts against a whole-word match.
PART_WEIGHT = 0.5
#: The shortest compound part indexed (shorter ones match too much).
MIN_PART_LENGTH = 3
#: Common heads of Swedish compounds (simhall, konstmuseum, sommarteater), longest first.
SWEDISH_HEADS = tuple(
    sorted(
        (
            'hall', 'bad', 'museum', 'museet', 'teater', 'teatern', 'bibliotek', 'biblioteket', 'konsert',
            'sal', 'salen', 'hus', 'huset', 'center', 'centrum', 'festival', 'festivalen', 'kurs', 'kurser',
            'bio', 'konst', 'dans', 'park', 'parken', 'skola', 'skolan', 'gård', 'gården', 'scen', 'scenen',
            'musik', 'opera', 'cirkus', 'institut', 'stadion', 'arena', 'simning', 'beskrivning', 'utlåtande',
        ),
        key=len,
        reverse=True,
    )
)  # fmt: skip
KEEP_LETTERS = frozenset('åäöÅÄÖ')
#: Stop and question words of the three languages, folded: a search leaves them out (saako, miten, får,
#: how), unless they are all the search has.
_STOP_TEXT = """
    ja tai sekä on ovat ei se ne kun jos että mutta myös vain voi voiko saako saa saan saanko onko
    miten mitä mikä mitkä missä mistä mihin milloin miksi kuka ketkä kenelle kenen kuinka paljon
    minä mä sinä hän me te he minun minulla meillä ole olla kanssa kaikki
    och eller men är att det den de som en ett i på av för till med om hur vad vem vilka var när
    varför får kan jag du han hon vi ni mig min mitt hos
    the a an and or but is are was be to of in on at for with by from about how what who which where
    when why can could do does did i me my we our you your get gets will would should there any
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())
WORD_RE = re.compile(r'\w+')


class _FoldTable(dict):
    """``str.translate`` table: each character without its accents (å, ä, ö and ASCII as they are),
    worked out the first time the character is met."""

    def __missing__(self, code):
        char = chr(code)
        if char in KEEP_LETTERS or char.isascii():
            folded = char
        else:
            folded = ''.join(c for c in unicodedata.normalize('NFD', char) if not unicodedata.combining(c))
        self[code] = folded
        return folded


_FOLD_TABLE = _FoldTable()
#: A character that folding changes (neither ASCII nor å, ä, ö).
_FOLDED_CHAR = re.compile('[^\x00-\x7fåäö]')


def fold(text):
    """Lower-case ``text`` and remove accents, but keep å, ä and ö, which are letters of their own."""
    text = unicodedata.normalize('NFC', text).casefold()
    return text if _FOLDED_CHAR.search(text) is None else text.translate(_FOLD_TABLE)


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


#: Each thread's own stemmers: a snowballstemmer stemmer keeps the word it works on in itself
#: (``set_current``, ``_stem``, ``get_current``), so two threads sharing one get each other's stems.
_thread_stemmers = threading.local()


def _stemmer(language):
    stemmers = _thread_stemmers.__dict__.setdefault('by_language', {})
    found = stemmers.get(language)
    if found is None:
        import snowballstemmer

        found = stemmers[language] = snowballstemmer.stemmer(STEMMERS[language])
    return found


@functools.lru_cache(maxsize=STEM_CACHE_SIZE)
def stem(language, word):
    """``word`` stemmed for ``language``; remembered, since the pure-Python stemmers are slow and texts
    repeat their words."""
    return _stemmer(language).stemWord(word)


def _swedish_parts(word, stemmed):
    for form in (word, stemmed):
        for head in SWEDISH_HEADS:
            rest = form[: -len(head)]
            if form.endswith(head) and len(rest) >= MIN_PART_LENGTH:
                return (PART + stem('sv', head), PART + stem('sv', rest.rstrip('s')))
    return ()


@functools.lru_cache(maxsize=STEM_CACHE_SIZE)
def tokens(language, word):
    """The tokens a folded ``word`` is indexed by in ``language``'s text index (see the module
    docstring): whole-word lemmas or stems, then compound parts marked with :data:`PART`."""
    if language == 'fi':
        analyses = morphology.analyse(word)
        if not analyses:
            return (stem('fi', word),)
        found = {}
        for analysis in analyses:
            found[fold(analysis.lemma)] = None
        for analysis in analyses:
            for part in analysis.part_words():
                part = fold(part).strip('-')
                if len(part) >= MIN_PART_LENGTH and part.isalpha() and part not in found:
                    found[PART + part] = None
        return tuple(found)
    if language == 'sv':
        stemmed = stem('sv', word)
        return tuple(dict.fromkeys((stemmed, *_swedish_parts(word, stemmed))))
    return (stem(language, word),)


def query_terms(language, word):
    """``(token, weight)`` pairs a folded query ``word`` looks for in ``language``'s index: each of its
    whole-word tokens as a whole word (1) and as a part of a compound (:data:`PART_WEIGHT`), and a
    Finnish word's Snowball stem as a whole word."""
    whole = [token for token in tokens(language, word) if not token.startswith(PART)]
    terms = [(token, 1.0) for token in whole] + [(PART + token, PART_WEIGHT) for token in whole]
    if language == 'fi' and stem('fi', word) not in whole:
        # what a Finnish index made before the morphology holds (a database not yet evolved), and what
        # a word Voikko did not know was indexed by
        terms.append((stem('fi', word), 1.0))
    return terms


class Stemmer:
    """Lexicon pipeline element: a word's tokens for one language (:func:`tokens`; the name is the one
    older databases pickled).  Only the language is stored."""

    def __init__(self, language):
        self.language = language

    def process(self, lst):
        language = self.language
        result = []
        for word in lst:
            result += tokens(language, word)
        return result


def make_lexicon(language):
    return Lexicon(FoldingSplitter(), Stemmer(language))
