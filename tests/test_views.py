"""Every public page type renders, in every language, with and without the registry plugin."""

import pytest
import webtest

from portal.testing import edit_site
from portal.workflow import transition

PAGES = [
    ('/', 'Kaikukortti'),
    ('/kaikukortti/', 'Kaikukortti'),
    ('/venues/', 'Kohteet'),
    ('/materials/', None),
    ('/guides/', None),
    ('/guides/kaikukortti-jyvaskyla/', 'Jyväskylä'),
    ('/saavutettavuusseloste/', 'WCAG'),
    ('/tietosuojaseloste/', None),
]


@pytest.fixture(scope='module', params=['with plugin', 'without plugin'])
def any_app(request, tmp_path_factory):
    """The site with the registry plugin included, and with it left out of pyramid.includes."""
    from portal.testing import build_app, close_app

    includes = 'kaiku_registry' if request.param == 'with plugin' else ''
    app = build_app(str(tmp_path_factory.mktemp('db')), **{'pyramid.includes': includes})
    yield webtest.TestApp(app, extra_environ={'HTTP_HOST': 'example.com'})
    close_app(app)


@pytest.mark.parametrize(('path', 'text'), PAGES)
def test_page_types_render(any_app, path, text):
    res = any_app.get(path, status=200)
    assert res.content_type == 'text/html'
    assert res.text.startswith('<!DOCTYPE html>')
    assert '<main id="main"' in res.text
    if text:
        assert text in res.text


def first_child_path(testapp, folder, type_name):
    site = testapp.app.registry  # noqa: F841 - the registry is not needed, the listing is
    res = testapp.get(f'/{folder}/')
    links = [a['href'] for a in res.html.select('.listing a')]
    assert links, f'no items listed in /{folder}/'
    return links[0].replace('http://example.com', '')


def test_venue_page_shows_terms_and_accessibility(testapp):
    path = first_child_path(testapp, 'venues', 'Venue')
    res = testapp.get(path, status=200)
    html = res.html
    assert html.find(id='terms-heading') is not None
    assert html.find(id='access-heading') is not None
    assert 'Esimerkkiaineisto' in res.text or 'Sample data' in res.text


def test_material_download_headers(testapp):
    res = testapp.get('/materials/')
    for link in [a['href'] for a in res.html.select('.listing a')]:
        page = testapp.get(link.replace('http://example.com', ''))
        download = page.html.select_one('a[href$="/download"]')
        if download is None:
            continue
        file = testapp.get(download['href'].replace('http://example.com', ''), status=200)
        assert file.headers['X-Content-Type-Options'] == 'nosniff'
        assert file.headers['Content-Disposition'].split(';')[0] in ('inline', 'attachment')
        assert 'filename="' in file.headers['Content-Disposition']
        assert file.body[:5] == b'%PDF-' or file.content_type != 'application/pdf'
        return
    pytest.fail('no material with a file to download')


def test_step_pages_link_to_each_other(testapp):
    res = testapp.get('/guides/kaikukortti-jyvaskyla/')
    steps = [a['href'] for a in res.html.select('ol.steps h3 a')]
    assert len(steps) >= 10
    second = testapp.get(steps[1].replace('http://example.com', ''))
    assert second.html.select_one('a[rel=prev]')['href'] == steps[0]
    assert second.html.select_one('a[rel=next]')['href'] == steps[2]
    assert second.html.select('ul.checklist li')


def test_unknown_path_gives_themed_404(testapp):
    res = testapp.get('/no-such-page', status=404)
    assert '<main id="main"' in res.text
    assert 'Traceback' not in res.text


@pytest.mark.parametrize(
    'query',
    ['page=abc', 'page=0', 'page=-1', 'page=%ff', 'lang=%ff%fe', 'page=1&page=x', 'page=' + '9' * 50],
)
def test_malformed_query_is_a_400_not_a_500(testapp, query):
    res = testapp.get(f'/venues/?{query}', status=400)
    assert '<main id="main"' in res.text
    assert 'Traceback' not in res.text


def test_page_beyond_the_last_is_404(testapp):
    testapp.get('/materials/?page=999', status=404)


def test_private_item_is_forbidden_to_anonymous(make_app):
    app = make_app()
    with edit_site(app) as site:
        transition(site['kaikukortti'], 'retract', app.registry)  # reindexed: the home page asks the catalog
    client = webtest.TestApp(app, extra_environ={'HTTP_HOST': 'example.com'})
    res = client.get('/kaikukortti/', status=403)
    assert '<main id="main"' in res.text
    home = client.get('/')
    assert '/kaikukortti/' not in home.text


def test_sitemap_and_robots(testapp):
    sitemap = testapp.get('/sitemap.xml', status=200)
    assert sitemap.content_type == 'application/xml'
    assert '<loc>http://example.com/venues/</loc>' in sitemap.text
    robots = testapp.get('/robots.txt', status=200)
    assert 'Sitemap: http://example.com/sitemap.xml' in robots.text


def test_sitemap_leaves_out_private_items(make_app):
    app = make_app()
    from portal.events import StateChanged, notify

    with edit_site(app) as site:
        site['tilastot'].state = 'private'
        notify(StateChanged(site['tilastot'], 'published', 'private'), app.registry)
    client = webtest.TestApp(app, extra_environ={'HTTP_HOST': 'example.com'})
    assert '/tilastot/' not in client.get('/sitemap.xml').text
