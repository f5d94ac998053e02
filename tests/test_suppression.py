"""Public figures that cannot be differenced.

A determined reader knows every published figure of a municipality and how they add up (the uses by
adults are the sum of the sectors and the sum of the months; the uses by children the sum of the
sectors), that "< 5" is 0 to 4 (the page hides a 0 in a table with hidden counts, so that a listed
cell says nothing), that ".." is 5 or more and that a shown 0 is nothing.  The attacker here solves the
sums for the hidden cells two ways, by Gaussian elimination over fractions and by a search over every
count the hidden cells may hold; no hidden count may come out determined.
"""

import datetime
from fractions import Fraction

import pytest
import webtest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.testing import edit_site

SECTORS = ('culture', 'education', 'science', 'sport')


def relations_for(months):
    return [
        (('figure', 'adult_uses'), [('adults', s) for s in SECTORS]),
        (('figure', 'child_uses'), [('children', s) for s in SECTORS]),
        (('figure', 'adult_uses'), [('month', m) for m in months]),
    ]


def _equations(published, relations):
    """Each sum as ``({hidden key: coefficient}, constant)``: sum of coefficient × value == constant."""
    equations = []
    for total, parts in relations:
        coefficients, constant = {}, 0
        for key, sign in [(total, 1), *((part, -1) for part in parts)]:
            value = published[key]
            if isinstance(value, int):
                constant -= sign * value
            else:
                coefficients[key] = coefficients.get(key, 0) + sign
        if coefficients:
            equations.append((coefficients, constant))
    return equations


def determined_by_elimination(published, relations):
    """The hidden cells that the sums alone fix (Gauss–Jordan elimination over fractions)."""
    equations = _equations(published, relations)
    unknowns = sorted({key for coefficients, _c in equations for key in coefficients}, key=str)
    rows = [[Fraction(c.get(k, 0)) for k in unknowns] + [Fraction(b)] for c, b in equations]
    pivots, row = [], 0
    for column in range(len(unknowns)):
        found = next((r for r in range(row, len(rows)) if rows[r][column] != 0), None)
        if found is None:
            continue
        rows[row], rows[found] = rows[found], rows[row]
        rows[row] = [value / rows[row][column] for value in rows[row]]
        for r in range(len(rows)):
            if r != row and rows[r][column] != 0:
                factor = rows[r][column]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[row], strict=True)]
        pivots.append((row, column))
        row += 1
    determined = {}
    for r, column in pivots:
        if all(rows[r][c] == 0 for c in range(len(unknowns)) if c != column):
            determined[unknowns[column]] = rows[r][-1]
    return determined


def feasible_values(published, relations, ceiling):
    """``{hidden "< 5" key: set of values it can hold}`` over the solutions of the sums, where "< 5"
    holds 0 to 4 and ".." holds 5 to ``ceiling``: for each key and value, a search for one solution."""
    equations = _equations(published, relations)
    hidden = sorted({key for coefficients, _c in equations for key in coefficients}, key=str)
    ranges = {key: (0, 4) if published[key] == '< 5' else (5, ceiling) for key in hidden}

    def consistent(assigned):
        """Fill every sum with one unknown left; False when a sum cannot hold any more."""
        moved = True
        while moved:
            moved = False
            for coefficients, constant in equations:
                left = [k for k in coefficients if k not in assigned]
                rest = constant - sum(c * assigned[k] for k, c in coefficients.items() if k in assigned)
                low = sum(min(coefficients[k] * ranges[k][0], coefficients[k] * ranges[k][1]) for k in left)
                high = sum(max(coefficients[k] * ranges[k][0], coefficients[k] * ranges[k][1]) for k in left)
                if not low <= rest <= high:
                    return False
                if len(left) == 1:
                    key = left[0]
                    value, remainder = divmod(rest, coefficients[key])
                    if remainder:
                        return False
                    assigned[key] = value
                    moved = True
        return True

    def solvable(assigned):
        assigned = dict(assigned)
        if not consistent(assigned):
            return False
        free = [key for key in hidden if key not in assigned]
        if not free:
            return True
        key = min(free, key=lambda k: ranges[k][1] - ranges[k][0])
        return any(solvable({**assigned, key: value}) for value in range(ranges[key][0], ranges[key][1] + 1))

    return {
        key: {value for value in range(5) if solvable({key: value})}
        for key in hidden
        if published[key] == '< 5'
    }


def assert_no_small_count_determined(published, relations, ceiling):
    for coefficients, constant in _equations(published, relations):
        if all(sign < 0 for sign in coefficients.values()):  # a shown total less its shown parts
            assert not 0 < -constant < 5, f'hidden parts add up to {-constant}: {published}'
    exact = determined_by_elimination(published, relations)
    assert not [key for key in exact if published[key] == '< 5'], exact
    values = feasible_values(published, relations, ceiling)
    for key, found in values.items():
        if published[key] == '< 5':
            assert len(found) >= 2, f'{key} can only be {found}: {published}'


def _suppress(cells, relations):
    from kaiku_registry.reports import suppress

    return suppress(cells, relations)


def test_the_outside_testers_subtraction_no_longer_works():
    """Total 8, culture 6, sport "< 5": sport was 8 − 6 = 2."""
    cells = {('figure', 'adult_uses'): 8, ('figure', 'child_uses'): 0, ('month', '2025-03'): 8}
    cells.update({('adults', s): {'culture': 6, 'sport': 2}.get(s, 0) for s in SECTORS})
    cells.update({('children', s): 0 for s in SECTORS})
    relations = relations_for(['2025-03'])
    published = _suppress(cells, relations)
    assert published['adults', 'sport'] == '< 5'
    assert published['adults', 'culture'] == '..' or published['figure', 'adult_uses'] == '..'
    assert_no_small_count_determined(published, relations, ceiling=8)


def test_a_total_minus_its_shown_months_no_longer_gives_the_hidden_months():
    months = ['2025-01', '2025-02', '2025-03', '2025-04']
    counts = [12, 2, 9, 1]
    cells = {('figure', 'adult_uses'): 24, ('figure', 'child_uses'): 0}
    cells.update({('month', m): c for m, c in zip(months, counts, strict=True)})
    cells.update({('adults', s): {'culture': 14, 'sport': 10}.get(s, 0) for s in SECTORS})
    cells.update({('children', s): 0 for s in SECTORS})
    relations = relations_for(months)
    published = _suppress(cells, relations)
    assert published['month', '2025-02'] == published['month', '2025-04'] == '< 5'
    assert_no_small_count_determined(published, relations, ceiling=24)


def test_the_attacker_finds_what_primary_suppression_alone_gives_away():
    """The attacker is not toothless: on figures with only "< 5" it finds the hidden count."""
    from kaiku_registry.reports import public_count

    cells = {('figure', 'adult_uses'): 8, ('figure', 'child_uses'): 0, ('month', '2025-03'): 8}
    cells.update({('adults', s): {'culture': 6, 'sport': 2}.get(s, 0) for s in SECTORS})
    cells.update({('children', s): 0 for s in SECTORS})
    published = {key: public_count(value) for key, value in cells.items()}
    relations = relations_for(['2025-03'])
    assert determined_by_elimination(published, relations) == {('adults', 'sport'): 2}
    with pytest.raises(AssertionError):
        assert_no_small_count_determined(published, relations, ceiling=8)


small = st.one_of(st.integers(0, 4), st.integers(0, 4), st.integers(5, 15))


@st.composite
def municipalities(draw):
    adults = {s: draw(small) for s in SECTORS}
    children = {s: draw(small) for s in SECTORS}
    total = sum(adults.values())
    n_months = draw(st.integers(1, 5))
    cuts = sorted(draw(st.lists(st.integers(0, total), min_size=n_months - 1, max_size=n_months - 1)))
    counts = [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]
    months = [f'2025-{i + 1:02d}' for i, count in enumerate(counts) if count]
    cells = {('figure', 'adult_uses'): total, ('figure', 'child_uses'): sum(children.values())}
    cells.update({('adults', s): n for s, n in adults.items()})
    cells.update({('children', s): n for s, n in children.items()})
    cells.update({('month', m): c for m, c in zip(months, [c for c in counts if c], strict=True)})
    return cells, months


@settings(max_examples=300, deadline=None)
@given(case=municipalities())
def test_no_hidden_small_count_can_be_worked_out(case):
    cells, months = case
    relations = relations_for(months)
    published = _suppress(cells, relations)
    for key, count in cells.items():
        if 0 < count < 5:
            assert published[key] == '< 5'
        elif isinstance(published[key], int):
            assert published[key] == count
    # The reader knows no upper bound of a ".." cell: search far enough above every published count
    # that a larger ceiling could only add solutions, not remove them.
    hidden = sum(1 for value in published.values() if isinstance(value, str))
    ceiling = max([v for v in published.values() if isinstance(v, int)], default=0) + 5 * hidden + 5
    assert_no_small_count_determined(published, relations, ceiling)


# Request level: the impact page --------------------------------------------------------------------
@pytest.fixture(scope='module')
def client(tmp_path_factory):
    from kaiku_registry import today
    from kaiku_registry.scripts import fill_demo
    from portal.testing import build_app, close_app

    app = build_app(str(tmp_path_factory.mktemp('suppression')))
    day = today()
    first = (day.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)  # last month's first day
    with edit_site(app) as site:
        registry = fill_demo(site['registry'], day, cards_per_issuer=10)
        city = registry.add_partner('Juupajoen kunta', 'municipality', 'Juupajoki', 'Pirkanmaa')
        issuer = registry.add_site(city, 'Sosiaalitoimi', 'issuer')
        venue = registry.add_site(city, 'Museo', 'venue')
        cards = [registry.issue_card(issuer, first, 1980, '35500', 0) for _ in range(8)]
        for card in cards[:6]:
            registry.record_visit(card, venue, day, 'culture')
        for card in cards[6:]:
            registry.record_visit(card, venue, first, 'sport')
    yield webtest.TestApp(app, extra_environ={'HTTP_HOST': 'example.com'})
    close_app(app)


def published_on_page(res):
    """Every figure of the page, keyed as the sums know them; a number or its mark."""

    def read(text):
        text = text.strip()
        return int(text) if text.isdigit() else text

    facts = [read(dd.text) for dd in res.html.select('dl.facts dd')]
    published = {
        ('figure', 'adult_uses'): facts[3],
        ('figure', 'child_uses'): facts[4],
    }
    tables = res.html.select('table')
    for row, sector in zip(tables[0].select('tbody tr'), SECTORS, strict=True):
        adults, children = row.select('td')
        published['adults', sector] = read(adults.text)
        published['children', sector] = read(children.text)
    months = []
    for row in tables[1].select('tbody tr'):
        month = row.select_one('th time')['datetime']
        months.append(month)
        published['month', month] = read(row.select_one('td').text)
    return published, months


def test_the_impact_page_cannot_be_differenced(client):
    res = client.get('/registry/impact?municipality=Juupajoki', status=200)
    published, months = published_on_page(res)
    assert published['adults', 'sport'] == '< 5'
    from kaiku_registry import today
    from kaiku_registry.models import month_of

    assert months[-1] == month_of(today()) and len(months) >= 2
    relations = relations_for(months)
    assert_no_small_count_determined(published, relations, ceiling=8)


@pytest.mark.parametrize('municipality', ['Juupajoki', 'Jyväskylä', 'Tampere'])
def test_every_demo_municipality_is_safe_and_its_chart_shows_what_its_table_shows(client, municipality):
    res = client.get('/registry/impact', params={'municipality': municipality}, status=200)
    published, months = published_on_page(res)
    ceiling = max([v for v in published.values() if isinstance(v, int)] + [8])
    assert_no_small_count_determined(published, relations_for(months), ceiling)
    labels = [t.text for t in res.html.select('figure svg text')]
    table = [str(published['month', m]) for m in months]
    assert labels[1::2] == table
    assert labels[0::2] == [th.get_text(strip=True) for th in res.html.select('table th time')]
    bars = [float(rect['width'].removesuffix('%')) for rect in res.html.select('figure svg rect')]
    assert all(width == 0 for width, shown in zip(bars, table, strict=True) if not shown.isdigit())


def test_the_page_says_which_method_is_used(client):
    res = client.get('/registry/impact?municipality=Juupajoki', status=200)
    assert 'secondary' in res.text or 'toissijai' in res.text or 'sekundär' in res.text


@pytest.mark.parametrize(
    ('lang', 'words'),
    [
        ('fi', ('toissijainen suojaus', 'henkilötunnus', 'Digi- ja väestötietoviraston', 'poistetaan')),
        ('sv', ('sekundär sekretessbehandling', 'personbeteckning', 'befolkningsdatas', 'raderas')),
        ('en', ('secondary suppression', 'identity code', 'Population Data Services Agency', 'erased')),
    ],
)
def test_the_privacy_notice_describes_the_guard_and_the_suppression(client, lang, words):
    res = client.get('/tietosuojaseloste/', params={'lang': lang}, status=200)
    for word in words:
        assert word in res.text, word
