"""The estimator page, its CSV and the decision brief, driven through the real application.

The application is built on a content directory of its own: this branch's estimator and brief files plus a
small site, guides folder and guide made here, so the tests depend on no other content.
"""

import csv
import io
import os
import shutil

import pytest
import webtest

from portal.testing import REPO

ESTIMATOR = '/estimator/'
BRIEF = '/guides/kaikukortti-jyvaskyla-hyodyt-ja-kustannukset/'


def _write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        f.write(text)


def make_content(directory, with_guide=True):
    """This branch's content files, and a site and a guide for them to live in."""
    source = os.path.join(REPO, 'content')
    for name in os.listdir(source):
        if name.startswith('estimator'):
            shutil.copy(os.path.join(source, name), directory)
    os.makedirs(os.path.join(directory, 'guides'), exist_ok=True)
    for name in os.listdir(os.path.join(source, 'guides')):
        if name.startswith('kaikukortti-jyvaskyla-hyodyt-ja-kustannukset'):
            shutil.copy(os.path.join(source, 'guides', name), os.path.join(directory, 'guides'))
    _write(os.path.join(directory, '_index.md'), '---\ntype: Site\ntitle: Kaikukortti\n---\n')
    _write(os.path.join(directory, 'guides', '_index.md'), '---\ntype: Folder\ntitle: Oppaat\n---\n')
    if with_guide:
        guide = os.path.join(directory, 'guides', 'kaikukortti-jyvaskyla')
        _write(os.path.join(guide, '_index.md'), '---\ntype: Guide\ntitle: Opas\norder: [yksi, kaksi]\n---\n')
        _write(os.path.join(guide, 'yksi.md'), '---\ntype: Step\ntitle: Työpari\nwho: [culture]\n---\n')
        _write(os.path.join(guide, 'kaksi.md'), '---\ntype: Step\ntitle: Rahoitus\nwho: [sote_hyte]\n---\n')
        _write(os.path.join(guide, 'kaksi.sv.md'), '---\ntitle: Finansiering\n---\n')


def _client(tmp_path_factory, includes='kaiku_registry', with_guide=True):
    from portal.testing import build_app

    directory = tmp_path_factory.mktemp('site')
    content = directory / 'content'
    content.mkdir()
    make_content(str(content), with_guide)
    (directory / 'db').mkdir()
    app = build_app(
        str(directory / 'db'), **{'portal.content_dir': str(content), 'pyramid.includes': includes}
    )
    return webtest.TestApp(app, extra_environ={'HTTP_HOST': 'example.com'})


@pytest.fixture(scope='module')
def client(tmp_path_factory):
    from portal.testing import close_app

    client = _client(tmp_path_factory)
    yield client
    close_app(client.app)


@pytest.fixture(scope='module', params=['with plugin', 'without plugin'])
def any_client(request, tmp_path_factory):
    from portal.testing import close_app

    client = _client(tmp_path_factory, 'kaiku_registry' if request.param == 'with plugin' else '')
    yield client
    close_app(client.app)


def translated(msgid, lang):
    """``msgid`` as a page in ``lang`` shows it."""
    import gettext

    return gettext.translation('kaiku', os.path.join(REPO, 'portal', 'locale'), [lang]).gettext(msgid)


def result_cells(res, label):
    """The low, expected and high cells of a results-table row (``label`` is the English msgid)."""
    label = translated(label, res.html.find('html')['lang'])
    for row in res.html.select('table.results tbody tr'):
        if row.th.get_text(strip=True) == label:
            return [td.get_text(strip=True) for td in row.select('td')]
    raise AssertionError(f'no row {label!r}')


class TestEstimatorPage:
    def test_defaults_render_with_sources_and_results(self, client):
        res = client.get(ESTIMATOR, status=200)
        html = res.html
        assert html.find('h1').get_text() == 'Kustannus–hyötyarvio'
        assert html.select_one('form.estimator-form')['method'] == 'get'
        # Every input has a label, and its source text is tied to it.
        for field in html.select('form.estimator-form input[name]'):
            assert html.select_one(f'label[for="{field["id"]}"]') is not None
            for ref in field['aria-describedby'].split():
                assert html.find(id=ref) is not None
        assert 'Odotettu arvo: valtakunnallinen tilasto 2023' in html.find(id='src-activation').get_text()
        assert html.find(id='src-residents').select_one('.assumption') is not None
        assert html.find(id='src-activation').select_one('.assumption') is None
        # 50,000 × 12 % × 10 % = 600 cards; × 38 % × 9.1 = 2,075 uses (rounded).
        assert result_cells(res, 'Cards issued a year')[1] == '600'
        assert result_cells(res, 'Uses a year')[1] == '2\xa0075'
        assert html.select_one('table.results caption') is not None
        assert all(th.get('scope') for th in html.select('table.results th'))
        assert len(html.select('section.formulas li')) >= 8
        assert not html.select('.error-summary')

    def test_query_overrides_defaults_and_is_kept_in_the_form(self, client):
        res = client.get(ESTIMATOR + '?residents_low=100000&residents_expected=100000&residents_high=100000')
        assert res.html.find(id='in-residents_expected')['value'] == '100000'
        assert result_cells(res, 'Cards issued a year')[1] == '1\xa0200'
        assert res.html.select_one('.estimate-results .notice') is not None

    def test_form_submits_like_a_browser(self, client):
        form = client.get(ESTIMATOR).forms[1]
        form['uses_per_card_expected'] = '10'
        res = form.submit()
        assert res.status_int == 200
        assert 'uses_per_card_expected=10' in res.request.url
        assert result_cells(res, 'Uses a year')[1] == '2\xa0280'  # 228 activated × 10

    def test_english_and_swedish(self, client):
        res = client.get(ESTIMATOR + '?lang=en')
        assert res.html.find('h1').get_text() == 'Cost-benefit estimator'
        assert result_cells(res, 'Uses a year')[1] == '2,075'
        res = client.get(ESTIMATOR + '?lang=sv')
        assert res.html.find('h1').get_text() == 'Kostnads–nyttokalkyl'
        assert 'Statistikcentralen' in res.html.find(id='src-residents').get_text()


def test_estimator_is_on_the_home_page_but_not_in_the_main_navigation(client):
    home = client.get('/')
    assert not [a for a in home.html.select('nav.main-nav a') if a['href'].endswith(ESTIMATOR)]
    assert [a for a in home.html.select('ul.card-list a') if a['href'].endswith(ESTIMATOR)]
    listing = client.get('/guides/')
    assert [a for a in listing.html.select('main a') if a['href'].endswith(BRIEF)]


class TestValidation:
    BAD = '?residents_low=abc&tight_share_high=150&reach_share_low=-3&activation_low=50&sectors_sport=50'

    def test_errors_beside_fields_and_a_summary_with_links(self, client):
        res = client.get(ESTIMATOR + self.BAD + '&lang=en', status=200)
        html = res.html
        assert html.find('title').get_text().startswith('Error:')
        summary = html.select_one('.error-summary')
        assert summary['role'] == 'alert'
        links = [a['href'] for a in summary.select('a')]
        expected = [
            'residents_low',
            'tight_share_high',
            'reach_share_low',
            'activation_low',
            'sectors_culture',
        ]
        assert links == [f'#in-{key}' for key in expected]
        for link in links:
            assert html.find(id=link[1:]) is not None
        field = html.find(id='in-residents_low')
        assert field['aria-invalid'] == 'true'
        assert field['value'] == 'abc'
        assert 'err-residents_low' in field['aria-describedby'].split()
        assert 'Enter a number' in html.find(id='err-residents_low').get_text()
        assert 'at most 100' in html.find(id='err-tight_share_high').get_text()
        assert 'zero or more' in html.find(id='err-reach_share_low').get_text()
        assert 'low value may not be above' in html.find(id='err-activation').get_text()
        assert 'err-activation' in html.find(id='in-activation_high')['aria-describedby']
        assert '106' in html.find(id='err-sectors').get_text()
        assert html.find(id='in-tight_share_low').get('aria-invalid') is None
        assert not html.select('table.results')

    @pytest.mark.parametrize(
        'query',
        ['residents_low=nan', 'residents_low=inf', 'residents_expected=1e308', 'printing_high=' + '9' * 400,
         'hourly_cost_low=%00', 'residents_low=1&residents_low=x', 'sectors_sport=', 'unknown=1',
         'uses_per_card_low=0&uses_per_card_expected=0&uses_per_card_high=0'],
    )  # fmt: skip
    def test_odd_input_never_makes_a_500(self, client, query):
        res = client.get(f'{ESTIMATOR}?{query}', status=200)
        assert '<main id="main"' in res.text

    def test_zero_uses_shows_dashes_not_an_error(self, client):
        res = client.get(ESTIMATOR + '?reach_share_low=0&reach_share_expected=0&reach_share_high=0')
        assert result_cells(res, 'Direct cost per use') == ['–', '–', '–']

    def test_invalid_utf8_is_a_400(self, client):
        res = client.get(ESTIMATOR + '?residents_low=%ff', status=400)
        assert '<main id="main"' in res.text


class TestCsv:
    def test_inputs_and_outputs(self, client):
        res = client.get(ESTIMATOR + 'estimate.csv?lang=en', status=200)
        assert res.content_type == 'text/csv'
        assert res.headers['Content-Disposition'].startswith('attachment;')
        rows = list(csv.reader(io.StringIO(res.body.decode('utf-8-sig'))))
        assert rows[0] == ['Section', 'Figure', 'Low', 'Expected', 'High', 'Unit', 'Source']
        by_figure = {row[1]: row for row in rows[1:]}
        assert by_figure['Activation rate of cards'][2:5] == ['30', '38', '45']
        assert by_figure['Residents aged 16 or over'][6].startswith('Assumption.')
        assert by_figure['Cards issued a year'][3] == '600'
        assert by_figure['Uses a year'][3] == '2074.8'
        assert by_figure["The municipality's direct cost a year"][2:5] == ['9250', '21000', '52000']

    def test_brief_csv_has_both_sector_mixes(self, client):
        res = client.get(BRIEF + 'estimate.csv?lang=en', status=200)
        assert 'kaikukortti-jyvaskyla-hyodyt-ja-kustannukset.csv' in res.headers['Content-Disposition']
        rows = {row[1]: row for row in csv.reader(io.StringIO(res.body.decode('utf-8-sig')))}
        assert rows['Sector mix: Sport'][3] == '44'
        assert rows['Sector mix to compare with: Sport'][3] == '90'
        assert rows['Residents aged 16 or over'][2:5] == ['120000', '125000', '130000']

    def test_link_on_the_page_reproduces_the_inputs(self, client):
        page = client.get(ESTIMATOR + '?uses_per_card_expected=10')
        link = page.html.select_one('section.formulas a[href*="estimate.csv"]')['href']
        res = client.get(link.replace('http://example.com', ''))
        rows = {row[1]: row for row in csv.reader(io.StringIO(res.body.decode('utf-8-sig')))}
        assert rows['Uses per activated card a year'][3] == '10'

    def test_cells_that_look_like_formulas_are_neutralised(self):
        from portal.views.estimator import neutralise

        assert neutralise('=HYPERLINK("x")') == '\'=HYPERLINK("x")'
        assert neutralise('+1') == "'+1"
        assert neutralise('-1') == "'-1"
        assert neutralise('@SUM(A1)') == "'@SUM(A1)"
        assert neutralise('Oletus') == 'Oletus'

    def test_bad_figures_are_a_400(self, client):
        client.get(ESTIMATOR + 'estimate.csv?residents_low=abc', status=400)


class TestBrief:
    def test_renders_with_and_without_the_plugin(self, any_client):
        res = any_client.get(BRIEF, status=200)
        html = res.html
        assert html.find('h1').get_text() == 'Kaikukortti Jyväskylässä: hyödyt ja kustannukset'
        assert 'Kipinä' in html.select_one('.prose').get_text()
        assert html.select_one('.key-figures') is not None
        assert html.select_one('section.sector-scenario table caption') is not None
        assert len(html.select('section.funding tbody tr')) == 3

    @pytest.mark.parametrize(
        ('lang', 'words'), [('fi', ('vaihteluväli', 'Kaupunki')), ('sv', ('intervall', 'Staden'))]
    )
    def test_computed_phrases_are_translated(self, client, lang, words):
        """Phrases with values put in (ranges, the funding shares, the sector paragraph) were shown in
        English on Finnish and Swedish pages: the values must be named parts of the translated text."""
        try:
            text = client.get(BRIEF, params={'lang': lang}).html.select_one('main').get_text(' ')
        finally:
            client.get(BRIEF, params={'lang': 'fi'})  # the client is shared by the module's tests
        for english in ('(range', 'City ', 'county ', 'The number of uses is the same'):
            assert english not in text
        for word in words:
            assert word in text

    def test_lists_the_guide_steps(self, client):
        res = client.get(BRIEF)
        steps = res.html.select('section.brief-steps ol.steps li a')
        assert [a.get_text(strip=True) for a in steps] == ['Työpari', 'Rahoitus']
        guide_link = res.html.select_one('section.brief-steps p a')['href']
        assert guide_link == 'http://example.com/guides/kaikukortti-jyvaskyla/'

    def test_renders_without_the_guide(self, tmp_path_factory):
        from portal.testing import close_app

        client = _client(tmp_path_factory, with_guide=False)
        try:
            res = client.get(BRIEF, status=200)
            assert res.html.select_one('section.brief-steps') is None
            assert res.html.select_one('table.results') is not None
        finally:
            close_app(client.app)

    def test_jyvaskyla_figures_and_the_swimming_heavy_mix(self, client):
        res = client.get(BRIEF + '?lang=en')
        # 125,000 × 12 % × 10 % = 1,500 cards; × 38 % × 9.1 = 5,187 uses.
        assert result_cells(res, 'Cards issued a year')[1] == '1,500'
        assert result_cells(res, 'Uses a year')[1] == '5,187'
        rows = {
            row.th.get_text(strip=True): [td.get_text(strip=True) for td in row.select('td')]
            for row in res.html.select('section.sector-scenario tbody tr')
        }
        assert rows['Sport'] == ['44 %', '2,282', '90 %', '4,668']
        funding = [
            [td.strong.get_text() for td in row.select('td')]
            for row in res.html.select('section.funding tbody tr')
        ]
        assert funding == [['21,000 €', '0 €'], ['10,500 €', '10,500 €'], ['0 €', '21,000 €']]
        residents = res.html.find(id='src-residents').get_text()
        assert 'Assumption' in residents
        assert 'Statistics Finland' in residents

    def test_brief_form_covers_the_comparison_mix(self, client):
        res = client.get(BRIEF + '?compare_sectors_sport=80&compare_sectors_culture=17&lang=en')
        rows = {
            row.th.get_text(strip=True): [td.get_text(strip=True) for td in row.select('td')]
            for row in res.html.select('section.sector-scenario tbody tr')
        }
        assert rows['Sport'][2] == '80 %'
        bad = client.get(BRIEF + '?compare_sectors_sport=99', status=200)
        assert bad.html.find(id='err-compare_sectors') is not None

    def test_printable(self, client):
        res = client.get(BRIEF)
        assert res.html.select_one('link[rel=stylesheet][media=print]') is not None
        assert 'no-print' in res.html.select_one('form.estimator-form')['class']
        css = client.get('/static/print.css').text
        assert 'size: A4' in css
        assert '.estimator-form' in css
