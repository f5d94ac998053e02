"""A live portal and a headless Chromium for the browser tests.

The site runs under waitress in a thread on a free loopback port, on a fresh temporary database filled from
``content/``.  Chromium and chromedriver are Debian's (``chromium``, ``chromium-driver``); axe-core and the Nu
HTML Checker come from ``node_modules`` (``make node_modules``).  When any of them is missing the tests skip,
and ``tests/conftest.py`` says so loudly at the end of the run; with ``KAIKU_REQUIRE_BROWSER=1`` (as CI sets)
a missing tool fails the tests instead.
"""

import contextlib
import os
import shutil
import tempfile
import threading
import urllib.error
import urllib.request

import pytest

from portal.testing import REPO, TEST_PASSWORD, add_user, build_app, close_app, edit_site

from .pages import LOGGED_IN, LOGGED_IN_PAGES, PAGES

CHROMIUM = '/usr/bin/chromium'
CHROMEDRIVER = '/usr/bin/chromedriver'
AXE_JS = os.path.join(REPO, 'node_modules', 'axe-core', 'axe.min.js')
VNU_JAR = os.path.join(REPO, 'node_modules', 'vnu-jar', 'build', 'dist', 'vnu.jar')
SCREENSHOTS = os.path.join(REPO, 'var', 'screenshots')
CHROME_OPTIONS = [
    '--headless=new',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--hide-scrollbars',
    '--force-device-scale-factor=1',
    '--lang=fi-FI',
]


def require(condition, reason):
    """Skip when a tool is missing, or fail when the environment says the browser tests must run."""
    if condition:
        return
    if os.environ.get('KAIKU_REQUIRE_BROWSER') == '1':
        pytest.fail(f'{reason} (KAIKU_REQUIRE_BROWSER=1: browser tests must run here)', pytrace=False)
    pytest.skip(f'browser tests skipped: {reason}')


def seed_registry(app):
    """Registry records and users for the logged-in pages (see ``pages.LOGGED_IN_PAGES``): one partner
    with a venue site and an issuing site, their staff, a coordinator of its municipality; returns the
    placeholders."""
    from portal.testing import TEST_PASSWORD, add_user, edit_site

    with edit_site(app) as site:
        registry = site['registry']
        partner = registry.add_partner('Tampereen kaupunki', 'municipality', 'Tampere', 'Pirkanmaa')
        venue = registry.add_site(partner, 'Uimahalli Tampere', 'venue')
        registry.add_site_event(venue, 'Vesijumppa')
        registry.set_member('door', venue)
        registry.set_member('issuer', registry.add_site(partner, 'Sosiaalitoimi Tampere', 'issuer'))
        registry.set_area('coordinator', 'municipality', 'Tampere')
        known = {'partner': partner.id, 'site': venue.id}
    add_user(app, 'door', TEST_PASSWORD, roles=['VenueStaff'])
    add_user(app, 'issuer', TEST_PASSWORD, roles=['IssuerStaff'])
    add_user(app, 'coordinator', TEST_PASSWORD, roles=['Coordinator'])
    add_user(app, 'national', TEST_PASSWORD, roles=['NationalAdmin'])
    return known


@pytest.fixture(scope='session')
def live_app(tmp_path_factory):
    """The application behind ``live_server``, with the registry records of :func:`seed_registry` and a
    QR signing key of its own (the door page's offline check needs one)."""
    from kaiku_registry import codes

    directory = tmp_path_factory.mktemp('live-db')
    key_path = directory / 'qr-signing.pem'
    key_path.write_bytes(codes.private_key_pem(codes.generate_key()))
    app = build_app(str(directory), **{'kaiku_registry.signing_key': str(key_path)})
    app.seeded = seed_registry(app)
    prepare_logged_in_pages(app)
    yield app
    close_app(app)


@pytest.fixture(scope='session')
def live_server(live_app):
    """The base URL of the portal served by waitress on 127.0.0.1 and a free port."""
    from waitress import create_server

    app = live_app
    server = create_server(app, host='127.0.0.1', port=0, threads=4, clear_untrusted_proxy_headers=True)
    thread = threading.Thread(target=server.run, name='waitress', daemon=True)
    thread.start()
    yield f'http://127.0.0.1:{server.effective_port}'
    server.close()
    thread.join(timeout=5)


#: The administrator the pages of ``LOGGED_IN`` are visited as.
BROWSER_ADMIN = 'browser-admin'


def prepare_logged_in_pages(app):
    """An administrator, and a workspace with work in every state, so its page shows all it can show."""
    import datetime

    add_user(app, BROWSER_ADMIN, TEST_PASSWORD, roles=['Administrator'])
    with edit_site(app) as site:
        workspace = site['tyotilat']['jyvaskyla']
        workspace.set_step('01-valtuustoaloite', {'status': 'done', 'owner': 'Kulttuurijohtaja'})
        overdue = {'status': 'in_progress', 'owner': 'Hyte-koordinaattori', 'due': datetime.date(2026, 1, 31)}
        workspace.set_step('03-tyopari', {**overdue, 'notes': 'Esimiesten kanssa sovittu.\nTyöaika 20 %.'})
        workspace.set_statuses(['12-arviointi'], 'not_needed')


def log_in_cookie(base, login=BROWSER_ADMIN):
    """The session cookie of ``login`` logged in through the real form."""
    import http.cookiejar
    import re
    import urllib.parse

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(base + '/login', timeout=30) as response:
        html = response.read().decode('utf-8')
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    data = urllib.parse.urlencode({'csrf_token': token, 'login': login, 'password': TEST_PASSWORD})
    with opener.open(base + '/login', data.encode('ascii'), timeout=30):
        pass
    return next(cookie.value for cookie in jar if cookie.name == 'kaiku_session')


@pytest.fixture(scope='session')
def session_cookies(live_server):
    """``cookie(login)``: the session cookie of ``login``, logged in through the real form once a session."""
    cookies = {}

    def cookie(login):
        if login not in cookies:
            cookies[login] = log_in_cookie(live_server, login)
        return cookies[login]

    return cookie


@pytest.fixture(scope='session')
def session_cookie(session_cookies):
    """The session cookie of :data:`BROWSER_ADMIN`."""
    return session_cookies(BROWSER_ADMIN)


def use_session(driver, base, cookie):
    """Give the browser the session ``cookie`` for the site at ``base`` (no page of the site need be open)."""
    driver.execute_cdp_cmd(
        'Network.setCookie', {'name': 'kaiku_session', 'value': cookie, 'url': base + '/', 'path': '/'}
    )


@pytest.fixture
def visit(browser, live_server, page_paths, session_cookie):
    """Open the page called ``name`` of the table in the browser, logged in when the table says so."""

    def visit(name):
        if name in LOGGED_IN:
            use_session(browser, live_server, session_cookie)
        browser.get(live_server + page_paths[name])

    return visit


def fetch(url, cookie=None):
    """(status, text) of a GET, without raising on 4xx; ``cookie`` is a session cookie to send."""
    request = urllib.request.Request(url, headers={'Cookie': f'kaiku_session={cookie}'} if cookie else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode('utf-8')
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode('utf-8')


def first_link(base, listing):
    """The first item's address on a folder listing (``<a>`` inside ``main`` under the listing's path)."""
    import re

    status, html = fetch(base + listing)
    assert status == 200, f'{listing} answered {status}'
    main = html.split('<main', 1)[1]
    for href in re.findall(r'href="([^"?#]+)"', main):
        path = href.removeprefix(base)
        if path.startswith(listing) and path.rstrip('/') != listing.rstrip('/'):
            return path
    raise AssertionError(f'no item found on {listing}')


@pytest.fixture(scope='session')
def pages(live_server):
    """The page table with placeholders filled: a list of (name, path)."""
    guide = '/guides/kaikukortti-jyvaskyla/'
    known = {
        'first_venue': first_link(live_server, '/venues/'),
        'first_material': first_link(live_server, '/materials/'),
        'first_step': first_link(live_server, guide),
    }
    return [(name, path.format(**known)) for name, path in PAGES]


@pytest.fixture(scope='session')
def page_paths(pages):
    return dict(pages)


@pytest.fixture(scope='session')
def logged_in_pages(live_app):
    """The logged-in page table with placeholders filled: ``{name: (path, login)}``."""
    return {name: (path.format(**live_app.seeded), login) for name, path, login in LOGGED_IN_PAGES}


def fetch_as(base, path, login):
    """(status, text) of a GET by ``login``, logged in through the real login form."""
    import http.cookiejar
    import re
    import urllib.parse

    from portal.testing import TEST_PASSWORD

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with opener.open(base + '/login', timeout=30) as response:
        html = response.read().decode('utf-8')
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    body = urllib.parse.urlencode({'csrf_token': token, 'login': login, 'password': TEST_PASSWORD})
    opener.open(base + '/login', data=body.encode('ascii'), timeout=30).close()
    try:
        with opener.open(base + path, timeout=30) as response:
            return response.status, response.read().decode('utf-8')
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode('utf-8')


@contextlib.contextmanager
def navigates(driver, timeout=10):
    """Wait, after the ``with`` block, until the page the block left has been replaced by a loaded new one.

    The old document is marked before the block and the wait is for a document without the mark: a wait on an
    element of the old page (``staleness_of``) races the navigation, and Chromium's driver may answer it with
    "Node with given id does not belong to the document" instead of a stale element.  Errors while the
    page is between documents are retried until the timeout.
    """
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    driver.execute_script('window.kaikuOldPage = true;')
    yield
    WebDriverWait(driver, timeout, ignored_exceptions=(WebDriverException,)).until(
        lambda d: d.execute_script('return !window.kaikuOldPage && document.readyState === "complete";')
    )


def log_in_browser(driver, base, login):
    """Log the browser in as ``login`` through the login form."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from portal.testing import TEST_PASSWORD

    driver.get(base + '/login')
    driver.find_element(By.ID, 'login-name').send_keys(login)
    password = driver.find_element(By.ID, 'login-password')
    password.send_keys(TEST_PASSWORD)
    with navigates(driver):
        password.submit()
    WebDriverWait(driver, 10).until(lambda d: not d.current_url.startswith(base + '/login'))


@pytest.fixture(scope='session')
def driver():
    require(os.path.exists(CHROMIUM), f'{CHROMIUM} is missing (apt-get install chromium)')
    require(os.path.exists(CHROMEDRIVER), f'{CHROMEDRIVER} is missing (apt-get install chromium-driver)')
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        require(False, 'selenium is not installed (pip install -e .[testing])')
    profile = tempfile.mkdtemp(prefix='kaiku-chromium-')
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in [*CHROME_OPTIONS, f'--user-data-dir={profile}', '--window-size=1280,900']:
        options.add_argument(argument)
    # A Finnish user's browser: pages without ?lang= are in Finnish, the site's default.
    options.add_experimental_option('prefs', {'intl.accept_languages': 'fi-FI,fi'})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(60)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def set_viewport(driver, width, height=900):
    """Emulate a viewport ``width`` CSS pixels wide (device scale factor 1)."""
    driver.execute_cdp_cmd(
        'Emulation.setDeviceMetricsOverride',
        {'width': width, 'height': height, 'deviceScaleFactor': 1, 'mobile': False},
    )


@pytest.fixture
def browser(driver, live_server):
    """The shared driver with no cookies (so no remembered language), a 1280 px wide viewport and normal
    text size."""
    # The browser's cookies cleared in one DevTools call: loading a page of the site first to delete
    # them through WebDriver cost a page load a test (about 50 ms, a minute of the suite).
    driver.execute_cdp_cmd('Network.clearBrowserCookies', {})
    set_viewport(driver, 1280)
    yield driver
    driver.execute_cdp_cmd('Emulation.clearDeviceMetricsOverride', {})
    driver.execute_cdp_cmd('Page.setFontSizes', {'fontSizes': {'standard': 16, 'fixed': 13}})
