"""The rich-text editor of bodies in a real browser: write with it and save; the saved text is Markdown,
sanitised on write as before; an untouched body is saved exactly as it was; no CSP violation; the
keyboard reaches the toolbar and leaves the editor."""

import os

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from portal.testing import edit_site

from .conftest import BROWSER_ADMIN, SCREENSHOTS, log_in_browser, navigates, set_viewport

pytestmark = pytest.mark.browser

EDITOR = os.path.join(os.path.dirname(__file__), '..', '..', 'themes', 'kaiku', 'static', 'vendor', 'toastui')

#: Collects the page's Content-Security-Policy violations before any of its scripts run.
WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || e.sample || ''));
});
"""


@pytest.fixture
def csp_watch(browser):
    script = browser.execute_cdp_cmd('Page.addScriptToEvaluateOnNewDocument', {'source': WATCH_CSP})
    yield
    browser.execute_cdp_cmd('Page.removeScriptToEvaluateOnNewDocument', {'identifier': script['identifier']})


@pytest.fixture
def new_pages(live_app):
    """Remove the pages the test adds: the live database is shared by every browser test."""
    with edit_site(live_app) as site:
        before = set(site.keys())
    yield
    with edit_site(live_app) as site:
        for name in set(site.keys()) - before:
            site.remove(name)


def wait_away(browser, fragment):
    WebDriverWait(browser, 10).until(lambda d: fragment not in d.current_url)


def test_edit_with_the_rich_text_editor_and_save(browser, live_server, live_app, csp_watch, new_pages):
    if not os.path.exists(os.path.join(EDITOR, 'toastui-editor.js')):
        pytest.skip('the editor is not built (make editor-assets)')
    log_in_browser(browser, live_server, BROWSER_ADMIN)
    browser.get(live_server + '/@@add?type=Page')
    browser.find_element(By.NAME, 'title').send_keys('Rikas teksti')
    assert not browser.find_element(By.NAME, 'body').is_displayed()  # the editor stands in for it
    editable = WebDriverWait(browser, 10).until(
        lambda d: d.find_element(
            By.CSS_SELECTOR, '.rich-text-editor .toastui-editor-ww-container [contenteditable]'
        ),
    )
    label_id = editable.get_attribute('aria-labelledby')
    assert browser.find_element(By.ID, label_id).text.startswith('Teksti')
    editable.click()
    ActionChains(browser).send_keys('Aukioloajat').perform()
    # A heading from the toolbar, whose tools are buttons in the Tab order.
    heading = browser.find_element(By.CSS_SELECTOR, '.toastui-editor-toolbar-icons.heading')
    assert heading.tag_name == 'button' and heading.get_attribute('tabindex') != '-1'
    tools = browser.find_elements(
        By.CSS_SELECTOR, '.toastui-editor-defaultUI-toolbar button.toastui-editor-toolbar-icons'
    )
    classes = {c for tool in tools if tool.is_displayed() for c in tool.get_attribute('class').split()}
    assert classes - {'toastui-editor-toolbar-icons', 'active'} <= {
        'heading',
        'bullet-list',
        'ordered-list',
        'table',
        'link',
        'more',
    }
    heading.click()
    browser.find_element(By.CSS_SELECTOR, '.toastui-editor-popup-add-heading [data-level="2"]').click()
    ActionChains(browser).send_keys(Keys.END, Keys.ENTER, 'Avoinna arkisin.').perform()
    for width in (375, 1280):
        set_viewport(browser, width)
        os.makedirs(SCREENSHOTS, exist_ok=True)
        browser.save_screenshot(os.path.join(SCREENSHOTS, f'rich-text-fi-{width}.png'))
    set_viewport(browser, 1280)
    # Tab leaves the editor: no keyboard trap.
    editable.click()
    ActionChains(browser).send_keys(Keys.TAB).perform()
    inside = '.toastui-editor-ww-container, .toastui-editor-md-container'
    focused_inside = browser.execute_script(f"return !!document.activeElement.closest('{inside}')")
    assert not focused_inside, 'Tab did not leave the rich-text editor'
    # The Markdown source is a keyboard press away, and back.
    toggle = browser.find_element(By.CSS_SELECTOR, 'button.editor-mode')
    toggle.send_keys(Keys.ENTER)
    assert toggle.get_attribute('aria-pressed') == 'true'
    source = browser.find_element(By.CSS_SELECTOR, '.toastui-editor-md-container [contenteditable]')
    assert source.text.splitlines()[0] == '## Aukioloajat'
    toggle.send_keys(Keys.SPACE)
    assert toggle.get_attribute('aria-pressed') == 'false'
    with navigates(browser):
        browser.find_element(By.ID, 'edit-formsave').click()
    wait_away(browser, '@@add')
    with edit_site(live_app) as site:
        page = site['rikas-teksti']
        body, body_html = page.texts['fi']['body'], page.texts['fi']['body_html']
    assert body.splitlines()[0] == '## Aukioloajat'
    assert 'Avoinna arkisin.' in body
    assert body_html.startswith('<h2>Aukioloajat</h2>')
    assert browser.execute_script('return window.__cspViolations') == []
    # Saving again without touching the body keeps its Markdown as it was: the editor does not rewrite it
    # (the browser sends a textarea's line breaks as CRLF, with or without the editor).
    with edit_site(live_app) as site:
        site['rikas-teksti'].update({'body': '- yksi\n- kaksi\n\n| a | b |\n|---|---|\n| 1 | 2 |\n'})
        before = site['rikas-teksti'].texts['fi']['body']
    browser.get(live_server + '/rikas-teksti/@@edit')
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, '.rich-text-editor'))
    with navigates(browser):
        browser.find_element(By.ID, 'edit-formsave').click()
    wait_away(browser, '@@edit')
    with edit_site(live_app) as site:
        after = site['rikas-teksti'].texts['fi']['body']
    assert after.replace('\r\n', '\n').rstrip() == before.rstrip()
    assert browser.execute_script('return window.__cspViolations') == []
