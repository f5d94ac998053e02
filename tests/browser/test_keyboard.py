"""Keyboard journeys: real key presses through chromedriver, no clicks and no scripted focus."""

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from .conftest import fetch
from .pages import CATALOGUE_PATH, FORMS_WITH_ERRORS

pytestmark = pytest.mark.browser

MAX_TABS = 120

ACTIVE = """
const element = document.activeElement;
if (!element || element === document.body) return null;
const rect = element.getBoundingClientRect();
const style = getComputedStyle(element);
return {
  tag: element.tagName.toLowerCase(), id: element.id,
  text: (element.innerText || element.value || '').slice(0, 40),
  href: element.getAttribute('href'), hreflang: element.getAttribute('hreflang'), type: element.type || '',
  outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0,
  shadow: style.boxShadow !== 'none',
  inView: rect.width > 0 && rect.height > 0 && rect.bottom > 0 && rect.right > 0
          && rect.top < innerHeight && rect.left < innerWidth,
  languageSwitcher: !!element.closest('nav.languages'),
  inSearchForm: !!element.closest('form[role=search]'),
  inMainForm: !!element.closest('main form'),
};
"""


def press(driver, *keys):
    actions = ActionChains(driver)
    for key in keys:
        actions.send_keys(key)
    actions.perform()


def active(driver):
    return driver.execute_script(ACTIVE)


def tab_until(driver, predicate, what):
    """Press Tab until the focused element satisfies ``predicate``; fail after MAX_TABS presses."""
    for _ in range(MAX_TABS):
        press(driver, Keys.TAB)
        element = active(driver)
        if element and predicate(element):
            return element
    pytest.fail(f'Tab never reached {what}')


PAGES_TO_WALK = ['/', '/kaikukortti/', '{first_venue}', '/guides/kaikukortti-jyvaskyla/', '/no-such-page']


@pytest.mark.parametrize('path', ['/', '/kaikukortti/', '/no-such-page'])
def test_skip_link_comes_first_and_moves_focus_to_main(path, browser, live_server):
    browser.get(live_server + path)
    press(browser, Keys.TAB)
    first = active(browser)
    assert first and first['href'] == '#main', f'the first Tab stop on {path} is {first}, not the skip link'
    assert first['inView'], 'the skip link is not visible when focused'
    press(browser, Keys.ENTER)
    assert browser.execute_script('return document.activeElement.id') == 'main'


@pytest.mark.parametrize('path', PAGES_TO_WALK)
def test_focus_is_always_visible(path, browser, live_server, page_paths):
    """Every Tab stop, from the first to the last, shows a focus indicator and is scrolled into view."""
    path = path.format(first_venue=page_paths['venue'])
    browser.get(live_server + path)
    seen = 0
    for _ in range(MAX_TABS):
        press(browser, Keys.TAB)
        element = active(browser)
        if element is None:  # past the last stop, focus leaves the document
            break
        seen += 1
        assert element['outline'] or element['shadow'], f'no visible focus on {path}: {element}'
        assert element['inView'], f'focused element out of view on {path}: {element}'
    assert seen >= 3, f'only {seen} Tab stops on {path}'


def test_language_switcher_by_keyboard(browser, live_server):
    browser.get(live_server + '/kaikukortti/')
    tab_until(browser, lambda e: e['languageSwitcher'] and e['hreflang'] == 'sv', 'the Swedish language link')
    press(browser, Keys.ENTER)
    WebDriverWait(browser, 10).until(
        lambda d: d.execute_script('return document.documentElement.lang') == 'sv'
    )
    assert '/kaikukortti/' in browser.current_url


def test_catalogue_search_by_keyboard(browser, live_server):
    """Fill the catalogue's search, choose a filter and submit, with the keyboard alone."""
    browser.get(live_server + CATALOGUE_PATH)
    if not browser.execute_script("return !!document.querySelector('main form[role=search] #catalogue-q')"):
        pytest.skip(f'no venue catalogue search (form[role=search] with #catalogue-q) on {CATALOGUE_PATH}')
    tab_until(browser, lambda e: e['id'] == 'catalogue-q', 'the search field #catalogue-q')
    press(browser, 'museo')
    chose_filter = False
    for _ in range(MAX_TABS):
        press(browser, Keys.TAB)
        element = active(browser)
        assert element and element['inSearchForm'], f'Tab left the search form before its button: {element}'
        assert element['outline'] or element['shadow'], f'no visible focus in the search form: {element}'
        if not chose_filter and element['type'] in ('checkbox', 'radio'):
            press(browser, Keys.SPACE)
            chose_filter = True
        elif not chose_filter and element['tag'] == 'select':
            press(browser, Keys.ARROW_DOWN)
            chose_filter = True
        if element['type'] == 'submit' or (element['tag'] == 'button' and element['type'] != 'button'):
            break
    press(browser, Keys.ENTER)
    WebDriverWait(browser, 10).until(lambda d: 'q=museo' in d.current_url)
    assert chose_filter, 'the search form offers no filter reachable by keyboard'
    assert browser.execute_script("return document.querySelector('#catalogue-q').value") == 'museo'


@pytest.mark.parametrize(('name', 'path'), FORMS_WITH_ERRORS)
def test_form_errors_move_focus_to_error_summary(name, path, browser, live_server):
    status, _ = fetch(live_server + path)
    if status == 404:
        pytest.skip(f'{name} ({path}) is not in this build yet')
    browser.get(live_server + path)
    if not browser.execute_script("return !!document.querySelector('main form')"):
        pytest.skip(f'{name} ({path}) has no form in main in this build yet')
    element = tab_until(
        browser,
        lambda e: (
            e['inMainForm'] and (e['type'] == 'submit' or (e['tag'] == 'button' and e['type'] != 'button'))
        ),
        f'the submit button of the form on {path}',
    )
    press(browser, Keys.ENTER)
    WebDriverWait(browser, 10).until(
        lambda d: d.execute_script("return !!document.activeElement.closest('.error-summary, [role=alert]')"),
        message=f'after submitting the empty form on {path} ({element}), focus is not on an error summary',
    )
    links = browser.execute_script(
        "const summary = document.activeElement.closest('.error-summary, [role=alert]');"
        "return [...summary.querySelectorAll('a[href^=\"#\"]')].map(a => a.getAttribute('href'))"
    )
    assert links, 'the error summary does not link to the fields in error'
    for href in links:
        assert browser.execute_script('return !!document.getElementById(arguments[0])', href[1:]), href
