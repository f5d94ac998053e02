"""Text analysis for the full-text indexes: folding, splitting into words and Snowball stemming.

Each language's text index has a lexicon that lower-cases and folds accents (keeping the Finnish and Swedish
letters å, ä and ö) and stems words with that language's Snowball stemmer, so that *uimahalliin*,
*uimahallit* and *uimahalli* are one word.  hypatia pickles the pipeline elements into the database, so
they are module-level classes whose old path ``portal.catalog.<name>`` still resolves (the package
re-exports them); the stemmer is made when first used and is never stored.
"""

import functools
import re
import unicodedata

from hypatia.text.lexicon import Lexicon

#: Snowball stemmers by site language.
STEMMERS = {'fi': 'finnish', 'sv': 'swedish', 'en': 'english'}
#: How many (language, word) stems are remembered.
STEM_CACHE_SIZE = 200_000
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
