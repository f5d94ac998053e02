"""Searchable words for the values of choice fields: a venue's categories and accessibility features.

A venue's text may be in Finnish only, but a reader searches in their own language and words
(*simhall*, *swimming pool*, *esteetön*, *tillgänglig*).  ``portal/data/search_words.csv`` gives, for each
value of a choice field, its label and common synonyms in Finnish, Swedish and English; each language's
text index holds them for every item that has the value (:func:`words_for`), so a Swedish or English
search finds Finnish-only venues.
"""

import csv
import functools
from pathlib import Path

DATA = Path(__file__).parent.parent / 'data' / 'search_words.csv'


@functools.cache
def table():
    """``{attribute: {value: {language: text}}}`` from the data file."""
    found = {}
    with DATA.open(encoding='utf-8', newline='') as f:
        for row in csv.DictReader(f):
            values = found.setdefault(row.pop('attribute'), {})
            value = row.pop('value')
            values[value] = {language: ' '.join(text.split(';')) for language, text in row.items()}
    return found


def words_for(item, language):
    """The searchable words, in ``language``, of the choice values ``item`` holds."""
    parts = []
    for attribute, values in table().items():
        held = getattr(item, attribute, None) or ()
        for value in (held,) if isinstance(held, str) else held:
            text = values.get(value, {}).get(language)
            if text:
                parts.append(text)
    return ' '.join(parts)
