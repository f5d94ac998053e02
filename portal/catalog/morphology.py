"""Finnish morphology: the lemmas of a word and the parts of a compound, by Voikko.

Voikko's analyser knows Finnish inflection with consonant gradation (*Lahdessa* → *Lahti*, *sirkukseen*
→ *sirkus*) and compounds (*taidemuseoon* → *taidemuseo* = *taide* + *museo*).  Two implementations read
the same dictionary; the first that loads is used:

* ``libvoikko`` (the C library, Debian's ``libvoikko1`` and ``voikko-fi``, through the ``libvoikko``
  binding): about 0.1 ms a word here;
* ``pyvoikko`` (pure Python with its own transducer, a pinned dependency, so a fresh machine with only
  Python has it): about 1.5–3 ms a word, and two seconds to load.

Both gave the same lemmas and parts on the judgement words (``bench/relevance.py``).  Without either,
:func:`analyse` returns nothing and the text analysis falls back to the Snowball stemmer.  Each distinct
word is analysed once per process (:data:`CACHE_SIZE`).
"""

import functools
import logging
import re
import threading

log = logging.getLogger(__name__)

#: How many words' analyses are remembered.
CACHE_SIZE = 200_000
#: A word longer than this is not analysed (the transducer's time grows with it).
MAX_WORD_LENGTH = 40
_WORDBASE_RE = re.compile(r'\+([^+(]*)\(([^)]*)\)')


class Analysis(tuple):
    """``(lemma, word class, compound parts)``: the base form, Voikko's class (``nimisana``,
    ``paikannimi``...) and a compound's parts as (as written in the compound, base form) pairs (empty
    for a simple word)."""

    __slots__ = ()

    def __new__(cls, lemma, word_class, parts=()):
        return tuple.__new__(cls, (lemma, word_class, tuple(parts)))

    lemma = property(lambda self: self[0])
    word_class = property(lambda self: self[1])
    parts = property(lambda self: self[2])

    def part_words(self):
        """The compound's parts and each run of neighbouring parts shorter than the whole, in their base
        form (*tietosuojaseloste* → tieto, suoja, seloste, tietosuoja, suojaseloste)."""
        found = []
        count = len(self.parts)
        for size in range(1, count):
            for start in range(count - size + 1):
                run = self.parts[start : start + size]
                found.append(''.join(written for written, _base in run[:-1]) + run[-1][1])
        return found


def _clean(base):
    return base.replace('=', '')


#: One analysis or spelling at a time: "one instance should not be used simultaneously from multiple
#: threads" (libvoikko's own words), and the site analyses words in every waitress thread that searches or
#: saves.
_analysing = threading.Lock()


@functools.cache
def _voikko():
    """The process's one libvoikko instance (analysis and spelling), used under :data:`_analysing`."""
    import libvoikko

    return libvoikko.Voikko('fi')


def _libvoikko():
    voikko = _voikko()

    def analyse(word):
        found = []
        for each in voikko.analyze(word):
            bases = each.get('WORDBASES', '')
            # a derivation ('(+ja)') splits a word into pieces that are not words: no parts then
            parts = [] if '(+' in bases else [(_clean(w), _clean(b)) for w, b in _WORDBASE_RE.findall(bases)]
            lemma = _clean(each['BASEFORM'])
            found.append(Analysis(lemma, each.get('CLASS', ''), parts if len(parts) > 1 else ()))
        return found

    return analyse


def _pyvoikko():
    import pyvoikko

    def analyse(word):
        found = []
        for each in pyvoikko.analyse(word):
            parts = [(_clean(p.FORM).strip('-'), _clean(p.BASEFORM)) for p in each.COMPOUND_PARTS or ()]
            found.append(Analysis(_clean(each.BASEFORM), each.CLASS or '', parts if len(parts) > 1 else ()))
        return found

    return analyse


#: The implementations in the order they are tried: (name, loader).
IMPLEMENTATIONS = (('libvoikko', _libvoikko), ('pyvoikko', _pyvoikko))


@functools.cache
def analyser():
    """``(name, analyse)`` of the first implementation that loads, or ``(None, None)``."""
    for name, load in IMPLEMENTATIONS:
        try:
            found = load()
            with _analysing:
                found('kala')
        except Exception as error:  # a missing module, library or dictionary: try the next one
            log.debug('Finnish morphology: %s not available (%s)', name, error)
            continue
        log.info('Finnish morphology by %s', name)
        return name, found
    log.warning('Finnish morphology: no Voikko found; Finnish text is stemmed by Snowball only')
    return None, None


@functools.lru_cache(maxsize=CACHE_SIZE)
def analyse(word):
    """The distinct analyses of ``word`` (folded or not), or ``()`` when Voikko is missing or does not
    know it."""
    if len(word) > MAX_WORD_LENGTH:
        return ()
    _name, function = analyser()
    if function is None:
        return ()
    with _analysing:
        found = function(word)
    return tuple(dict.fromkeys(found))


def suggest(word):
    """Voikko's spellings for a misspelt Finnish ``word``, likeliest first, inflected as the word was
    (*teaterissa* → *teatterissa*, *kansalaisopsitoon* → *kansalaisopistoon*); ``()`` when the word is
    spelt right or no speller is here (pyvoikko has none).  One edit away is not enough for an inflected
    word, whose misspelt form is no indexed word's neighbour."""
    if not 0 < len(word) <= MAX_WORD_LENGTH or analyser()[0] != 'libvoikko':
        return ()
    speller = _voikko()
    with _analysing:
        if speller.spell(word):
            return ()
        return tuple(speller.suggest(word))
