"""The municipality table (portal/places.py and portal/data): its invariants and its lookups."""

import csv
from pathlib import Path

import pytest

DATA = Path(__file__).parent.parent / 'portal' / 'data'
#: Municipalities a region has in Statistics Finland's 2025 classification.
REGION_SIZES = {
    '01': 26, '02': 27, '04': 16, '05': 11, '06': 23, '07': 10, '08': 6, '09': 9, '10': 12,
    '11': 19, '12': 13, '13': 22, '14': 18, '15': 14, '16': 8, '17': 30, '18': 8, '19': 21, '21': 16,
}  # fmt: skip
UUSIMAA_COUNTIES = {'01': 7, '02': 6, '03': 10, '04': 2, '90': 1}


def _places():
    from portal import places

    return places


def _rows(name):
    with (DATA / name).open(encoding='utf-8', newline='') as f:
        return list(csv.DictReader(f))


def test_every_municipality_once_with_a_three_digit_code():
    rows = _rows('municipalities.csv')
    codes = [row['code'] for row in rows]
    assert len(rows) == 309  # 293 on the mainland and Åland's 16
    assert len(set(codes)) == len(codes)
    assert all(len(code) == 3 and code.isdigit() for code in codes)
    assert sum(1 for row in rows if row['region'] != '21') == 293


def test_each_region_has_its_municipalities_and_each_municipality_one_region():
    places = _places()
    assert {r.code for r in places.regions()} == set(REGION_SIZES)
    for code, size in REGION_SIZES.items():
        assert len(places.municipalities(region=code)) == size, code
    assert sum(len(places.municipalities(region=code)) for code in REGION_SIZES) == 309


def test_each_mainland_municipality_lies_in_one_wellbeing_services_county():
    places = _places()
    assert len(places.counties()) == 22  # 21 counties and the City of Helsinki
    mainland = [p for p in places.municipalities() if p.region.code != '21']
    assert all(p.county is not None for p in mainland)
    assert all(p.county is None for p in places.municipalities(region='21'))
    for code, size in UUSIMAA_COUNTIES.items():
        assert len(places.municipalities(county=code)) == size, code
    # Outside Uusimaa a county covers exactly its region's municipalities.
    for county in places.counties():
        regions = {p.region.code for p in places.municipalities(county=county.code)}
        assert len(regions) == 1, county.name_fi
        if regions != {'01'}:
            assert len(places.municipalities(county=county.code)) == REGION_SIZES[regions.pop()]


def test_no_two_places_share_a_name_even_without_diacritics():
    places = _places()
    seen = {}
    for place in places.municipalities():
        for name in {places.fold(place.name_fi), places.fold(place.name_sv)}:
            assert seen.setdefault(name, place.code) == place.code, name
    for table in (places.regions(), places.counties()):
        assert len({places.fold(a.name_fi) for a in table}) == len(table)
        assert len({places.fold(a.name_sv) for a in table}) == len(table)
        assert len({a.code for a in table}) == len(table)


@pytest.mark.parametrize(
    'fi, sv, region',
    [
        ('Helsinki', 'Helsingfors', 'Uusimaa'),
        ('Kajaani', 'Kajana', 'Kainuu'),
        ('Tampere', 'Tammerfors', 'Pirkanmaa'),
        ('Espoo', 'Esbo', 'Uusimaa'),
        ('Turku', 'Åbo', 'Varsinais-Suomi'),
        ('Vaasa', 'Vasa', 'Pohjanmaa'),
        ('Jyväskylä', 'Jyväskylä', 'Keski-Suomi'),
        ('Kuhmoinen', 'Kuhmoinen', 'Pirkanmaa'),
        ('Iitti', 'Iitti', 'Päijät-Häme'),
        ('Maarianhamina', 'Mariehamn', 'Ahvenanmaa'),
    ],
)
def test_official_names_and_regions(fi, sv, region):
    places = _places()
    place = places.municipality_named(fi)
    assert (place.name_fi, place.name_sv, place.region.name_fi) == (fi, sv, region)
    assert places.municipality_named(sv) is place
    assert places.municipality(place.code) is place


def test_lookup_ignores_case_and_diacritics_and_takes_codes():
    places = _places()
    assert places.municipality_named('JYVASKYLA').code == '179'
    assert places.municipality_named(' tammerfors ').code == '837'
    assert places.find_municipality('837').name_fi == 'Tampere'
    assert places.find_municipality('Tampere').code == '837'
    assert places.find_municipality('Atlantis') is None
    assert places.find_municipality(None) is None
    assert places.region_named('Mellersta Finland').code == '13'
    assert places.region_named('keski-suomi').code == '13'


def test_titles_and_choices_follow_the_language():
    places = _places()
    assert places.municipality_title('091', 'sv') == 'Helsingfors'
    assert places.municipality_title('091', 'en') == 'Helsinki'
    assert places.region_title('13', 'sv') == 'Mellersta Finland'
    assert places.county_title('90', 'fi') == 'Helsingin kaupunki'
    assert places.municipality_title('Atlantis') == 'Atlantis'
    choices = places.municipality_choices('fi')
    assert len(choices) == 309
    titles = [title for _code, title in choices]
    # Ä and Ö come after Z in Finnish and Swedish.
    assert titles[-2:] == ['Ähtäri', 'Äänekoski']
    swedish = [title for _code, title in places.municipality_choices('sv')]
    assert swedish[-4:] == ['Åbo', 'Äänekoski', 'Östermark', 'Övertorneå']
    assert titles.index('Ylöjärvi') < titles.index('Ähtäri')
    assert ('179', 'Jyväskylä') in places.municipality_choices('sv', region='13')
    assert len(places.municipality_choices('sv', region='13')) == 22


# The catalogue's venues choose their municipality from the table ---------------------------------------
@pytest.fixture
def editor(make_app):
    from portal.testing import TEST_PASSWORD, add_user, browser

    app = make_app(**{'portal.load_on_start': 'false'})
    add_user(app, 'editor', TEST_PASSWORD, roles=['Editor'])
    client = browser(app, 'editor')
    form = client.get('/@@add', params={'type': 'Folder'}).forms['edit-form']
    form['title'] = 'Materiaalit'
    form.submit('save', status=303)
    return client, app


def _venue_form(client):
    form = client.get('/materiaalit/@@add', params={'type': 'Venue'}).forms['edit-form']
    form['title'] = 'Museo'
    form['card_benefit'] = 'Ilmainen sisäänpääsy'
    next(box for box in form.fields['checkbox'] if box._value == 'museum').checked = True
    return form


@pytest.mark.usefixtures('english_interface')
def test_a_venue_takes_its_municipality_from_the_list_and_derives_the_rest(editor):
    from portal.testing import edit_site

    client, app = editor
    form = _venue_form(client)
    assert 'region' not in form.fields and 'wellbeing_county' not in form.fields
    options = {value: text for value, _selected, text in form['municipality'].options}
    assert len(options) == 1 + 309 and options['Tampere'] == 'Tampere'
    form['municipality'].force_value('Atlantis')
    res = form.submit('save', status=400)
    assert 'Choose a municipality from the list.' in res.text
    # A hand-made post with a region of its own still gets the municipality's.
    form = _venue_form(client)
    form['municipality'] = 'Tampere'
    fields = [*form.submit_fields('save'), ('region', 'Keski-Suomi'), ('wellbeing_county', 'X')]
    client.post(form.action, fields, status=303)
    with edit_site(app) as site:
        venue = site['materiaalit']['museo']
        assert (venue.municipality, venue.region, venue.wellbeing_county) == (
            'Tampere',
            'Pirkanmaa',
            'Pirkanmaan hyvinvointialue',
        )


def test_the_list_is_named_in_the_readers_language(editor):
    client, _app = editor
    form = client.get('/materiaalit/@@add', params={'type': 'Venue', 'lang': 'sv'}).forms['edit-form']
    options = {value: text for value, _selected, text in form['municipality'].options}
    assert options['Helsinki'] == 'Helsingfors' and options['Turku'] == 'Åbo'


@pytest.mark.usefixtures('english_interface')
def test_an_onboarding_workspace_names_its_municipality_from_the_list(make_app):
    from portal.testing import TEST_PASSWORD, add_user, browser

    app = make_app()
    add_user(app, 'admin', TEST_PASSWORD, roles=['Administrator'])
    admin = browser(app, 'admin')
    form = admin.get('/tyotilat/@@add', params={'type': 'Workspace'}).forms['edit-form']
    form['title'] = 'Kuopion työtila'
    form['guide'] = 'guides/kaikukortti-jyvaskyla'
    form['municipality'].force_value('Kuopion kaupunki')
    assert 'Choose a municipality from the list.' in form.submit('save', status=400).text
    form['municipality'] = 'Kuopio'
    form.submit('save', status=303)
