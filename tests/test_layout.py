"""The page frame (:mod:`portal.views.layout`, ``layout.pt``): the menu behind a disclosure button, the
staff pages' focused layout, and a login that comes back to the page it was asked from, the door's
above all, after a session timed out."""

import time
from urllib.parse import parse_qs, urlsplit

import pytest

from portal.testing import TEST_PASSWORD, add_user, browser, edit_site, form_with

#: Users who land on a page of their own after logging in, and that page.
LANDINGS_BY_ROLE = [
    ('venue-staff', ['VenueStaff']),
    ('issuer-staff', ['IssuerStaff']),
    ('coordinator', ['Coordinator']),
    ('national', ['NationalAdmin']),
    ('administrator', ['Administrator']),
    ('issuer-and-coordinator', ['IssuerStaff', 'Coordinator']),
    ('editor', ['Editor']),
]
LANDINGS = {
    'venue-staff': '/registry/door',
    'issuer-staff': '/registry/issue',
    'coordinator': '/registry/stats',
    'national': '/registry/partners',
    'administrator': '/@@contents',
    'issuer-and-coordinator': '/registry/stats',
    'editor': '/',
}
STAFF_PAGES = [('door', '/registry/door'), ('issuer', '/registry/issue'), ('issuer', '/registry/cards')]


@pytest.fixture(scope='module')
def staff_app(tmp_path_factory):
    """An application with a venue site and an issuing site, their staff, with sessions that time out
    after a minute."""
    from portal.testing import build_app, close_app

    app = build_app(str(tmp_path_factory.mktemp('frame')), **{'portal.session_idle_timeout': '60'})
    with edit_site(app) as site:
        registry = site['registry']
        partner = registry.add_partner('Tampereen kaupunki', 'municipality', 'Tampere', 'Pirkanmaa')
        venue, issuer = (
            registry.add_site(partner, 'Uimahalli', 'venue'),
            registry.add_site(partner, 'Sosiaalitoimi', 'issuer'),
        )
        for login in ('door', 'venue-staff'):
            registry.set_member(login, venue)
        for login in ('issuer', 'issuer-staff', 'issuer-and-coordinator'):
            registry.set_member(login, issuer)
        for login in ('coordinator', 'issuer-and-coordinator'):
            registry.set_area(login, 'municipality', 'Tampere')
    add_user(app, 'door', TEST_PASSWORD, roles=['VenueStaff'])
    add_user(app, 'issuer', TEST_PASSWORD, roles=['IssuerStaff'])
    for login, roles in LANDINGS_BY_ROLE:
        add_user(app, login, TEST_PASSWORD, roles=roles)
    yield app
    close_app(app)


def login_link(res):
    """The href of the header's login link."""
    links = res.html.select('header .account a[href*="/login"]')
    assert len(links) == 1, res.html.select_one('header')
    return links[0]['href']


def came_from(href):
    return parse_qs(urlsplit(href).query).get('came_from', [None])[0]


def later(monkeypatch, seconds):
    real = time.time
    monkeypatch.setattr(time, 'time', lambda: real() + seconds)


# The menu -------------------------------------------------------------------------------------------
@pytest.mark.parametrize('path', ['/', '/venues/', '/kaikukortti/?lang=sv', '/no-such-page'])
def test_menu_is_a_disclosure_that_holds_search_languages_account_and_sections(testapp, path):
    res = testapp.get(path, status='*')
    header = res.html.select_one('header.site-header')
    menu = header.select_one('details.site-menu')
    assert menu is not None, header
    assert menu.find('summary', recursive=False) is not None
    for part in ('form[role=search]', 'nav.languages', '.account', 'nav.main-nav'):
        assert menu.select_one(part) is not None, f'{part} is not in the menu on {path}'
    assert len(menu.select('nav.main-nav a')) >= 5


def test_menu_button_is_translated(testapp):
    labels = {
        lang: testapp.get(f'/?lang={lang}').html.select_one('summary.menu-button').get_text(strip=True)
        for lang in ('fi', 'sv', 'en')
    }
    assert labels == {'fi': 'Valikko', 'sv': 'Meny', 'en': 'Menu'}


# The staff pages' focused layout --------------------------------------------------------------------
@pytest.mark.parametrize(('login', 'path'), STAFF_PAGES)
def test_staff_pages_have_no_public_menu(staff_app, login, path):
    res = browser(staff_app, login).get(path, status=200)
    header = res.html.select_one('header.site-header')
    assert header.select('nav.main-nav') == [], f'{path} shows the public sections'
    assert header.select_one('a.site-name')['href'] == 'http://example.com/'
    assert header.select_one('form#logout-form button[type=submit]') is not None
    assert header.select_one('nav.languages') is not None
    # The page's own form is where it was: forms are counted from the top by tests and scripts.
    assert res.forms[1].id == 'logout-form'


def test_public_pages_keep_the_menu_for_staff(staff_app):
    res = browser(staff_app, 'door').get('/venues/', status=200)
    assert res.html.select_one('header nav.main-nav') is not None


# Coming back after logging in -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ('path', 'expected'),
    [
        ('/venues/?q=uimahalli&lang=sv', '/venues/?q=uimahalli&lang=sv'),
        ('/kaikukortti/', '/kaikukortti/'),
        ('/registry/impact', '/registry/impact'),
        ('/', None),
        ('/login', None),
        ('/login?came_from=/registry/door', None),
    ],
)
def test_login_link_comes_back_to_the_page(testapp, path, expected):
    href = login_link(testapp.get(path))
    assert urlsplit(href).path == '/login'
    assert came_from(href) == expected


def log_in_through(client, href):
    """Follow a login link, fill in the door user's login and return the answer."""
    form = form_with(client.get(href), 'password')
    form['login'] = 'door'
    form['password'] = TEST_PASSWORD
    return form.submit(status=303)


def test_door_after_session_timeout_logging_in_returns_to_the_door(staff_app, monkeypatch):
    door = browser(staff_app, 'door')
    door.get('/registry/door', status=200)
    later(monkeypatch, 120)
    refused = door.get('/registry/door', status=403)
    answer = log_in_through(door, login_link(refused))
    assert answer.location == 'http://example.com/registry/door'
    assert answer.follow(status=200).html.select_one('h1').get_text(strip=True) == 'Tarkista kortti'


@pytest.mark.parametrize('action', ['door', 'door-record'])
def test_door_form_posted_after_session_timeout_comes_back_to_the_door(staff_app, monkeypatch, action):
    """A form sent after the session timed out is refused; the login then returns to the door page the
    form was on, never to the address the form was sent to (``door-record`` answers POST only)."""
    door = browser(staff_app, 'door')
    page = door.get('/registry/door?lang=sv', status=200)
    form = form_with(page, 'code')
    later(monkeypatch, 120)
    refused = door.post(
        f'/registry/{action}',
        {'csrf_token': form['csrf_token'].value, 'code': 'X'},
        headers={'Referer': 'http://example.com/registry/door?lang=sv'},
        status=403,
    )
    assert came_from(login_link(refused)) == '/registry/door?lang=sv'
    answer = log_in_through(door, login_link(refused))
    assert answer.location == 'http://example.com/registry/door?lang=sv'


def test_posted_form_from_another_site_is_not_come_back_to(staff_app):
    refused = browser(staff_app).post(
        '/registry/door', {'code': 'X'}, headers={'Referer': 'https://evil.example/registry/door'}, status=403
    )
    assert came_from(login_link(refused)) is None


# Landing after a login ------------------------------------------------------------------------------
def log_in_as(client, login, came_from=None):
    page = client.get('/login', params={'came_from': came_from} if came_from else {})
    form = form_with(page, 'password')
    form['login'] = login
    form['password'] = TEST_PASSWORD
    return form.submit(status=303)


@pytest.mark.parametrize(('login', 'roles'), LANDINGS_BY_ROLE)
def test_staff_land_on_their_own_page_after_logging_in(staff_app, login, roles):
    answer = log_in_as(browser(staff_app), login)
    assert answer.location == f'http://example.com{LANDINGS[login]}'
    answer.follow(status=200)


@pytest.mark.parametrize(
    ('came_from', 'location'),
    [
        ('/venues/', 'http://example.com/venues/'),
        ('/registry/issue', 'http://example.com/registry/issue'),
        ('https://evil.example/registry/door', 'http://example.com/registry/door'),
        ('//evil.example/', 'http://example.com/registry/door'),
        ('/', 'http://example.com/registry/door'),
    ],
)
def test_a_page_to_come_back_to_wins_over_the_landing_page_if_it_is_on_this_site(
    staff_app, came_from, location
):
    assert log_in_as(browser(staff_app), 'venue-staff', came_from).location == location
