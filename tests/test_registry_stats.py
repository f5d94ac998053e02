"""The coordinators' statistics page and its download (:mod:`kaiku_registry.pages.reports`): filters
within the requester's area, refusals that say why, the CSV of cards and uses per area and month in the
reader's spreadsheet dialect and language, and the links to the public impact page."""

import csv
import io

import pytest
import webtest

from portal.clock import today
from portal.testing import TEST_PASSWORD, add_user, edit_site, log_in

KESKI_SUOMI = ['Jyväskylä', 'Jämsä', 'Äänekoski']


@pytest.fixture(scope='module')
def world(tmp_path_factory):
    from kaiku_registry.scripts import fill_demo
    from portal.testing import build_app, close_app

    app = build_app(str(tmp_path_factory.mktemp('stats')))
    with edit_site(app) as site:
        registry = site['registry']
        fill_demo(registry, today(), cards_per_issuer=6)
        registry.set_area('coord_jkl', 'municipality', 'Jyväskylä')
        registry.set_area('coord_ks', 'region', 'Keski-Suomi')
    for login, roles in (
        ('coord_jkl', ['Coordinator']),
        ('coord_ks', ['Coordinator']),
        ('national', ['NationalAdmin']),
    ):
        add_user(app, login, TEST_PASSWORD, roles=roles)
    yield app
    close_app(app)


def client(world, login):
    app = webtest.TestApp(world, extra_environ={'HTTP_HOST': 'example.com'})
    log_in(app, login, TEST_PASSWORD)
    return app


def options(res, name):
    return [option['value'] for option in res.html.select(f'select#{name} option') if option['value']]


# Filters within the area ------------------------------------------------------------------------------
def test_a_regional_coordinator_is_offered_their_region_and_its_municipalities_only(world):
    res = client(world, 'coord_ks').get('/registry/stats', status=200)
    assert options(res, 'region') == ['Keski-Suomi']
    assert options(res, 'municipality') == KESKI_SUOMI


def test_a_municipal_coordinator_is_offered_their_municipality_only(world):
    res = client(world, 'coord_jkl').get('/registry/stats', status=200)
    assert res.html.select_one('select#region') is None
    assert options(res, 'municipality') == ['Jyväskylä']
    assert res.html.select_one('#municipality option[selected]')['value'] == 'Jyväskylä'


def test_a_national_admin_is_offered_every_area_with_sites(world):
    res = client(world, 'national').get('/registry/stats', status=200)
    assert options(res, 'region') == ['Keski-Suomi', 'Pirkanmaa']
    assert options(res, 'municipality') == sorted([*KESKI_SUOMI, 'Nokia', 'Tampere'])


@pytest.mark.parametrize(
    ('login', 'params', 'named'),
    [
        ('coord_ks', {'municipality': 'Tampere'}, 'Tampere'),
        ('coord_ks', {'region': 'Pirkanmaa'}, 'Pirkanmaa'),
        ('coord_jkl', {'municipality': 'Äänekoski'}, 'Äänekoski'),
        ('national', {'municipality': 'Nowhere'}, 'Nowhere'),
    ],
)
def test_a_choice_outside_the_area_is_refused_with_a_message_not_ignored(world, login, params, named):
    app = client(world, login)
    res = app.get('/registry/stats', params=params, status=400)
    notice = res.html.select_one('.notice[role=alert]').get_text(strip=True)
    assert notice == f'Alue {named} ei kuulu niihin, joiden lukuja voit katsoa. Valitse alue luettelosta.'
    assert named not in [o.get_text() for o in res.html.select('select option[selected]')]
    refused = app.get('/registry/stats.csv', params=params, status=400)
    assert 'ei kuulu niihin' in refused.text


def test_a_municipality_outside_the_chosen_region_is_refused(world):
    res = client(world, 'national').get(
        '/registry/stats', params={'region': 'Pirkanmaa', 'municipality': 'Jyväskylä'}, status=400
    )
    assert res.html.select_one('.notice').get_text(strip=True) == 'Jyväskylä ei kuulu maakuntaan Pirkanmaa.'


# The download ------------------------------------------------------------------------------------------
def read_csv(res, delimiter):
    return list(csv.reader(io.StringIO(res.body.decode('utf-8-sig')), delimiter=delimiter))


def test_the_download_gives_cards_and_uses_per_area_and_month_in_the_finnish_spreadsheet_dialect(world):
    from kaiku_registry.reports import summary

    res = client(world, 'coord_ks').get('/registry/stats.csv', status=200)
    assert res.content_type == 'text/csv'
    assert res.body.startswith('\ufeff'.encode())
    rows = read_csv(res, ';')
    header, body = rows[0], rows[1:]
    assert header[:7] == [
        'Kuukausi', 'Maakunta', 'Kunta', 'Rekisteröidyt kortit', 'Ensimmäistä kertaa käytetyt kortit',
        'Nyt voimassa olevat kortit', 'Kortit, joiden voimassaolo päättyy kuukauden aikana',
    ]  # fmt: skip
    assert 'Aikuisten käyttökerrat: Liikunta' in header
    assert {row[2] for row in body} == set(KESKI_SUOMI)
    assert [(row[0], row[2]) for row in body] == sorted((row[0], row[2]) for row in body)
    with edit_site(world) as site:  # read while the connection is open
        figures_of = {m: summary(site['registry'], today(), municipality=m) for m in KESKI_SUOMI}
    for municipality in KESKI_SUOMI:
        mine = [row for row in body if row[2] == municipality]
        figures = figures_of[municipality]
        assert sum(int(row[3]) for row in mine) == figures['cards']
        assert sum(int(row[4]) for row in mine) == figures['activated']
        adults = [i for i, title in enumerate(header) if title.startswith('Aikuisten')]
        assert sum(int(row[i]) for row in mine for i in adults) == figures['adult_uses']
        this_month = [row for row in mine if row[0] == today().strftime('%Y-%m')]
        assert [row[5] for row in this_month] in ([str(figures['active_now'])], [])
        assert all(row[5] == '' for row in mine if row[0] != today().strftime('%Y-%m'))


def test_the_download_for_programs_is_plain_csv_and_for_swedish_readers_in_swedish(world):
    app = client(world, 'coord_jkl')
    plain = app.get('/registry/stats.csv', params={'dialect': 'plain', 'lang': 'sv'}, status=200)
    assert not plain.body.startswith('\ufeff'.encode())
    rows = read_csv(plain, ',')
    assert rows[0][:3] == ['Månad', 'Landskap', 'Kommun']
    assert {row[2] for row in rows[1:]} == {'Jyväskylä'}
    app.get('/registry/stats.csv', params={'dialect': 'excel'}, status=400)


def test_the_statistics_page_links_the_downloads_and_the_public_impact_page(world):
    res = client(world, 'coord_jkl').get('/registry/stats', status=200)
    links = [a['href'] for a in res.html.select('main a')]
    assert 'http://example.com/registry/stats.csv?municipality=J%C3%A4ms%C3%A4' not in links
    assert 'http://example.com/registry/stats.csv?municipality=Jyv%C3%A4skyl%C3%A4' in links
    assert 'http://example.com/registry/stats.csv?municipality=Jyv%C3%A4skyl%C3%A4&dialect=plain' in links
    impact = next(href for href in links if '/registry/impact' in href)
    assert webtest.TestApp(world, extra_environ={'HTTP_HOST': 'example.com'}).get(impact, status=200)


def test_the_front_page_links_the_public_impact_page(world):
    for lang in ('fi', 'sv', 'en'):
        res = webtest.TestApp(world, extra_environ={'HTTP_HOST': 'example.com'}).get(
            '/', params={'lang': lang}
        )
        assert res.html.select_one('main a[href="/registry/impact"]') is not None, lang


# The demo data -------------------------------------------------------------------------------------------
def test_demo_partners_are_named_with_the_genitive_of_their_municipality(world):
    with edit_site(world) as site:  # read while the connection is open
        cities = sorted(p.name for p in site['registry'].partners.values() if p.kind == 'municipality')
    assert cities == [
        'Jyväskylän kaupunki (demo)', 'Jämsän kaupunki (demo)', 'Nokian kaupunki (demo)',
        'Tampereen kaupunki (demo)', 'Äänekosken kaupunki (demo)',
    ]  # fmt: skip


@pytest.mark.parametrize(('lang', 'december'), [('fi', 'joulukuu'), ('sv', 'december')])
def test_months_are_named_in_the_readers_language_on_the_statistics_and_impact_pages(world, lang, december):
    from kaiku_registry.models import month_of

    this_month = month_of(today())
    named = {this_month: None}
    anonymous = webtest.TestApp(world, extra_environ={'HTTP_HOST': 'example.com'})
    for app, path, params in (
        (client(world, 'coord_ks'), '/registry/stats', {}),
        (anonymous, '/registry/impact', {'municipality': 'Jämsä'}),
    ):
        res = app.get(path, params={**params, 'lang': lang}, status=200)
        rows = {time['datetime']: time.get_text(strip=True) for time in res.html.select('table th time')}
        assert rows[this_month].endswith(str(today().year)) and not rows[this_month][0].isdigit()
        named[this_month] = named[this_month] or rows[this_month]
        assert rows[this_month] == named[this_month]
        labels = [text.get_text() for text in res.html.select('figure svg text')][0::2]
        assert labels == list(rows.values()), 'the chart names the months as the table does'
    from portal.clock import show_month

    assert show_month('2026-12', lang) == f'{december} 2026'


def test_places_are_named_in_swedish_for_swedish_readers(world):
    res = client(world, 'national').get('/registry/stats', params={'lang': 'sv'}, status=200)
    titles = {
        o['value']: o.get_text(strip=True)
        for o in res.html.select('select#municipality option')
        if o['value']
    }
    assert titles['Tampere'] == 'Tammerfors'
    assert list(titles.values()) == ['Jyväskylä', 'Jämsä', 'Nokia', 'Tammerfors', 'Äänekoski']
    assert res.html.select_one('select#region option[value="Pirkanmaa"]').get_text(strip=True) == 'Birkaland'
    rows = [th.get_text(strip=True) for th in res.html.select('table th[scope=row]')]
    assert 'Tammerfors' in rows and 'Tampere' not in rows
    impact = webtest.TestApp(world, extra_environ={'HTTP_HOST': 'example.com'}).get(
        '/registry/impact', params={'municipality': 'Tampere', 'lang': 'sv'}, status=200
    )
    assert impact.html.select_one('main h2').get_text(strip=True) == 'Tammerfors'
    spreadsheet = client(world, 'national').get('/registry/stats.csv', params={'lang': 'sv'})
    assert ';Birkaland;Tammerfors;' in spreadsheet.body.decode('utf-8-sig')
    plain = client(world, 'national').get('/registry/stats.csv', params={'lang': 'sv', 'dialect': 'plain'})
    assert ',Pirkanmaa,Tampere,' in plain.text
