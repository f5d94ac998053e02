"""The guard that keeps identifying data out of the registry.

The registry stores no names, personal identity codes (henkilötunnus), dates of birth or addresses.
Fields are chosen so that none asks for them, and every free-text field is checked with
:func:`find_identifier` so that an identity code typed into a note is refused, not stored.
"""

import re

#: DDMMYY, a century sign, three digits and a check character (the 2023 reform added the signs
#: Y X W V U for the 1900s and B C D E F for the 2000s).
HETU = re.compile(
    r'(?<![0-9A-Za-z])(0[1-9]|[12]\d|3[01])(0[1-9]|1[0-2])(\d{2})\s?([-+A-FU-Y])\s?(\d{3})([0-9A-Za-z])(?![0-9A-Za-z])'
)
#: A full date (day, month and a four-digit year) reads as a date of birth in a note about a person.
FULL_DATE = re.compile(r'(?<!\d)(0?[1-9]|[12]\d|3[01])[./-](0?[1-9]|1[0-2])[./-](19|20)\d{2}(?!\d)')


def find_identifier(text):
    """A short description of the identifying data found in ``text``, or None."""
    if not text:
        return None
    if HETU.search(text):
        return 'personal identity code'
    if FULL_DATE.search(text):
        return 'full date'
    return None
