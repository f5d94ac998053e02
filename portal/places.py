"""The municipality table: every municipality of Finland with its region and wellbeing services county.

Municipality, region (maakunta) and wellbeing services county (hyvinvointialue) are never free text in the
portal or its plugins: forms offer choices from this table, records store its codes (Statistics Finland's
three-digit municipality code, two-digit region and county codes), and a record's region and county are
derived from its municipality, so a municipality belongs to exactly one region.  The table is read once
from ``portal/data/*.csv``; ``portal/data/README.md`` names the source and the year of the classification.

A place has an official Finnish and Swedish name; English uses the Finnish one, as Finnish authorities do.
Names are looked up without regard to case or diacritics (``jyvaskyla``, ``TAMMERFORS``), so an old free-text
value or a name in a content file finds its code.
"""

import csv
import functools
import unicodedata
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).parent / 'data'
#: The year of the classification the table follows (see ``portal/data/README.md``).
CLASSIFICATION_YEAR = 2025
#: The order of the Finnish and Swedish alphabets: å, ä and ö come after z.
_ALPHABET_END = {'å': 'z\u0001', 'ä': 'z\u0002', 'æ': 'z\u0002', 'ö': 'z\u0003', 'ø': 'z\u0003'}


@dataclass(frozen=True)
class Area:
    """A region or a wellbeing services county."""

    code: str
    name_fi: str
    name_sv: str

    def title(self, language='fi'):
        return self.name_sv if language == 'sv' else self.name_fi


@dataclass(frozen=True)
class Municipality:
    code: str
    name_fi: str
    name_sv: str
    region: Area
    county: Area | None

    def title(self, language='fi'):
        return self.name_sv if language == 'sv' else self.name_fi


@functools.lru_cache(maxsize=4096)
def fold(name):
    """``name`` without case, diacritics or surrounding space: ``'Jyväskylä'`` → ``'jyvaskyla'``."""
    decomposed = unicodedata.normalize('NFKD', str(name).strip().casefold())
    return ''.join(c for c in decomposed if not unicodedata.combining(c))


def sort_key(title):
    """Sort as the Finnish and Swedish alphabets do (å, ä, ö after z), ignoring case."""
    return ''.join(_ALPHABET_END.get(c, c) for c in title.casefold())


def _rows(name):
    with (DATA / name).open(encoding='utf-8', newline='') as f:
        return list(csv.DictReader(f))


@dataclass(frozen=True)
class _Table:
    municipalities: dict
    regions: dict
    counties: dict
    names: dict
    region_names: dict
    county_names: dict


def _by_name(areas):
    found = {}
    for area in areas.values():
        found.update({fold(area.name_fi): area, fold(area.name_sv): area, area.code: area})
    return found


@functools.cache
def _table():
    regions = {row['code']: Area(**row) for row in _rows('regions.csv')}
    counties = {row['code']: Area(**row) for row in _rows('counties.csv')}
    municipalities = {}
    names = {}
    for row in _rows('municipalities.csv'):
        place = Municipality(
            row['code'],
            row['name_fi'],
            row['name_sv'],
            regions[row['region']],
            counties[row['county']] if row['county'] else None,
        )
        municipalities[place.code] = place
        for name in {fold(place.name_fi), fold(place.name_sv)}:
            if names.setdefault(name, place) is not place:
                raise ValueError(f'Two municipalities are called {name!r}')
    return _Table(municipalities, regions, counties, names, _by_name(regions), _by_name(counties))


def municipality(code):
    """The municipality with Statistics Finland's code ``code`` (``'179'``), or None."""
    return _table().municipalities.get(code) if isinstance(code, str) else None


def municipality_named(name):
    """The municipality whose Finnish or Swedish name is ``name`` (any case, with or without diacritics)."""
    return _table().names.get(fold(name)) if isinstance(name, str) else None


def find_municipality(value):
    """The municipality a stored or typed value means: a code, or a Finnish or Swedish name; or None."""
    return municipality(value.strip() if isinstance(value, str) else value) or municipality_named(value)


def region(code):
    return _table().regions.get(code) if isinstance(code, str) else None


def county(code):
    return _table().counties.get(code) if isinstance(code, str) else None


def region_named(name):
    """The region whose Finnish or Swedish name, or code, is ``name``; or None."""
    return _table().region_names.get(fold(name)) if isinstance(name, str) else None


def county_named(name):
    """The wellbeing services county whose Finnish or Swedish name, or code, is ``name``; or None."""
    return _table().county_names.get(fold(name)) if isinstance(name, str) else None


def municipalities(region=None, county=None):
    """The municipalities, in code order, optionally those of one region or county (given by code)."""
    return [
        place
        for place in _table().municipalities.values()
        if (region is None or place.region.code == region)
        and (county is None or (place.county is not None and place.county.code == county))
    ]


def regions():
    return list(_table().regions.values())


def counties():
    return list(_table().counties.values())


def _sorted_choices(places, language):
    pairs = [(place.code, place.title(language)) for place in places]
    return tuple(sorted(pairs, key=lambda pair: sort_key(pair[1])))


@functools.cache
def municipality_choices(language='fi', region=None):
    """``(code, title)`` pairs of the municipalities in alphabetical order of ``language``'s names."""
    return _sorted_choices(municipalities(region=region), language)


@functools.cache
def region_choices(language='fi'):
    return _sorted_choices(regions(), language)


@functools.cache
def county_choices(language='fi'):
    return _sorted_choices(counties(), language)


def municipality_title(code, language='fi'):
    """The name of the municipality ``code`` in ``language``; an unknown value is shown as it is."""
    place = municipality(code)
    return place.title(language) if place else (code or '')


def region_title(code, language='fi'):
    found = region(code)
    return found.title(language) if found else (code or '')


def county_title(code, language='fi'):
    found = county(code)
    return found.title(language) if found else (code or '')


_NAMED = {'municipality': municipality_named, 'region': region_named, 'county': county_named}


def title_of_named(kind, name, language='fi'):
    """The ``kind`` (``municipality``, ``region`` or ``county``) that records store by its name (Finnish
    or Swedish) in ``language``: ``('municipality', 'Kajaani', 'sv')`` → ``'Kajana'``.  An unknown name is
    shown as it is."""
    found = _NAMED[kind](name) if name else None
    return found.title(language) if found is not None else (name or '')


def title_named(name, language='fi'):
    """The name of the municipality or region stored as ``name`` (its Finnish name, as records keep
    them) in ``language``; an unknown name is shown as it is."""
    return title_of_named('municipality' if municipality_named(name) else 'region', name, language)


def named_choices(names, language='fi'):
    """``(stored name, title)`` pairs of municipalities or regions kept by their Finnish names, in
    alphabetical order of ``language``'s names (Tammerfors under T, Åbo after Ö in Swedish)."""
    pairs = [(name, title_named(name, language)) for name in names]
    return sorted(pairs, key=lambda pair: sort_key(pair[1]))
