"""A card's care at its issuing site and the holder's own view, in the real browser: a reprint prints the
same code and QR code, a corrected children count prints a QR code signed anew, a renewal prints the card
and the card page shows the current validity; the holder's view answers a wrong pair as it answers an
unknown code.  Screenshots at 375 and 1280 px, in Finnish and Swedish, go to var/screenshots/."""

import os

import pytest

from . import test_accessibility
from .conftest import SCREENSHOTS, log_in_browser, navigates, set_viewport
from .test_accessibility import run_axe

pytestmark = pytest.mark.browser
axe_source = test_accessibility.axe_source  # the fixture, shared


def shoot(driver, name, widths=(375, 1280)):
    os.makedirs(SCREENSHOTS, exist_ok=True)
    for width in widths:
        set_viewport(driver, width)
        set_viewport(driver, width, min(driver.execute_script('return document.body.scrollHeight'), 3000))
        driver.save_screenshot(os.path.join(SCREENSHOTS, f'{name}-{width}.png'))
    set_viewport(driver, 1280)


def issue(driver, base, children='2'):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(base + '/registry/issue')
    driver.find_element(By.ID, 'birth_year').send_keys('1985')
    driver.find_element(By.ID, 'postcode').send_keys('33100')
    children_field = driver.find_element(By.ID, 'children')
    children_field.clear()
    children_field.send_keys(children)
    with navigates(driver):
        driver.find_element(By.CSS_SELECTOR, 'form.form button[type="submit"]').click()
    WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, '.kaiku-card'))
    return driver.find_element(By.CSS_SELECTOR, '.card-code').text.split()[-1], qr_path(driver)


def qr_path(driver):
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, '.card-qr svg path').get_attribute('d')


def open_card(driver, base, code, lang='fi'):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(f'{base}/registry/cards?lang={lang}')
    driver.find_element(By.ID, 'code').send_keys(code)
    with navigates(driver):
        driver.find_element(By.CSS_SELECTOR, 'form.form button[type="submit"]').click()
    WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.ID, 'card-heading'))


def click_and_wait(driver, selector, wait_for):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    with navigates(driver):
        driver.find_element(By.CSS_SELECTOR, selector).click()
    WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, wait_for))


def expected_qr(app, code, children):
    """The path of the QR code the print page draws for ``code`` with ``children``, signed by the app."""
    import re

    from kaiku_registry import codes
    from portal.testing import edit_site

    with edit_site(app) as site:
        card = site['registry'].card_by_code(code.replace('-', ''))
        until = card.valid_until
    payload = codes.sign_payload(app.registry.registry_signing_key, card.code, until, children)
    return re.search(r' d="([^"]+)"', codes.qr_svg(payload, 'QR')).group(1)


def test_a_reprint_prints_the_same_code_and_qr(browser, live_server, axe_source):
    log_in_browser(browser, live_server, 'issuer')
    code, first_qr = issue(browser, live_server)
    open_card(browser, live_server, code)
    violations = run_axe(browser, axe_source)
    assert not violations, violations
    shoot(browser, 'card-care-fi')
    click_and_wait(browser, 'form[action$="card-reprint"] button', '.kaiku-card')
    assert browser.find_element('css selector', '.card-code').text.split()[-1] == code
    assert qr_path(browser) == first_qr
    shoot(browser, 'card-reprint-fi')


def test_a_corrected_children_count_prints_a_qr_signed_anew(browser, live_server, live_app):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    log_in_browser(browser, live_server, 'issuer')
    code, first_qr = issue(browser, live_server)
    open_card(browser, live_server, code, lang='sv')
    children = browser.find_element(By.ID, 'care-children')
    children.clear()
    children.send_keys('4')
    shoot(browser, 'card-care-sv')
    browser.find_element(By.CSS_SELECTOR, 'form.card-care button:not([formaction])').click()
    assert browser.find_element(By.ID, 'reason-error').is_displayed()  # no reason: nothing changed
    Select(browser.find_element(By.ID, 'care-reason')).select_by_value('family_changed')
    click_and_wait(browser, 'form.card-care button:not([formaction])', '.kaiku-card')
    assert qr_path(browser) != first_qr
    assert qr_path(browser) == expected_qr(live_app, code, 4)
    assert browser.find_element(By.CSS_SELECTOR, '.card-facts div:nth-child(2) dd').text == '4'
    shoot(browser, 'card-corrected-sv')


def test_renewal_prints_the_card_and_shows_the_current_validity(browser, live_server):
    from selenium.webdriver.common.by import By

    from kaiku_registry import today
    from kaiku_registry.records import one_year_on
    from portal.clock import show_day

    log_in_browser(browser, live_server, 'issuer')
    code, _qr = issue(browser, live_server, children='1')
    open_card(browser, live_server, code)
    click_and_wait(browser, 'form.card-care button[formaction]', '.kaiku-card')
    assert browser.find_element(By.CSS_SELECTOR, '.card-code').text.split()[-1] == code
    open_card(browser, live_server, code)
    shown = browser.find_elements(By.CSS_SELECTOR, 'dl.facts dd')[1].text
    assert shown == f'{show_day(today(), "fi")}–{show_day(one_year_on(today()), "fi")}'
    assert len(browser.find_elements(By.CSS_SELECTOR, '.card-history tbody tr')) == 1


def ask_holder(driver, base, code, year, lang):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(f'{base}/registry/my-card?lang={lang}')
    driver.find_element(By.ID, 'code').send_keys(code)
    driver.find_element(By.ID, 'birth_year').send_keys(year)
    with navigates(driver):
        driver.find_element(By.CSS_SELECTOR, '#holder-form button[type="submit"]').click()
    WebDriverWait(driver, 10).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, '.holder-card, .holder-not-found, #errors')
    )


def test_the_holders_view_answers_a_wrong_pair_as_an_unknown_code(browser, live_server, live_app, axe_source):
    from selenium.webdriver.common.by import By

    from kaiku_registry import codes

    live_app.registry.lookup_throttle.clear()
    log_in_browser(browser, live_server, 'issuer')
    code, _qr = issue(browser, live_server, children='3')
    browser.delete_all_cookies()
    for lang in ('fi', 'sv'):
        ask_holder(browser, live_server, code, '1986', lang)
        wrong = browser.find_element(By.CSS_SELECTOR, 'main').text
        ask_holder(browser, live_server, codes.new_code(), '1985', lang)
        assert browser.find_element(By.CSS_SELECTOR, 'main').text == wrong
        assert browser.find_elements(By.CSS_SELECTOR, '.holder-card') == []
        shoot(browser, f'holder-wrong-pair-{lang}')
        ask_holder(browser, live_server, code, '1985', lang)
        facts = [dd.text for dd in browser.find_elements(By.CSS_SELECTOR, '.holder-card dd')]
        assert facts[2:] == ['3', '0']
        violations = run_axe(browser, axe_source)
        assert not violations, violations
        shoot(browser, f'holder-card-{lang}')
