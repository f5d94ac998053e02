"""Translating on the web in a real browser: the Swedish text written beside the Finnish original."""

import os

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from portal.testing import edit_site

from .conftest import BROWSER_ADMIN, SCREENSHOTS, log_in_browser, navigates, set_viewport

pytestmark = pytest.mark.browser


@pytest.fixture
def kept_texts(live_app):
    """Put the page's texts back afterwards: the live database is shared by every browser test."""
    with edit_site(live_app) as site:
        saved = {lang: dict(texts) for lang, texts in site['kaikukortti'].texts.items()}
        sources = site['kaikukortti'].translation_sources
    yield
    with edit_site(live_app) as site:
        site['kaikukortti'].texts.clear()
        site['kaikukortti'].texts.update(saved)
        site['kaikukortti'].translation_sources = sources


def original_of(browser, name):
    row = f"//*[@name='{name}']/ancestor::div[contains(@class, 'translation-row')]"
    return browser.find_element(By.XPATH, row + "//div[contains(@class, 'original-text')]")


def test_edit_the_swedish_text_beside_the_finnish(browser, live_server, live_app, kept_texts):
    log_in_browser(browser, live_server, BROWSER_ADMIN)
    browser.get(live_server + '/kaikukortti/@@edit?lang=sv')  # no longer edits the Finnish original
    assert browser.current_url.endswith('/kaikukortti/@@translate?to=sv')
    with edit_site(live_app) as site:
        finnish_title = site['kaikukortti'].texts['fi']['title']
    original = original_of(browser, 'title')
    field = browser.find_element(By.NAME, 'title')
    assert original.text == finnish_title
    assert original.get_attribute('lang') == 'fi' and field.get_attribute('lang') == 'sv'
    # Side by side on a wide screen: the original on the left, level with the field's label.
    assert original.rect['x'] + original.rect['width'] <= field.rect['x']
    assert abs(original.rect['y'] - field.rect['y']) < 60
    for lang in ('sv', 'fi'):
        browser.get(live_server + f'/kaikukortti/@@translate?to=sv&lang={lang}')
        for width in (375, 1280):
            set_viewport(browser, width)
            os.makedirs(SCREENSHOTS, exist_ok=True)
            browser.save_screenshot(os.path.join(SCREENSHOTS, f'translate-{lang}-{width}.png'))
    set_viewport(browser, 375)  # one above the other on a phone
    original = original_of(browser, 'title')
    field = browser.find_element(By.NAME, 'title')
    assert original.rect['y'] + original.rect['height'] <= field.rect['y']
    set_viewport(browser, 1280)
    field.clear()
    field.send_keys('Kaikukortet på webben')
    with navigates(browser):
        browser.find_element(By.ID, 'edit-formsave').click()
    WebDriverWait(browser, 10).until(lambda d: '@@translate' not in d.current_url)
    browser.get(live_server + '/kaikukortti/?lang=sv')
    assert browser.find_element(By.TAG_NAME, 'h1').text == 'Kaikukortet på webben'
    browser.get(live_server + '/kaikukortti/?lang=fi')
    assert browser.find_element(By.TAG_NAME, 'h1').text == finnish_title
