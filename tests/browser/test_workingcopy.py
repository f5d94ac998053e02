"""A working copy in a real browser: edit a published page, submit the copy, publish it."""

import os

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from portal.testing import edit_site

from .conftest import (
    AXE_JS,
    BROWSER_ADMIN,
    SCREENSHOTS,
    fetch,
    log_in_browser,
    navigates,
    require,
    set_viewport,
)
from .test_accessibility import run_axe

pytestmark = pytest.mark.browser


@pytest.fixture
def kept_page(live_app):
    """Put the page back afterwards: the live database is shared by every browser test."""
    with edit_site(live_app) as site:
        saved = {lang: dict(texts) for lang, texts in site['kaikukortti'].texts.items()}
    yield
    with edit_site(live_app) as site:
        site['kaikukortti'].texts.clear()
        site['kaikukortti'].texts.update(saved)
        site['kaikukortti'].working_copy = None


def test_edit_a_published_page_as_a_working_copy_submit_and_publish(browser, live_server, kept_page):
    log_in_browser(browser, live_server, BROWSER_ADMIN)
    browser.get(live_server + '/kaikukortti/@@edit')
    description = browser.find_element(By.NAME, 'description')
    before = description.get_attribute('value')
    description.clear()
    description.send_keys('Työversion kuvaus, joka julkaistaan tarkastuksen jälkeen.')
    with navigates(browser):
        browser.find_element(By.ID, 'edit-formsave').click()
    WebDriverWait(browser, 10).until(lambda d: '@@edit' not in d.current_url)
    assert browser.current_url.rstrip('/').endswith('/kaikukortti')
    assert before in fetch(live_server + '/kaikukortti/')[1]  # the public still sees the published text
    notice = browser.find_element(By.CSS_SELECTOR, '.working-copy-notice')
    with navigates(browser):
        notice.find_element(By.TAG_NAME, 'a').click()
    WebDriverWait(browser, 10).until(lambda d: '@@working-copy' in d.current_url)
    assert browser.current_url.endswith('/kaikukortti/@@working-copy')
    inserted = [ins.text for ins in browser.find_elements(By.CSS_SELECTOR, '.diff ins')]
    assert 'Työversion kuvaus, joka julkaistaan tarkastuksen jälkeen.' in ' '.join(inserted)
    with navigates(browser):
        browser.find_element(By.CSS_SELECTOR, 'button[value=submit]').click()
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, 'button[value=publish]'))
    assert 'Odottaa tarkastusta' in browser.find_element(By.CSS_SELECTOR, '.working-copy-facts').text
    assert before in fetch(live_server + '/kaikukortti/')[1]
    require(os.path.exists(AXE_JS), f'{AXE_JS} is missing (make node_modules)')
    with open(AXE_JS, encoding='utf-8') as f:
        axe = f.read()
    for lang in ('fi', 'sv'):
        browser.get(live_server + f'/kaikukortti/@@working-copy?lang={lang}')
        for width in (375, 1280):
            set_viewport(browser, width)
            assert run_axe(browser, axe) == [], (lang, width)
            os.makedirs(SCREENSHOTS, exist_ok=True)
            browser.save_screenshot(os.path.join(SCREENSHOTS, f'working-copy-{lang}-{width}.png'))
    browser.get(live_server + '/kaikukortti/@@working-copy?lang=fi')
    with navigates(browser):
        browser.find_element(By.CSS_SELECTOR, 'button[value=publish]').click()
    WebDriverWait(browser, 10).until(lambda d: '@@working-copy' not in d.current_url)
    assert browser.current_url.rstrip('/').endswith('/kaikukortti')
    assert not browser.find_elements(By.CSS_SELECTOR, '.working-copy-notice')
    public = fetch(live_server + '/kaikukortti/')[1]
    assert 'Työversion kuvaus, joka julkaistaan tarkastuksen jälkeen.' in public
