"""Place names in a search text: a municipality or a region, in any inflected form, becomes a filter.

People type where they are: *uimahalli kajaanissa*, *Forssassa*, *Tampereen museot*, *simhall i Esbo*,
*teater Tammerfors*, *Kajanas bibliotek*.  :func:`find_places` reads each word of a search text against
the municipality table (:mod:`portal.places`: Finnish and Swedish names of every municipality and region):

* the word itself is a name (*Esbo*, *Tammerfors*, *Lahti*);
* Voikko reads it as an inflected place name (*Lahdessa* → Lahti, *Helsingissä* → Helsinki,
  *Etelä-Pohjanmaalla* → Etelä-Pohjanmaa);
* without Voikko's answer, a Finnish case ending taken off gives a name (*Forssassa* → Forssa);
* a Swedish genitive *-s* taken off gives a name (*Kajanas* → Kajana).

The words that named a place, and a preposition just before one (*i*, *in*), are taken out of the text;
the rest is searched as words.
"""

import functools
import re
from dataclasses import dataclass

from portal import places
from portal.catalog import morphology
from portal.catalog.text import fold

#: Finnish case endings tried, longest first, when Voikko does not read a word as a place name.
FINNISH_ENDINGS = tuple(
    sorted(
        ('ssa', 'ssä', 'sta', 'stä', 'lla', 'llä', 'lta', 'ltä', 'lle', 'n', 'an', 'än', 'en', 'seen',
         'hin', 'hyn', 'na', 'nä', 'ksi', 'a', 'ä'),
        key=len,
        reverse=True,
    )
)  # fmt: skip
#: Shorter words are never read as place names (too many would be).
MIN_NAME_LENGTH = 3
#: Words that say where, dropped with the place name after them (*simhall i Esbo*, *museum in Tampere*).
PREPOSITIONS = frozenset(('i', 'på', 'från', 'in', 'at', 'near', 'from'))
_TOKEN_RE = re.compile(r"[\w'-]+")


@dataclass(frozen=True)
class FoundPlaces:
    """What :func:`find_places` found: the text without the place names, and the first municipality and
    region named (or None)."""

    text: str
    municipality: places.Municipality | None = None
    region: places.Area | None = None


def _named(name):
    """(kind, place) of a municipality or region called ``name`` (Finnish or Swedish), or None.  Typed
    without ä and ö a name still counts (*jyvaskyla*), but not without å: *inga* and *stora* are Swedish
    words, not Ingå and Storå."""
    for kind, found in (
        ('municipality', places.municipality_named(name)),
        ('region', places.region_named(name)),
    ):
        if found is not None and (
            fold(name) in (fold(found.name_fi), fold(found.name_sv))
            or 'å' not in fold(found.name_sv + found.name_fi)
        ):
            return kind, found
    return None


@functools.lru_cache(maxsize=20_000)
def place_of_word(word):
    """(kind, place) that ``word`` names in any inflected Finnish or Swedish form, or None."""
    word = word.strip("'-")
    if len(word) < MIN_NAME_LENGTH or word.isdigit():
        return None
    found = _named(word)
    if found is not None:
        return found
    for analysis in morphology.analyse(word):
        if analysis.word_class == 'paikannimi' or '-' in analysis.lemma:
            found = _named(analysis.lemma)
            if found is not None:
                return found
    lower = word.casefold()
    for ending in FINNISH_ENDINGS:
        stem = lower[: -len(ending)]
        if lower.endswith(ending) and len(stem) >= MIN_NAME_LENGTH:
            found = _named(stem)
            if found is not None:
                return found
    if lower.endswith('s') and len(lower) > MIN_NAME_LENGTH:
        return _named(lower[:-1])
    return None


def find_places(text):
    """The places ``text`` names, and the text left when their names are taken out."""
    kept = []
    municipality = region = None
    for token in text.split():
        match = _TOKEN_RE.fullmatch(token.strip('.,;:!?()"'))
        found = place_of_word(match.group()) if match else None
        if found is None:
            kept.append(token)
            continue
        if kept and kept[-1].casefold() in PREPOSITIONS:
            kept.pop()
        if found[0] == 'municipality':
            municipality = municipality or found[1]
        else:
            region = region or found[1]
    return FoundPlaces(' '.join(kept), municipality, region)
