"""The issuer's paths in Chromium: a card issued by its pre-printed code, a paper-form card registered
back-dated, and a community card checked and recorded with its group at the door.  Each path saves
screenshots at 375 px and 1280 px, in Finnish and Swedish, under ``var/screenshots/``."""

import datetime
import os

import pytest

from portal.testing import edit_site

from .conftest import SCREENSHOTS, log_in_browser, navigates, set_viewport
from .test_print import one_page_of, print_pages

pytestmark = pytest.mark.browser


def stock_codes(app, size=3):
    """A new batch allocated to the issuing site of ``seed_registry``; its codes."""
    from kaiku_registry import today

    with edit_site(app) as site:
        registry = site['registry']
        batch = registry.new_batch(size, today(), ('municipality', 'Tampere'))
        registry.allocate_batch(batch, registry.site_of('issuer'), today())
        return list(batch.codes)


def shoot(driver, name):
    """Screenshots of the page as it is at 375 px and 1280 px wide."""
    os.makedirs(SCREENSHOTS, exist_ok=True)
    for width in (375, 1280):
        set_viewport(driver, width)
        driver.execute_script('window.scrollTo(0, 0)')
        driver.save_screenshot(os.path.join(SCREENSHOTS, f'{name}-{width}.png'))
    set_viewport(driver, 1280)


def shoot_languages(driver, base, path, name):
    for language in ('fi', 'sv'):
        driver.get(f'{base}{path}{"&" if "?" in path else "?"}lang={language}')
        shoot(driver, f'{name}-{language}')


def fill_issue_form(driver, code, issued_on=None):
    from selenium.webdriver.common.by import By

    driver.find_element(By.ID, 'source-stock').click()
    driver.find_element(By.ID, 'code').send_keys(code)
    if issued_on is not None:
        field = driver.find_element(By.ID, 'issued_on')
        field.clear()
        field.send_keys(issued_on)
    driver.find_element(By.ID, 'birth_year').send_keys('1985')
    driver.find_element(By.ID, 'postcode').send_keys('33100')
    with navigates(driver):
        driver.find_element(By.CSS_SELECTOR, 'form.form button[type="submit"]').click()


def printed_card(driver):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, '.kaiku-card'))
    code = driver.find_element(By.CSS_SELECTOR, '.card-code').text.split()[-1]
    until = driver.find_element(By.CSS_SELECTOR, '.card-facts dd').text
    return code, until


def test_a_card_is_issued_by_its_pre_printed_code(browser, live_app, live_server):
    codes = stock_codes(live_app)
    log_in_browser(browser, live_server, 'issuer')
    shoot_languages(browser, live_server, '/registry/issue', 'issue-pre-printed')
    browser.get(live_server + '/registry/issue?lang=fi')
    fill_issue_form(browser, codes[0][:4] + '-' + codes[0][4:8] + '-' + codes[0][8:])
    code, _until = printed_card(browser)
    assert code.replace('-', '') == codes[0]
    shoot(browser, 'issue-pre-printed-printed-fi')


def test_a_paper_form_card_is_registered_back_dated(browser, live_app, live_server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from kaiku_registry import today
    from kaiku_registry.models import one_year_on
    from portal.clock import show_day

    codes = stock_codes(live_app)
    log_in_browser(browser, live_server, 'issuer')
    given = today() - datetime.timedelta(days=10)
    browser.get(live_server + '/registry/issue?lang=fi')
    fill_issue_form(browser, codes[0], (given - datetime.timedelta(days=25)).strftime('%d.%m.%Y'))
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.ID, 'issued_on-error'))
    error = browser.find_element(By.ID, 'issued_on-error')
    assert error.text == 'Päivämäärä voi olla enintään 30 päivän takaa.'
    shoot(browser, 'issue-paper-refused-fi')
    browser.get(live_server + '/registry/issue?lang=sv')
    fill_issue_form(browser, codes[0], given.strftime('%d.%m.%Y'))
    code, until = printed_card(browser)
    assert code.replace('-', '') == codes[0]
    assert until == show_day(one_year_on(given), 'sv')
    shoot(browser, 'issue-paper-printed-sv')


def test_a_community_card_at_the_door(browser, live_app, live_server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    log_in_browser(browser, live_server, 'issuer')
    browser.get(live_server + '/registry/issue?lang=fi')
    with navigates(browser):
        browser.find_element(By.CSS_SELECTOR, '.community-issue button[type="submit"]').click()
    code, _until = printed_card(browser)
    assert browser.find_element(By.CSS_SELECTOR, '.card-kind').text == 'Yhteisön Kaikukortti'
    browser.delete_all_cookies()

    log_in_browser(browser, live_server, 'door')
    for language in ('sv', 'fi'):
        browser.get(f'{live_server}/registry/door?lang={language}')
        browser.find_element(By.ID, 'code').send_keys(code)
        with navigates(browser):
            browser.find_element(By.CSS_SELECTOR, '.door-form button[type="submit"]').click()
        WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.ID, 'group'))
        assert browser.find_elements(By.CSS_SELECTOR, '.community-rule')
        assert not browser.find_elements(By.ID, 'children')
        shoot(browser, f'door-community-{language}')
    browser.find_element(By.ID, 'group').send_keys('0')
    with navigates(browser):
        browser.find_element(By.CSS_SELECTOR, 'form[action$="door-record"] button[type="submit"]').click()
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.ID, 'group-error'))
    browser.find_element(By.ID, 'group').send_keys('7')
    with navigates(browser):
        browser.find_element(By.CSS_SELECTOR, 'form[action$="door-record"] button[type="submit"]').click()
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, '.status-ok'))
    assert '7' in browser.find_element(By.CSS_SELECTOR, '.status-ok').text
    shoot(browser, 'door-community-recorded-fi')
    with edit_site(live_app) as site:
        registry = site['registry']
        assert registry.card_by_code(code.replace('-', '')).uses == 1


def test_a_coordinator_makes_allocates_and_prints_a_batch(browser, live_server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    log_in_browser(browser, live_server, 'coordinator')
    browser.get(live_server + '/registry/stock?lang=fi')
    browser.find_element(By.ID, 'size').send_keys('6')
    with navigates(browser):
        browser.find_element(By.CSS_SELECTOR, 'form.form button[type="submit"]').click()
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.ID, 'site_id'))
    Select(browser.find_element(By.ID, 'site_id')).select_by_visible_text('Sosiaalitoimi Tampere (Tampere)')
    with navigates(browser):
        browser.find_element(By.CSS_SELECTOR, 'form[action$="stock-allocate"] button').click()
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, '.status-ok'))
    states = [cell.text for cell in browser.find_elements(By.CSS_SELECTOR, 'table.records tbody td')]
    assert states == ['Käyttämätön'] * 6
    batch_id = browser.find_element(By.CSS_SELECTOR, 'input[name="id"]').get_attribute('value')
    shoot_languages(browser, live_server, f'/registry/stock-batch?id={batch_id}', 'stock-batch')
    browser.get(f'{live_server}/registry/stock-sheet?id={batch_id}&lang=fi')
    cards = browser.find_elements(By.CSS_SELECTOR, '.stock-sheet .kaiku-card')
    assert len(cards) == 6
    shoot(browser, 'stock-sheet-fi')
    assert one_page_of(print_pages(browser), 210, 297), print_pages(browser)  # six cards to an A4 sheet
