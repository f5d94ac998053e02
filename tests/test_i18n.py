"""Language negotiation: ?lang=, the cookie it leaves, Accept-Language, and <html lang>."""

import pytest
import webtest


def html_lang(res):
    return res.html.find('html')['lang']


def test_finnish_by_default(testapp):
    assert html_lang(testapp.get('/')) == 'fi'


def test_lang_parameter_switches_and_is_remembered(app):
    client = webtest.TestApp(app, extra_environ={'HTTP_HOST': 'example.com'})
    res = client.get('/?lang=sv')
    assert html_lang(res) == 'sv'
    cookie = res.headers['Set-Cookie']
    assert 'lang=sv' in cookie
    assert 'HttpOnly' in cookie
    assert 'SameSite=Lax' in cookie
    assert html_lang(client.get('/kaikukortti/')) == 'sv'
    assert html_lang(client.get('/kaikukortti/?lang=en')) == 'en'
    assert html_lang(client.get('/')) == 'en'


def test_accept_language_decides_without_cookie(testapp):
    res = testapp.get('/', headers={'Accept-Language': 'sv-FI,sv;q=0.9,en;q=0.5'})
    assert html_lang(res) == 'sv'
    res = testapp.get('/', headers={'Accept-Language': 'de-DE,de;q=0.9'})
    assert html_lang(res) == 'fi'


def test_unknown_language_is_ignored(testapp):
    res = testapp.get('/?lang=xx')
    assert html_lang(res) == 'fi'
    assert 'Set-Cookie' not in res.headers


def test_translated_content_is_shown_and_untranslated_is_marked(testapp):
    res = testapp.get('/kaikukortti/?lang=sv')
    h1 = res.html.find('h1')
    assert h1.get('lang') is None  # the page has a Swedish translation
    venue_link = testapp.get('/venues/?lang=sv').html.select_one('.listing a')
    assert venue_link['lang'] == 'fi'  # venues are in Finnish only: marked as such


def test_language_switcher_keeps_the_page_and_parameters(testapp):
    res = testapp.get('/venues/?page=2')
    links = {a['hreflang']: a['href'] for a in res.html.select('nav.languages a')}
    assert links['sv'] == 'http://example.com/venues/?page=2&lang=sv'
    assert res.html.select_one('nav.languages a[aria-current]')['hreflang'] == 'fi'


@pytest.mark.parametrize(
    ('lang', 'one', 'many'),
    [('fi', '1 kohde löytyi', 'kohdetta löytyi'), ('sv', '1 plats hittades', 'platser hittades')],
)
def test_the_catalogue_counts_in_the_readers_language_with_plurals(app, lang, one, many):
    from portal.testing import browser, edit_site

    with edit_site(app) as site:
        venues = site.get('venues')
        names = list(venues.keys()) if venues is not None else []
    if len(names) < 2:
        pytest.skip('the initial content has fewer than two venues')
    client = browser(app)
    everything = client.get(f'/venues/?lang={lang}').html.select_one('.count').get_text(strip=True)
    assert everything.endswith(many) and 'found' not in everything
    title = client.get(f'/venues/{names[0]}/?lang={lang}').html.h1.get_text(strip=True)
    single = client.get('/venues/', params={'lang': lang, 'q': f'"{title}"'}).html.select_one('.count')
    counted = single.get_text(strip=True)
    assert counted == one or counted.endswith(many)
