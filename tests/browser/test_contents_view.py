"""The contents view by keyboard and by mouse: move a page to a position with the keyboard, drag a row,
cut a page and paste it into another folder."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from portal.testing import edit_site

from .conftest import BROWSER_ADMIN, log_in_browser, navigates
from .test_keyboard import active, press, tab_until
from .test_venue_import import screenshot

pytestmark = pytest.mark.browser

DRAG = """
const [source, target] = arguments;
const data = new DataTransfer();
source.dispatchEvent(new DragEvent('dragstart', {bubbles: true, dataTransfer: data}));
target.dispatchEvent(new DragEvent('dragover', {bubbles: true, cancelable: true, dataTransfer: data}));
target.dispatchEvent(new DragEvent('drop', {bubbles: true, cancelable: true, dataTransfer: data}));
"""


@pytest.fixture
def folders(live_app):
    """Two private folders of their own, the first with three pages."""
    types = live_app.registry.content_types
    with edit_site(live_app) as site:
        for name in ('jarjestys', 'toinen'):
            if name in site:
                site.remove(name, registry=live_app.registry)
            site.add(name, types['Folder'].create({'title': name.capitalize()}), registry=live_app.registry)
        for name in ('a', 'b', 'c'):
            page = types['Page'].create({'title': f'Sivu {name.upper()}'})
            site['jarjestys'].add(name, page, registry=live_app.registry)
    yield
    with edit_site(live_app) as site:  # the other pages' checks see the site as it was
        for name in ('jarjestys', 'toinen'):
            site.remove(name, registry=live_app.registry)


def click_and_wait(browser, button):
    """Click a submit button and wait for the next page."""
    with navigates(browser):
        button.click()


def order(browser):
    return [
        row.get_attribute('data-name')
        for row in browser.find_elements(By.CSS_SELECTOR, 'table.contents tbody tr')
    ]


def test_reorder_by_keyboard_and_by_dragging_then_cut_and_paste(browser, live_server, folders):
    log_in_browser(browser, live_server, BROWSER_ADMIN)
    browser.get(live_server + '/jarjestys/@@contents')
    assert order(browser) == ['a', 'b', 'c']
    # Keyboard: Tab to the "Move" choice, pick page C, type its new position and press Enter.
    tab_until(browser, lambda element: element['id'] == 'position-item', 'the Move choice')
    press(browser, 'Sivu C')
    assert active(browser)['id'] == 'position-item'
    with navigates(browser):
        press(browser, Keys.TAB, '1', Keys.ENTER)
    assert order(browser) == ['c', 'a', 'b']
    screenshot(browser, 'contents-fi')
    # Mouse: drag row A onto row C's place (the first).
    rows = browser.find_elements(By.CSS_SELECTOR, 'table.contents tbody tr')
    assert rows[0].get_attribute('draggable') == 'true'
    with navigates(browser):
        browser.execute_script(DRAG, rows[1], rows[0])
    assert order(browser) == ['a', 'c', 'b']
    # Cut page B and paste it into the other folder.
    browser.find_element(By.ID, 'choose-b').click()
    browser.find_element(By.CSS_SELECTOR, '#bulk-action option[value=cut]').click()
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, '#contents-form button[name=apply]'))
    assert 'leikattu' in browser.find_element(By.CSS_SELECTOR, '.messages').text.lower()
    browser.get(live_server + '/toinen/@@contents?lang=sv')
    screenshot(browser, 'contents-paste-sv')
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, '#paste-form button[name=paste]'))
    assert order(browser) == ['b']
    browser.get(live_server + '/jarjestys/@@contents')
    assert order(browser) == ['a', 'c']
