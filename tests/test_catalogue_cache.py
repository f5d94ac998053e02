"""The catalogue's per-process caches: rendered pages for anonymous visitors and facet counts, both
keyed by the catalog's change counter, so that any change shows at once and nothing hidden leaks."""

import pytest

from portal.events import ObjectModified, StateChanged, notify
from portal.testing import TEST_PASSWORD, add_user, browser, edit_site

pytestmark = pytest.mark.usefixtures('english_interface')


@pytest.fixture
def app(make_app):
    from portal.views.search import page_cache

    page_cache.clear()
    app = make_app(**{'portal.load_on_start': 'false'})
    types = app.registry.content_types
    with edit_site(app) as site:
        venues = types['Folder'].create({'title': 'Kohteet'}, state='published')
        site.add('venues', venues, registry=app.registry)
        for name, title in (('museo', 'Tervaväylän museo'), ('halli', 'Hietasarkan uimahalli')):
            venue = types['Venue'].create(
                {'title': title, 'categories': ('museum',), 'municipality': 'Kajaani', 'region': 'Kainuu'},
                state='published',
            )
            venues.add(name, venue, registry=app.registry)
    return app


def titles(res):
    return [a.text for a in res.html.select('.results .listing-title a')]


def test_a_second_anonymous_request_is_served_from_the_cache(app, monkeypatch):
    from portal.views import search

    client = browser(app)
    first = client.get('/venues/')
    assert len(search.page_cache.entries) == 1
    monkeypatch.setattr(search, 'run_catalogue', lambda *args: pytest.fail('the page was rendered again'))
    second = client.get('/venues/')
    assert second.body == first.body
    assert second.headers['Content-Type'] == first.headers['Content-Type']
    assert second.headers['Content-Security-Policy'] == first.headers['Content-Security-Policy']


def test_an_edit_shows_at_once(app):
    client = browser(app)
    assert 'Tervaväylän museo' in titles(client.get('/venues/'))
    with edit_site(app) as site:
        venue = site['venues']['museo']
        notify(ObjectModified(venue, venue.update({'title': 'Kalastajakylän museo'})), app.registry)
    assert titles(client.get('/venues/')) == ['Hietasarkan uimahalli', 'Kalastajakylän museo']


def test_a_venue_made_private_disappears_from_a_cached_page(app):
    client = browser(app)
    assert 'Tervaväylän museo' in titles(client.get('/venues/?category=museum'))
    with edit_site(app) as site:
        venue = site['venues']['museo']
        venue.state = 'private'
        notify(StateChanged(venue, 'published', 'private'), app.registry)
    res = client.get('/venues/?category=museum')
    assert titles(res) == ['Hietasarkan uimahalli']
    assert 'Tervaväylän' not in res.text


def test_a_site_title_change_shows_at_once(app):
    client = browser(app)
    client.get('/venues/')
    with edit_site(app) as site:
        notify(ObjectModified(site, site.update({'title': 'Uusi nimi'})), app.registry)
    assert 'Uusi nimi' in client.get('/venues/').html.title.text


def test_pages_of_logged_in_users_are_not_cached(app):
    from portal.views.search import page_cache

    add_user(app, 'editori', TEST_PASSWORD, roles=('Editor',))
    client = browser(app, 'editori')
    page_cache.clear()
    res = client.get('/venues/')
    assert not page_cache.entries
    assert res.html.select_one('#logout-form') is not None
    anonymous = browser(app).get('/venues/')
    assert anonymous.html.select_one('#logout-form') is None


def test_languages_and_queries_are_cached_apart(app):
    from portal.views.search import page_cache

    client = browser(app)
    finnish = client.get('/venues/?lang=fi')
    swedish = client.get('/venues/?lang=sv')
    english = browser(app).get('/venues/', headers={'Accept-Language': 'en'})
    assert finnish.html.html['lang'] == 'fi' and swedish.html.html['lang'] == 'sv'
    assert english.html.html['lang'] == 'en'
    assert len(page_cache.entries) == 3
    assert client.get('/venues/?lang=sv').body == swedish.body


def test_bad_input_is_never_cached(app):
    from portal.views.search import page_cache

    client = browser(app)
    client.get('/venues/?page=abc', status=400)
    client.get('/venues/?page=abc', status=400)
    assert not page_cache.entries


def test_without_a_cache_nothing_is_kept(app, monkeypatch):
    from portal.views import search

    monkeypatch.setattr(search.page_cache, 'size', 0)
    client = browser(app)
    assert client.get('/venues/').body == client.get('/venues/').body
    assert not search.page_cache.entries


def test_a_cached_page_still_remembers_the_chosen_language(app):
    browser(app).get('/venues/?lang=sv')
    res = browser(app).get('/venues/?lang=sv')
    assert 'lang=sv' in res.headers.get('Set-Cookie', '')
