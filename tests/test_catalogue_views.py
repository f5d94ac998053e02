"""Functional tests of the venue catalogue, its open data, site search, the sitemap and venue JSON-LD.

The tests build their own site (no initial content) with venues made here, so they do not depend on the
content files.
"""

import csv
import io
import json
import re
from urllib.parse import parse_qsl, urlsplit

import pytest
import transaction
import webtest

from portal.testing import build_app, close_app

pytestmark = pytest.mark.usefixtures('english_interface')


VENUES = [
    # name, title, state, categories, municipality, region, accessibility
    ('hietasarkan-uimahalli', 'Hietasarkan uimahalli', 'published', ('swimming',), 'Jyväskylä', 'Keski-Suomi',
     ('step_free',)),
    ('tervavaylan-museo', 'Tervaväylän museo', 'published', ('museum',), 'Kajaani', 'Kainuu',
     ('step_free', 'accessible_toilet')),
    ('kalastajakylan-museo', 'Kalastajakylän museo', 'published', ('museum',), 'Jyväskylä', 'Keski-Suomi',
     ()),
    ('kaupungin-teatteri', 'Kaupungin teatteri', 'published', ('theatre', 'music'), 'Kajaani', 'Kainuu',
     ('induction_loop',)),
    ('luonnos-museo', 'Luonnosmuseo', 'pending', ('museum',), 'Kajaani', 'Kainuu', ()),
    ('salainen-uimahalli', 'Salainen uimahalli', 'private', ('swimming',), 'Jyväskylä', 'Keski-Suomi', ()),
    ('kaava', '=HYPERLINK("http://evil.example","klikkaa") museo', 'published', ('other',), '@Kunta',
     '-Alue', ()),
]  # fmt: skip
FILLER = 23  # enough published venues for two pages


@pytest.fixture(scope='module')
def app(tmp_path_factory):
    app = build_app(str(tmp_path_factory.mktemp('catalogue')), **{'portal.load_on_start': 'false'})
    registry = app.registry
    types = registry.content_types
    db = registry._zodb_databases['']
    conn = db.open()
    site = conn.root()['site']
    site.update({'title': 'Kaikukortti'})
    venues = types['Folder'].create({'title': 'Kohteet'}, state='published')
    site.add('venues', venues, registry=registry)
    page = types['Page'].create({'title': 'Museokortti-ohje', 'body': 'Museoihin pääsee kortilla.'})
    page.state = 'published'
    site.add('ohje', page, registry=registry)
    hidden = types['Page'].create({'title': 'Salainen museosivu'}, state='private')
    site.add('salainen', hidden, registry=registry)
    for name, title, state, categories, municipality, region, access in VENUES:
        venue = types['Venue'].create(
            {
                'title': title,
                'description': f'{title}: kuvaus.',
                'card_benefit': '+Maksuton lippu',
                'categories': categories,
                'municipality': municipality,
                'region': region,
                'accessibility': access,
                'phone': '+358 40 123 4567',
                'latitude': 62.24,
                'longitude': 25.75,
                'street_address': 'Katu 1',
                'postcode': '40100',
            },
            state=state,
        )
        venues.add(name, venue, registry=registry)
    swedish = venues['hietasarkan-uimahalli']
    swedish.set_texts('sv', {'title': 'Sandbackens simhall', 'description': 'En simhall i Jyväskylä.'})
    for n in range(FILLER):
        venue = types['Venue'].create(
            {
                'title': f'Täytekohde {n:02d}',
                'categories': ('sport',),
                'municipality': 'Oulu',
                'region': 'Pohjois-Pohjanmaa',
            },
            state='published',
        )
        venues.add(f'taytekohde-{n:02d}', venue, registry=registry)
    from portal.events import ObjectModified, notify

    notify(ObjectModified(swedish, ('title', 'description')), registry)
    transaction.commit()
    conn.close()
    yield app
    close_app(app)


@pytest.fixture
def testapp(app):
    return webtest.TestApp(app, extra_environ={'HTTP_HOST': 'example.com'})


def result_urls(res):
    return [a['href'] for a in res.html.select('.results .listing-title a')]


def as_json(testapp, query):
    return testapp.get('/venues/search.json', params=query).json


def as_csv(testapp, query):
    """The venues of a search as a program reads them: plain CSV, field names as headers."""
    res = testapp.get('/venues/search.csv', params={**query, 'dialect': 'plain'})
    return list(csv.DictReader(io.StringIO(res.body.decode('utf-8'))))


def error_text(res):
    return ' '.join(res.html.select_one('main').get_text().split())


class TestCatalogue:
    def test_lists_published_venues_twenty_a_page(self, testapp):
        res = testapp.get('/venues/')
        assert len(result_urls(res)) == 20
        status = res.html.select_one('[role=status]')
        assert status.get_text().strip().startswith('28')
        nav = res.html.select_one('nav.pagination')
        assert nav['aria-label']
        assert nav.select_one('[aria-current=page]').get_text().split()[-1] == '1'
        second = testapp.get('/venues/', params={'page': '2'})
        assert len(result_urls(second)) == 8
        assert not set(result_urls(res)) & set(result_urls(second))

    def test_form_works_without_javascript(self, testapp):
        res = testapp.get('/venues/')
        form = res.forms[1]
        assert form.method.lower() == 'get'
        form['q'] = 'museoihin'
        form['category'] = ['museum']
        result = form.submit()
        urls = result_urls(result)
        assert 'http://example.com/venues/tervavaylan-museo/' in urls
        assert all('museo' in url for url in urls)
        assert 'q=museoihin' in result.request.url

    def test_stemmed_queries(self, testapp):
        for q in ('uimahalliin', 'uimahallit', 'uimahalli'):
            assert result_urls(testapp.get('/venues/', params={'q': q})) == [
                'http://example.com/venues/hietasarkan-uimahalli/'
            ]
        urls = result_urls(testapp.get('/venues/', params={'q': 'simhallen'}))
        assert urls == ['http://example.com/venues/hietasarkan-uimahalli/']

    def test_facet_links_narrow_and_counts_agree(self, testapp):
        res = testapp.get('/venues/', params={'q': 'museo'})
        links = res.html.select('.facets a')
        assert links
        for link in links:
            count = int(re.search(r'\((\d+)\)', link.get_text()).group(1))
            url = urlsplit(link['href'])
            narrowed = testapp.get(url.path, params=parse_qsl(url.query))
            total = int(narrowed.html.select_one('[role=status]').get_text().split()[0])
            assert total == count, link['href']

    def test_json_facets_agree_with_results(self, testapp):
        """Each facet is named by the parameter that filters by it, so a client follows it as it is."""
        data = as_json(testapp, {'q': 'museo'})
        for facet, values in data['facets'].items():
            for entry in values:
                narrowed = as_json(testapp, {'q': 'museo', facet: entry['value']})
                assert narrowed['total'] == entry['count'], (facet, entry)

    def test_no_results_says_what_to_try(self, testapp):
        res = testapp.get('/venues/', params={'q': 'olematonsana'})
        assert res.html.select_one('[role=status]').get_text().strip().startswith('0')
        assert res.html.select_one('.no-results li')
        assert not result_urls(res)

    def test_unknown_municipality_is_an_empty_result(self, testapp):
        res = testapp.get('/venues/', params={'municipality': 'Atlantis'})
        assert not result_urls(res)


class TestVisibility:
    HIDDEN = ('luonnos-museo', 'salainen-uimahalli')

    def test_draft_and_private_never_shown_to_anonymous(self, testapp):
        for q in ('', 'museo', 'uimahalli', 'luonnosmuseo', 'salainen'):
            query = {'q': q} if q else {}
            html_urls, json_urls, csv_urls = [], [], []
            for page in range(1, as_json(testapp, query)['pages'] + 1):
                paged = {**query, 'page': page}
                html_urls += result_urls(testapp.get('/venues/', params=paged))
                json_urls += [item['url'] for item in as_json(testapp, paged)['items']]
                csv_urls += [row['url'] for row in as_csv(testapp, paged)]
            html_urls, json_urls, csv_urls = ' '.join(html_urls), ' '.join(json_urls), ' '.join(csv_urls)
            for name in self.HIDDEN:
                assert name not in html_urls
                assert name not in json_urls
                assert name not in csv_urls
        assert as_json(testapp, {'q': 'luonnosmuseo'})['total'] == 0

    def test_facet_counts_leave_out_hidden_venues(self, testapp):
        facets = as_json(testapp, {'category': 'swimming'})['facets']
        assert facets['category'] == [{'value': 'swimming', 'count': 1}]

    def test_site_search_shows_published_items_only(self, testapp):
        res = testapp.get('/search', params={'q': 'salainen'})
        assert not res.html.select('.listing a')
        res = testapp.get('/search', params={'q': 'museoihin'})
        urls = [a['href'] for a in res.html.select('.listing-title a')]
        assert 'http://example.com/ohje/' in urls
        assert 'http://example.com/venues/tervavaylan-museo/' in urls
        assert not [url for url in urls if 'salainen' in url or 'luonnos' in url]


class TestOpenData:
    def test_json_csv_and_html_carry_the_same_items(self, testapp):
        for query in ({}, {'q': 'museo'}, {'page': '2'}, {'region': 'Kainuu', 'sort': 'newest'}):
            html = result_urls(testapp.get('/venues/', params=query))
            data = as_json(testapp, query)
            assert [item['url'] for item in data['items']] == html
            assert [row['url'] for row in as_csv(testapp, query)] == html

    def test_json_fields(self, testapp):
        data = as_json(testapp, {'q': 'tervaväylän'})
        assert data['total'] == 1
        assert data['page'] == 1
        item = data['items'][0]
        assert item['title'] == 'Tervaväylän museo'
        assert item['categories'] == ['museum']
        assert item['accessibility'] == ['step_free', 'accessible_toilet']
        assert item['latitude'] == 62.24
        assert item['url'] == 'http://example.com/venues/tervavaylan-museo/'
        assert set(data['facets']) == {'region', 'municipality', 'category', 'access'}

    @pytest.mark.parametrize(
        ('lang', 'headers', 'museum', 'step_free', 'yes'),
        [
            ('fi', ('Otsikko', 'Leveysaste', 'Lasten liput'), 'Museo', 'Esteetön kulku', 'Kyllä'),
            ('sv', ('Rubrik', 'Latitud', 'Barnbiljetter'), 'Museum', None, 'Ja'),
        ],
    )
    def test_csv_for_people_is_in_their_spreadsheet_dialect_and_words(
        self, testapp, lang, headers, museum, step_free, yes
    ):
        res = testapp.get('/venues/search.csv', params={'q': 'tervaväylän', 'lang': lang})
        text = res.body.decode('utf-8')
        assert text.startswith('\ufeff')
        header, row = list(csv.reader(io.StringIO(text[1:]), delimiter=';'))
        cells = dict(zip(header, row, strict=True))
        title, latitude, child_tickets = headers
        assert cells[title] == 'Tervaväylän museo'
        assert cells[latitude] == '62,24'
        assert museum in row
        assert cells[child_tickets] == yes
        if step_free:
            assert step_free in ' '.join(row)
        assert 'museum' not in row and 'true' not in row

    def test_csv_for_programs_keeps_field_names_and_stored_values(self, testapp):
        res = testapp.get('/venues/search.csv', params={'q': 'tervaväylän', 'dialect': 'plain'})
        assert not res.body.startswith('\ufeff'.encode())
        row = next(csv.DictReader(io.StringIO(res.body.decode('utf-8'))))
        assert (row['latitude'], row['categories'], row['child_tickets']) == ('62.24', 'museum', 'true')
        testapp.get('/venues/search.csv', params={'dialect': 'excel'}, status=400)

    def test_csv_is_utf8_with_header_and_neutralised_formulas(self, testapp):
        res = testapp.get('/venues/search.csv', params={'q': 'hyperlink'})
        assert res.content_type == 'text/csv'
        assert res.charset.lower() == 'utf-8'
        assert 'attachment' in res.headers['Content-Disposition']
        rows = as_csv(testapp, {'q': 'hyperlink'})
        assert len(rows) == 1
        row = rows[0]
        assert row['title'].startswith("'=HYPERLINK")
        assert row['municipality'] == "'@Kunta"
        assert row['region'] == "'-Alue"
        assert row['card_benefit'] == "'+Maksuton lippu"
        for value in row.values():
            assert not value.startswith(('=', '+', '-', '@'))

    def test_csv_keeps_finnish_letters(self, testapp):
        rows = as_csv(testapp, {'q': 'tervaväylän'})
        assert rows[0]['title'] == 'Tervaväylän museo'


class TestBadInput:
    @pytest.mark.parametrize(
        ('query', 'message'),
        [
            ({'category': 'nope'}, 'nope'),
            ({'access': 'wings'}, 'wings'),
            ({'q': 'a' * 201}, '200'),
            ({'page': 'abc'}, 'page'),
            ({'page': '0'}, 'page'),
            ({'page': '-1'}, 'page'),
            ({'page': '99999999999'}, 'page'),
            ({'page': '٣'}, 'page'),
            ({'page': '3'}, '2'),
            ({'sort': 'random'}, 'sort'),
            ({'lang': 'de'}, 'language'),
            ({'region': 'x' * 101}, '100'),
            ([('q', 'museo'), ('q', 'teatteri')], 'q'),
            ([('region', 'Kainuu'), ('region', 'Keski-Suomi')], 'region'),
            ([('page', '1'), ('page', '2')], 'page'),
        ],
    )
    @pytest.mark.parametrize('path', ['/venues/', '/venues/search.json', '/venues/search.csv'])
    def test_is_a_400_that_says_what_was_wrong(self, testapp, path, query, message):
        res = testapp.get(path, params=query, status=400)
        assert message.lower() in error_text(res).lower()

    @pytest.mark.parametrize(
        'q',
        [
            '\x00museo',
            'museo\u200f',
            '\u202emuseo',
            'müseö',
            'museo 🎭',
            'e\u0301',
            '\ufeff',
            '(museo OR',
            '"',
        ],
    )
    def test_odd_unicode_is_a_sensible_result(self, testapp, q):
        res = testapp.get('/venues/', params={'q': q})
        assert res.html.select_one('[role=status]')
        assert testapp.get('/venues/search.json', params={'q': q}).json['total'] >= 0
        testapp.get('/search', params={'q': q}, status=200)

    def test_control_characters_are_removed(self, testapp):
        assert as_json(testapp, {'q': '\x00museo\x07'})['total'] == as_json(testapp, {'q': 'museo'})['total']

    def test_invalid_utf8_is_a_400(self, testapp):
        res = testapp.get('/venues/?q=%C3%28', status=400)
        assert 'UTF-8' in error_text(res)

    @pytest.mark.parametrize(
        'query',
        [
            {'type': 'nope'},
            {'q': 'x' * 300},
            {'page': 'x'},
            [('q', 'a'), ('q', 'b')],
            {'q': 'museo', 'page': '9'},
        ],
    )
    def test_site_search_bad_input(self, testapp, query):
        testapp.get('/search', params=query, status=400)


class TestSiteSearch:
    def test_type_filter(self, testapp):
        res = testapp.get('/search', params={'q': 'museoihin', 'type': 'page'})
        urls = [a['href'] for a in res.html.select('.listing-title a')]
        assert urls == ['http://example.com/ohje/']

    def test_search_box_in_every_page_header(self, testapp):
        res = testapp.get('/venues/')
        form = res.forms[0]
        assert form.action.endswith('/search')
        form['q'] = 'uimahalliin'
        result = form.submit()
        assert 'http://example.com/venues/hietasarkan-uimahalli/' in [
            a['href'] for a in result.html.select('.listing-title a')
        ]


class TestSeo:
    def test_sitemap_lists_published_items_from_the_catalog(self, testapp):
        text = testapp.get('/sitemap.xml').text
        assert '<loc>http://example.com/venues/tervavaylan-museo/</loc>' in text
        assert '<loc>http://example.com/ohje/</loc>' in text
        assert 'luonnos' not in text
        assert 'salainen' not in text

    def test_venue_json_ld(self, testapp):
        res = testapp.get('/venues/tervavaylan-museo/')
        script = res.html.select_one('script[type="application/ld+json"]')
        data = json.loads(script.string)
        assert data['@type'] == 'Museum'
        assert data['address']['addressLocality'] == 'Kajaani'
        assert data['geo'] == {'@type': 'GeoCoordinates', 'latitude': 62.24, 'longitude': 25.75}

    def test_json_ld_cannot_close_the_script(self, testapp):
        res = testapp.get('/venues/kaava/')
        script = res.html.select_one('script[type="application/ld+json"]')
        assert '<' not in script.string
        assert json.loads(script.string)['name'].startswith('=HYPERLINK')


@pytest.mark.parametrize(
    ('query', 'said'),
    [
        ('lang=sv&category=museum&access=step_free', '(2 valda)'),
        ('lang=sv&category=museum', '(1 vald)'),
        ('lang=fi&category=museum&category=theatre&access=step_free', '(3 valittu)'),
        ('lang=en&access=step_free', '(1 chosen)'),
        ('lang=fi', None),
    ],
)
def test_the_folded_choices_say_how_many_are_chosen(testapp, query, said):
    res = testapp.get(f'/venues/?{query}')
    summary = res.html.select_one('.search-choices > summary')
    count = summary.select_one('.chosen-count')
    assert (count.get_text(strip=True) if count else None) == said
    assert summary.get_text(' ', strip=True).startswith(
        {'sv': 'Kategori och', 'fi': 'Luokka ja', 'en': 'Category and'}[query[5:7]]
    )
