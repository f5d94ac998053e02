"""The page frame (:mod:`portal.views.layout`, ``layout.pt``): the menu behind a disclosure button, the
staff pages' focused layout, and a login that comes back to the page it was asked from, the door's
above all, after a session timed out."""

import time
from urllib.parse import parse_qs, urlsplit

import pytest

from portal.testing import TEST_PASSWORD, add_user, browser, edit_site, form_with

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
        registry.set_member('door', registry.add_site(partner, 'Uimahalli', 'venue'))
        registry.set_member('issuer', registry.add_site(partner, 'Sosiaalitoimi', 'issuer'))
    add_user(app, 'door', TEST_PASSWORD, roles=['VenueStaff'])
    add_user(app, 'issuer', TEST_PASSWORD, roles=['IssuerStaff'])
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
