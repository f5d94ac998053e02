"""WCAG 2.2's new AA criteria and the phone-first header, measured in the real page.

- 2.5.8 Target size (minimum): every target is at least 24 × 24 CSS px, or a 24 px circle on its centre
  touches no other target (the criterion's spacing exception); a link inside a sentence is exempt.  Form
  controls (buttons, fields, check boxes, radio buttons, the menu button) must be 24 × 24 px themselves.
- 2.4.11 Focus not obscured: every Tab stop can be seen, nothing drawn over it.
- 3.2.6 Consistent help: the footer's help links come in the same order on every page.
- At 375 × 667 the page's heading and the start of its content are on the first screen; the menu opens
  and closes with the keyboard, also with JavaScript turned off.
"""

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from .conftest import set_viewport, use_session
from .pages import LOGGED_IN_PAGES, PAGES

pytestmark = pytest.mark.browser

PHONE = (375, 667)
WIDTHS = [375, 1280]
STAFF_PAGES = ['registry-door', 'registry-issue', 'registry-cards']

#: Opens the header's menu on a narrow screen, so that its targets are measured too.
OPEN_MENU = "const menu = document.querySelector('details.site-menu'); if (menu) menu.open = true;"

TARGETS = """
const MIN = 24;
const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary, '
  + '[tabindex]:not([tabindex="-1"])';
const visible = el => {
  const r = el.getBoundingClientRect();
  const s = getComputedStyle(el);
  return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && el.checkVisibility()
    && !el.closest('.skip-link, .visually-hidden');
};
// A link in a sentence: inline, in a block whose text is more than the link's own (WCAG's inline exception).
const inSentence = el => {
  if (el.tagName !== 'A' || getComputedStyle(el).display !== 'inline') return false;
  let block = el.parentElement;
  while (block && getComputedStyle(block).display === 'inline') block = block.parentElement;
  const own = (el.innerText || '').trim().length;
  return block && (block.innerText || '').trim().length > own + 2;
};
const targets = [...document.querySelectorAll(selector)].filter(visible).map(el => {
  const r = el.getBoundingClientRect();
  return {el, r, cx: r.left + r.width / 2, cy: r.top + r.height / 2,
          small: (r.width < MIN - 0.5 || r.height < MIN - 0.5) && !inSentence(el)};
});
const describe = t => {
  const el = t.el;
  return `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.type ? '[' + el.type + ']' : ''}`
    + ` "${(el.innerText || el.value || el.getAttribute('aria-label') || '').trim().slice(0, 30)}"`
    + ` ${Math.round(t.r.width)}×${Math.round(t.r.height)}`;
};
const nearestPoint = (t, x, y) => [
  Math.max(t.r.left, Math.min(x, t.r.right)), Math.max(t.r.top, Math.min(y, t.r.bottom))];
const failing = [];
// Form controls are held to 24 × 24 px themselves, whatever the space around them.
const control = el => ['BUTTON', 'INPUT', 'SELECT', 'TEXTAREA', 'SUMMARY'].includes(el.tagName);
for (const t of targets.filter(t => t.small)) {
  if (control(t.el)) { failing.push(describe(t)); continue; }
  const crowded = targets.some(o => {
    if (o === t || o.el.contains(t.el) || t.el.contains(o.el)) return false;
    if (o.small && Math.hypot(o.cx - t.cx, o.cy - t.cy) < MIN) return true;  // the two circles meet
    const [x, y] = nearestPoint(o, t.cx, t.cy);
    return Math.hypot(x - t.cx, y - t.cy) < MIN / 2;  // the circle reaches the other target
  });
  if (crowded) failing.push(describe(t));
}
return {count: targets.length, failing};
"""

HEADING = """
const h1 = document.querySelector('main h1');
if (!h1) return null;
const heading = h1.getBoundingClientRect();
// The first thing in main after the heading that shows text or takes input: the start of the content.
const walker = document.createTreeWalker(document.querySelector('main'), NodeFilter.SHOW_ELEMENT);
let content = null;
for (let node = walker.nextNode(); node; node = walker.nextNode()) {
  if (h1.contains(node) || !(h1.compareDocumentPosition(node) & Node.DOCUMENT_POSITION_FOLLOWING)) continue;
  const r = node.getBoundingClientRect();
  const own = [...node.childNodes].some(c => c.nodeType === 3 && c.textContent.trim());
  if (r.height > 0 && (own || ['INPUT', 'SELECT', 'TEXTAREA', 'IMG', 'svg'].includes(node.tagName))) {
    content = {tag: node.tagName.toLowerCase(), top: r.top};
    break;
  }
}
return {bottom: heading.bottom, top: heading.top, content, height: innerHeight,
        header: document.querySelector('header').getBoundingClientRect().height};
"""

FOCUSED = """
const el = document.activeElement;
if (!el || el === document.body) return null;
const r = el.getBoundingClientRect();
// The centre of each box of the element: a link that wraps has one a line, with its bounding box's centre
// perhaps on the text between them.
const points = [...el.getClientRects()].map(b => [b.left + b.width / 2, b.top + b.height / 2]);
const seen = points.filter(([x, y]) => {
  const hit = document.elementFromPoint(x, y);
  return hit && (hit === el || el.contains(hit) || hit.contains(el) && hit.tagName === 'LABEL');
}).length;
const over = points.length ? document.elementFromPoint(...points[0]) : null;
return {what: el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' '
              + (el.innerText || '').trim().slice(0, 30),
        over: over && over.outerHTML.slice(0, 80), seen,
        inView: r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth};
"""


SHOWN = """
const el = document.querySelector(arguments[0]);
const r = el.getBoundingClientRect();
const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
return r.width > 0 && r.height > 0 && (hit === el || el.contains(hit));
"""


def open_page(browser, live_server, visit, logged_in_pages, name, session_cookies):
    """Open page ``name`` of either table, logged in as its user when it is a logged-in page."""
    if name in logged_in_pages:
        path, login = logged_in_pages[name]
        use_session(browser, live_server, session_cookies(login))
        browser.get(live_server + path)
        assert browser.current_url == live_server + path, f'{path} sent {login} to {browser.current_url}'
    else:
        visit(name)


ALL_PAGES = [name for name, _ in PAGES] + [name for name, _path, _login in LOGGED_IN_PAGES]


@pytest.mark.parametrize('width', WIDTHS)
@pytest.mark.parametrize('name', ALL_PAGES)
def test_targets_are_at_least_24_px(
    name, width, browser, live_server, visit, logged_in_pages, session_cookies
):
    set_viewport(browser, width, 900)
    open_page(browser, live_server, visit, logged_in_pages, name, session_cookies)
    browser.execute_script(OPEN_MENU)
    result = browser.execute_script(TARGETS)
    assert result['count'] >= 3
    assert not result['failing'], f'{name} at {width} px: targets under 24 × 24 px: {result["failing"][:10]}'


@pytest.mark.parametrize('name', [name for name, _ in PAGES] + STAFF_PAGES)
def test_heading_on_the_first_screen_of_a_phone(
    name, browser, live_server, visit, logged_in_pages, session_cookies
):
    set_viewport(browser, *PHONE)
    open_page(browser, live_server, visit, logged_in_pages, name, session_cookies)
    found = browser.execute_script(HEADING)
    assert found is not None, f'{name} has no h1 in main'
    assert found['bottom'] <= PHONE[1], f'{name}: the h1 ends at {found["bottom"]:.0f} px on a {PHONE} phone'
    assert found['content'] and found['content']['top'] < PHONE[1] - 24, (
        f'{name}: the content after the h1 starts at {found["content"]} on a {PHONE} phone'
    )
    assert found['header'] <= 80, f'{name}: the closed header is {found["header"]:.0f} px tall'


def test_menu_opens_by_keyboard_without_javascript(browser, live_server):
    set_viewport(browser, *PHONE)
    browser.execute_cdp_cmd('Emulation.setScriptExecutionDisabled', {'value': True})
    try:
        browser.get(live_server + '/kaikukortti/')
        nav = browser.find_element(By.CSS_SELECTOR, 'nav.main-nav')
        button = browser.find_element(By.CSS_SELECTOR, 'summary.menu-button')
        assert button.is_displayed() and not nav.is_displayed()
        for _ in range(5):
            ActionChains(browser).send_keys(Keys.TAB).perform()
            if browser.switch_to.active_element == button:
                break
        assert browser.switch_to.active_element == button, 'Tab does not reach the menu button'
        ActionChains(browser).send_keys(Keys.ENTER).perform()
        assert nav.is_displayed() and browser.find_element(By.ID, 'site-search-q').is_displayed()
        link = nav.find_elements(By.CSS_SELECTOR, 'a')[-1]
        link.click()
        assert browser.current_url != live_server + '/kaikukortti/'
        browser.get(live_server + '/kaikukortti/')
        button = browser.find_element(By.CSS_SELECTOR, 'summary.menu-button')
        button.click()
        button.click()
        assert not browser.find_element(By.CSS_SELECTOR, 'nav.main-nav').is_displayed()
    finally:
        browser.execute_cdp_cmd('Emulation.setScriptExecutionDisabled', {'value': False})


@pytest.mark.parametrize(('lang', 'results'), [('fi', 'Kohteet'), ('sv', 'Platser')])
def test_the_catalogue_shows_results_on_a_phones_first_screen_and_its_choices_on_a_wide_one(
    lang, results, browser, live_server
):
    """On a phone the catalogue's choices and facet lists are folded (a summary opens them, by keyboard
    too), so the count and the results start on the first screen; a wide screen shows the choices."""
    set_viewport(browser, *PHONE)
    browser.get(f'{live_server}/venues/?lang={lang}&category=museum')
    heading = browser.find_element(By.ID, 'results-heading')
    assert heading.text == results
    top = browser.execute_script(
        "return document.getElementById('results-heading').getBoundingClientRect().top"
    )
    assert top < PHONE[1], f'the results start at {top:.0f} px on a {PHONE} phone'
    summary = browser.find_element(By.CSS_SELECTOR, '.search-choices > summary')
    assert '(1 ' in summary.text  # how many are chosen, said while folded
    assert not browser.execute_script(SHOWN, 'input[name=category]')
    summary.send_keys(Keys.ENTER)
    assert browser.execute_script(SHOWN, 'input[name=category]')
    set_viewport(browser, 1280, 900)
    browser.get(f'{live_server}/venues/?lang={lang}')
    assert browser.execute_script(SHOWN, 'input[name=category]'), 'the choices are folded at 1280 px'
    browser.execute_script("document.querySelector('.facets nav a').scrollIntoView()")
    assert browser.execute_script(SHOWN, '.facets nav a'), 'the facet lists are folded at 1280 px'


def test_wide_screen_shows_the_menu_open(browser, live_server):
    set_viewport(browser, 1280, 900)
    browser.get(live_server + '/kaikukortti/')
    assert not browser.find_element(By.CSS_SELECTOR, 'summary.menu-button').is_displayed()
    # Selenium counts anything in a closed <details> as hidden: ask the page what it draws.
    for part in ('nav.main-nav a', '#site-search-q', 'nav.languages a'):
        assert browser.execute_script(SHOWN, part), f'{part} is not shown at 1280 px'
    header = browser.execute_script("return document.querySelector('header').getBoundingClientRect().height")
    assert header <= 160, f'the header is {header} px tall at 1280 px'


@pytest.mark.parametrize('width', WIDTHS)
@pytest.mark.parametrize('name', ['home', 'venue', 'catalogue-results', 'estimator-errors', 'login'])
def test_focus_is_never_obscured(name, width, browser, visit):
    set_viewport(browser, width, 667 if width < 600 else 900)
    visit(name)
    if width < 600:
        browser.execute_script(OPEN_MENU)
    stops = 0
    for _ in range(150):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        focused = browser.execute_script(FOCUSED)
        if focused is None:
            break
        stops += 1
        assert focused['inView'] and focused['seen'] >= 1, f'{name} at {width} px: {focused} is hidden'
    assert stops >= 3


def test_help_comes_in_the_same_place_on_every_page(
    browser, live_server, visit, logged_in_pages, session_cookies
):
    """The footer's links to help (accessibility statement and feedback, privacy notice) are the same
    and in the same order on the public pages and the staff pages."""
    footers = {}
    for name in ['home', 'home-sv', 'venue', 'not-found', 'login', 'estimator', *STAFF_PAGES]:
        open_page(browser, live_server, visit, logged_in_pages, name, session_cookies)
        footers[name] = browser.execute_script(
            "return [...document.querySelectorAll('footer a')].map(a => new URL(a.href).pathname)"
        )
    first = footers['home']
    assert first, 'the footer has no help links'
    assert all(links == first for links in footers.values()), footers
