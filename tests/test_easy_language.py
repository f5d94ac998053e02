"""The easy-to-read page (selkosuomi, lättläst svenska, easy English): reached from the front page and the
holder's page in each language, in that language, and stating the card's rules as the other pages do."""

import pytest

EASY = {
    'fi': ('Kaikukortti selkosuomeksi', ['16-vuotias', 'lastenlapse', 'syntymävuotesi', 'Kursseille']),
    'sv': ('Kaikukortet på lättläst svenska', ['16 år', 'barnbarn', 'födelseår', 'kurser']),
    'en': ('Kaikukortti in easy English', ['16 or older', 'grandchildren', 'year of birth', 'courses']),
}


@pytest.mark.parametrize('lang', sorted(EASY))
def test_the_front_page_and_the_holders_page_lead_to_the_easy_page_in_their_language(testapp, lang):
    title, _facts = EASY[lang]
    for start in ('/', '/kortinhaltijalle'):
        page = testapp.get(start, params={'lang': lang}, status=200)
        links = [a for a in page.html.select('main a') if a['href'].rstrip('/').endswith('/selkokieli')]
        assert links, f'{start} ({lang}) has no link to the easy-to-read page'
    easy = testapp.get('/selkokieli', params={'lang': lang}, status=200)
    assert easy.html.select_one('h1').get_text(strip=True) == title
    assert easy.html.select_one('html')['lang'].startswith(lang)


@pytest.mark.parametrize('lang', sorted(EASY))
def test_the_easy_page_states_the_rules_and_is_not_in_the_menu(testapp, lang):
    _title, facts = EASY[lang]
    easy = testapp.get('/selkokieli', params={'lang': lang}, status=200)
    text = easy.html.select_one('main').get_text(' ')
    missing = [fact for fact in facts if fact not in text]
    assert not missing, f'the {lang} easy page leaves out {missing}'
    # Its own links work: the venues, the holder's own card page and the standard-language page.
    for href in ('/venues', '/registry/my-card', '/kortinhaltijalle'):
        assert easy.html.select(f'main a[href="{href}"]'), href
        testapp.get(href, params={'lang': lang}, status=200)
    menu = [a['href'] for a in easy.html.select('nav.main-nav a')]
    assert menu and not any('selkokieli' in href for href in menu)


@pytest.mark.parametrize(
    ('lang', 'query'),
    [('fi', 'selkosuomi'), ('fi', 'selkokieli'), ('sv', 'lättläst'), ('en', 'easy English')],
)
def test_the_site_search_finds_the_easy_page(testapp, lang, query):
    found = testapp.get('/@@search', params={'q': query, 'lang': lang}, status=200)
    titles = [a.get_text(strip=True) for a in found.html.select('ol.listing a')][:3]
    assert EASY[lang][0] in titles, titles
