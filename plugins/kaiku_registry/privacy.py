"""The guard that keeps identifying data out of the registry.

The registry stores no names, personal identity codes (henkilötunnus), dates of birth or addresses.
Fields are chosen so that none asks for them, and every text that enters the registry (forms, the
API, CSV imports, console scripts) passes :func:`find_identifier`, so that an identifier typed into a
free-text field is refused, not stored.

The text is normalised before it is read, so that a tester cannot slip past with look-alikes:
Unicode NFKC (fullwidth digits and letters become ASCII), format and zero-width characters removed,
every dash, hyphen and minus sign read as ``-``, every decimal digit of any script read as its ASCII
digit and every kind of space as a space.  Then four kinds of identifier are looked for:

- identity codes: DDMMYY, any century sign (``+ - A B C D E F Y X W V U``) or none, three digits and a
  check character, with or without separators between the parts, whether the check character is
  right or not;
- dates: day, month and a two- or four-digit year in numeric forms (13.10.1952, 13. 10. 52, 13/10/52,
  1952-10-13) and with a Finnish, Swedish or English month name (13. lokakuuta 1952, 13 oktober 1952);
- addresses: a street name with a number (Kauppakatu 5 B 12, Storgatan 3), or a postcode with a place
  (40100 Jyväskylä);
- personal names, only where a field has no business holding one: a common Finnish or Finland-Swedish
  first name next to a surname or a capitalised word (``data/names.txt``, from the Digital and
  Population Data Services Agency's name statistics).

:func:`find_identifier` names the kind found, never the value; :data:`REFUSALS` holds the message that
tells the user, in their language, what was found and why it may not be stored.
"""

import functools
import itertools
import pathlib
import re
import unicodedata

from kaiku_registry.i18n import _

#: Every character read as a dash: Unicode's dash punctuation, the minus signs and the hyphens.
DASHES = {chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == 'Pd'} | {
    '\u2212',  # minus sign
    '\u2043',  # hyphen bullet
    '\u02d7',  # modifier letter minus sign
    '\u2796',  # heavy minus sign
}

CENTURY_SIGNS = '+-ABCDEFYXWVU'
CHECK_CHARACTERS = '0123456789ABCDEFHJKLMNPRSTUVWXY'

_DAY = r'(0[1-9]|[12][0-9]|3[01])'
_MONTH = r'(0[1-9]|1[0-2])'
#: An identity code with its century sign; a space or a dot may part its pieces, the check character
#: may be missing or wrong.
HETU_WITH_SIGN = re.compile(
    rf'(?<![0-9]){_DAY}[ .]?{_MONTH}[ .]?([0-9]{{2}}) ?([-+A-FU-Y]) ?([0-9]{{3}}) ?([0-9A-Z]?)(?![0-9])',
    re.IGNORECASE,
)
#: An identity code without its century sign: ten characters, the last one the check character.
HETU_WITHOUT_SIGN = re.compile(
    rf'(?<![0-9]){_DAY}[ .]?{_MONTH}[ .]?([0-9]{{2}}) ?([0-9]{{3}}) ?([0-9A-Z])(?![0-9])', re.IGNORECASE
)

_YEAR = r"(?:(?:1[89]|20)[0-9]{2}|'?[0-9]{2})"
NUMERIC_DATE = re.compile(
    rf'(?<![0-9])(?:0?[1-9]|[12][0-9]|3[01]) ?[./-] ?(?:0?[1-9]|1[0-2]) ?[./-] ?{_YEAR}(?![0-9])'
    rf'|(?<![0-9])(?:1[89]|20)[0-9]{{2}} ?- ?(?:0?[1-9]|1[0-2]) ?- ?(?:0?[1-9]|[12][0-9]|3[01])(?![0-9])'
)
_MONTH_NAMES = (
    r'(?:tammi|helmi|maalis|huhti|touko|kesä|heinä|elo|syys|loka|marras|joulu)(?:kuu[a-zä]*|k\.?)'
    r'|januari|februari|mars|april|maj|juni|juli|augusti|september|oktober|november|december'
    r'|january|february|march|may|june|july|august'
    r'|jan|feb|mar|apr|jun|jul|aug|sept?|okt|oct|nov|dec'
)
WORDED_DATE = re.compile(
    rf'(?<![0-9])(?:0?[1-9]|[12][0-9]|3[01])(?:\.|:[ae]|st|nd|rd|th)? ?(?:{_MONTH_NAMES})\.?,? ?'
    rf"(?:-|')?(?:(?:1[89]|20)[0-9]{{2}}|[0-9]{{2}})(?![0-9])"
    rf'|(?<![a-zåäö])(?:{_MONTH_NAMES})\.? (?:0?[1-9]|[12][0-9]|3[01])(?:st|nd|rd|th)?,? '
    rf'(?:(?:1[89]|20)[0-9]{{2}})(?![0-9])',
    re.IGNORECASE,
)
_STREET_ENDINGS = (
    r'katu|kadun|tie|tien|kuja|kujan|polku|polun|väylä|raitti|kaari|rinne|ranta|tori|aukio|puistikko|'
    r'tanhua|piha|mäki|gatan|gata|vägen|väg|gränden|gränd|stigen|torget|allén|kajen|street|road|avenue'
)
#: A street name (one word ending in a street word, or a word and a street word) and a house number,
#: which may go on with a staircase and a flat (5 B 12).
STREET_ADDRESS = re.compile(
    rf'(?<![a-zåäö])[a-zåäöé]*(?:{_STREET_ENDINGS}) ?[0-9]{{1,3}}(?![0-9])',
    re.IGNORECASE,
)
POSTCODE_AND_PLACE = re.compile(r'(?<![0-9])[0-9]{5} ?,? ?[A-ZÅÄÖ][a-zåäöé]{2,}')

IDENTITY_CODE = 'identity_code'
DATE = 'date'
ADDRESS = 'address'
NAME = 'name'

#: Each kind in a few English words, for the console scripts' reports.
KIND_WORDS = {
    IDENTITY_CODE: 'a personal identity code',
    DATE: 'a full date',
    ADDRESS: 'an address',
    NAME: 'a person’s name',
}

#: What the user is told for each kind found: what it is and why it is not stored, never the value.
REFUSALS = {
    IDENTITY_CODE: _(
        'This looks like a personal identity code. The registry never stores identity codes, so that '
        'no card holder can be identified: remove it.'
    ),
    DATE: _(
        'This holds a full date, which could be a date of birth. The registry never stores dates of '
        'birth, so that no card holder can be identified: remove the date.'
    ),
    ADDRESS: _(
        'This looks like a street address or a postcode with a place. The registry never stores '
        'addresses, so that no card holder can be identified: remove it.'
    ),
    NAME: _(
        'This looks like a person’s name. This field needs no names and the registry never stores '
        'them, so that no card holder can be identified: write a title or a description instead.'
    ),
}


def _ascii_digit(char):
    digit = unicodedata.digit(char, None) if unicodedata.category(char) == 'Nd' else None
    return str(digit) if digit is not None else char


def normalise(text):
    """``text`` as the guard reads it: NFKC, no format or zero-width characters, dashes as ``-``,
    digits in ASCII, every space as one space."""
    text = unicodedata.normalize('NFKC', text)
    out = []
    for char in text:
        category = unicodedata.category(char)
        if category == 'Cf' or char in '\u200b\u2060\ufeff\u180e':
            continue
        if char in DASHES:
            out.append('-')
        elif category == 'Nd':
            out.append(_ascii_digit(char))
        elif category in ('Zs', 'Zl', 'Zp') or char in '\t\r\n\v\f':
            out.append(' ')
        else:
            out.append(char)
    return re.sub(r' {2,}', ' ', ''.join(out))


def hetu_check_character(digits):
    """The check character of the nine digits DDMMYYNNN."""
    return CHECK_CHARACTERS[int(digits) % 31]


def _plausible_hetu(match, with_sign):
    day, month, year = match.group(1), match.group(2), match.group(3)
    serial = match.group(5 if with_sign else 4)
    check = match.group(6 if with_sign else 5).upper()
    if with_sign:
        return True
    # Without its century sign a code is ten characters; ten digits with a wrong check character read
    # as a phone number too, so those are refused only where no number belongs (``strict``).
    return check.isalpha() or check == hetu_check_character(day + month + year + serial)


def _has_hetu(text, strict):
    if HETU_WITH_SIGN.search(text):
        return True
    for match in HETU_WITHOUT_SIGN.finditer(text):
        if strict or _plausible_hetu(match, with_sign=False):
            return True
    return False


@functools.cache
def names():
    """``(first names, first names that are also words, surnames)``, casefolded, from ``data/names.txt``."""
    first, first_word, surnames = set(), set(), set()
    sets = {'first': first, 'first-word': first_word, 'surname': surnames}
    path = pathlib.Path(__file__).parent / 'data' / 'names.txt'
    for line in path.read_text(encoding='utf-8').splitlines():
        if line.strip() and not line.startswith('#'):
            kind, name = line.split()
            sets[kind].add(name.casefold())
    return frozenset(first), frozenset(first_word), frozenset(surnames)


_WORD = re.compile(r"[^\W\d_][\w'’]*(?:-[^\W\d_][\w'’]*)?")


def _has_name(text):
    first, first_word, surnames = names()
    words = _WORD.findall(text)
    for this, following in itertools.pairwise(words):
        a, b = this.casefold(), following.casefold()
        if (a in first or a in first_word) and b in surnames:
            return True
        if a in surnames and (b in first or b in first_word):
            return True
        if a in first and this.istitle() and following.istitle() and b not in first_word:
            return True
    return False


def find_identifier(text, names_allowed=False, strict=True):
    """The kind of identifying data found in ``text`` (a key of :data:`REFUSALS`), or None.

    ``names_allowed`` leaves out the name check, for fields that hold the name of an organisation or a
    place (which may honour a person); ``strict`` refuses ten digits that read as an identity code with
    a wrong check character, and is off only for phone numbers.
    """
    if not text or not isinstance(text, str):
        return None
    text = normalise(text)
    if _has_hetu(text, strict):
        return IDENTITY_CODE
    if NUMERIC_DATE.search(text) or WORDED_DATE.search(text):
        return DATE
    if STREET_ADDRESS.search(text) or POSTCODE_AND_PLACE.search(text):
        return ADDRESS
    if not names_allowed and _has_name(text):
        return NAME
    return None
