"""The caches of an application, kept on its registry and never per process: rendered pages for
anonymous visitors (every page, :mod:`portal.pagecache`) and the catalogue's facet counts, both keyed by
the catalog's change counter, so that any change shows at once and nothing hidden leaks; and HTTP
revalidation with the same key."""

import pytest

from portal.events import ObjectModified, StateChanged, notify
from portal.pagecache import page_cache
from portal.testing import TEST_PASSWORD, add_user, browser, edit_site

pytestmark = pytest.mark.usefixtures('english_interface')


@pytest.fixture
def app(make_app):
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
    from portal.views import catalogue

    client = browser(app)
    first = client.get('/venues/')
    assert len(page_cache(app.registry).entries) == 1
    monkeypatch.setattr(catalogue, 'run_catalogue', lambda *args: pytest.fail('the page was rendered again'))
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
    add_user(app, 'editori', TEST_PASSWORD, roles=('Editor',))
    client = browser(app, 'editori')
    kept = dict(page_cache(app.registry).entries)  # the login page, fetched before logging in
    res = client.get('/venues/')
    assert page_cache(app.registry).entries == kept
    assert 'ETag' not in res.headers
    assert res.html.select_one('#logout-form') is not None
    anonymous = browser(app).get('/venues/')
    assert anonymous.html.select_one('#logout-form') is None


def test_facet_counts_are_remembered_by_the_application_not_the_process(app, make_app):
    from portal.catalog import facet_cache

    assert not facet_cache(app.registry).entries
    browser(app).get('/venues/')
    assert facet_cache(app.registry).entries
    other = make_app(**{'portal.load_on_start': 'false'})
    assert not facet_cache(other.registry).entries
    assert not page_cache(other.registry).entries


def test_languages_and_queries_are_cached_apart(app):
    client = browser(app)
    finnish = client.get('/venues/?lang=fi')
    swedish = client.get('/venues/?lang=sv')
    english = browser(app).get('/venues/', headers={'Accept-Language': 'en'})
    assert finnish.html.html['lang'] == 'fi' and swedish.html.html['lang'] == 'sv'
    assert english.html.html['lang'] == 'en'
    assert len(page_cache(app.registry).entries) == 3
    assert client.get('/venues/?lang=sv').body == swedish.body


def test_bad_input_is_never_cached(app):
    client = browser(app)
    client.get('/venues/?page=abc', status=400)
    client.get('/venues/?page=abc', status=400)
    assert not page_cache(app.registry).entries


def test_without_a_cache_nothing_is_kept(app, monkeypatch):
    monkeypatch.setattr(page_cache(app.registry), 'size', 0)
    client = browser(app)
    assert client.get('/venues/').body == client.get('/venues/').body
    assert not page_cache(app.registry).entries


def test_a_cached_page_still_remembers_the_chosen_language(app):
    browser(app).get('/venues/?lang=sv')
    res = browser(app).get('/venues/?lang=sv')
    assert 'lang=sv' in res.headers.get('Set-Cookie', '')


def test_every_anonymous_page_is_cached_not_only_the_catalogue(app, monkeypatch):
    client = browser(app)
    first = client.get('/')
    assert len(page_cache(app.registry).entries) == 1
    from portal.views import public

    monkeypatch.setattr(public, 'home', lambda *a: pytest.fail('the front page was rendered again'))
    assert client.get('/').body == first.body


def test_a_cached_page_is_revalidated_with_304(app):
    client = browser(app)
    first = client.get('/venues/')
    etag, modified = first.headers['ETag'], first.headers['Last-Modified']
    assert 'public' in first.headers['Cache-Control'] and 's-maxage' in first.headers['Cache-Control']
    assert 'Cookie' in first.headers['Vary']
    again = client.get('/venues/', headers={'If-None-Match': etag}, status=304)
    assert again.body == b''
    assert again.headers['ETag'] == etag
    assert again.headers['Content-Security-Policy']
    client.get('/venues/', headers={'If-Modified-Since': modified}, status=304)
    # Another page, or the same page in another language, has another tag.
    assert client.get('/venues/?lang=sv').headers['ETag'] != etag
    client.get('/venues/', headers={'If-None-Match': '"something-else"'}, status=200)
    client.get('/venues/', headers={'If-None-Match': '*'}, status=200)


def test_an_edit_changes_the_tag(app):
    client = browser(app)
    etag = client.get('/venues/').headers['ETag']
    with edit_site(app) as site:
        venue = site['venues']['museo']
        notify(ObjectModified(venue, venue.update({'title': 'Kalastajakylän museo'})), app.registry)
    res = client.get('/venues/', headers={'If-None-Match': etag}, status=200)
    assert 'Kalastajakylän museo' in res.text
    assert res.headers['ETag'] != etag


def test_a_visitor_with_a_session_gets_their_own_page(app):
    client = browser(app)
    client.get('/venues/')
    login = client.get('/login')
    assert 'kaiku_session' in login.headers.get('Set-Cookie', '')
    assert len(page_cache(app.registry).entries) == 1  # the login form holds a CSRF token: not kept
    res = client.get('/venues/')
    assert 'ETag' not in res.headers


def test_a_form_page_is_never_kept(app):
    browser(app).get('/login')
    browser(app).get('/login')
    assert not page_cache(app.registry).entries


def test_static_files_carry_a_cache_buster_and_a_long_lifetime(app):
    client = browser(app)
    page = client.get('/venues/')
    css = page.html.select_one('link[rel=stylesheet]')['href']
    assert '/static/kaiku.css?v=' in css
    res = client.get(css.replace('http://example.com', ''))
    assert res.cache_control.max_age >= 30 * 24 * 3600
    from portal.static import folder_token

    assert css.endswith(folder_token('kaiku_theme:static/'))


def test_the_token_follows_the_files(tmp_path, monkeypatch):
    from portal import static

    (tmp_path / 'a.css').write_text('a {}')
    monkeypatch.setattr(
        static.AssetResolver,
        'resolve',
        lambda self, spec: type('A', (), {'abspath': lambda s: str(tmp_path)})(),
    )
    first = static.folder_token('x:static/')
    (tmp_path / 'a.css').write_text('a { color: red }')
    assert static.folder_token('x:static/') != first


def test_a_page_of_an_attempt_that_did_not_commit_is_not_kept(app, monkeypatch):
    """A page rendered in a transaction that ends in a conflict (and is run again) or an abort must not be
    answered later: the cache keeps it only after the commit."""
    import transaction

    client = browser(app)
    real_commit = transaction.TransactionManager.commit
    monkeypatch.setattr(transaction.TransactionManager, 'commit', transaction.TransactionManager.abort)
    client.get('/venues/')
    assert not page_cache(app.registry).entries
    monkeypatch.setattr(transaction.TransactionManager, 'commit', real_commit)
    client.get('/venues/')
    assert len(page_cache(app.registry).entries) == 1
