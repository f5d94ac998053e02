"""Paper-side paths in the real browser: a community card issued from a pre-printed code (its errors
beside its own fields), and the same paper visit entered twice, which the page asks about before
recording it again.  Screenshots at 375 px and 1280 px in Finnish and Swedish."""

import datetime

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from portal.testing import edit_site

from . import test_accessibility
from .conftest import log_in_browser, navigates
from .test_accessibility import run_axe
from .test_issuer_paths import printed_card, shoot, stock_codes

pytestmark = pytest.mark.browser
axe_source = test_accessibility.axe_source


def community_by_code(driver, code):
    driver.find_element(By.ID, 'community-source-stock').click()
    field = driver.find_element(By.ID, 'community-code')
    field.clear()
    field.send_keys(code)
    with navigates(driver):
        driver.find_element(By.CSS_SELECTOR, '.community-issue button[type="submit"]').click()


def test_a_community_card_is_issued_from_a_pre_printed_code(browser, live_app, live_server, axe_source):
    codes = stock_codes(live_app, size=1)
    log_in_browser(browser, live_server, 'issuer')
    browser.get(live_server + '/registry/issue?lang=fi')
    community_by_code(browser, 'ABCD-EFGH-JK')
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.ID, 'community-code-error'))
    assert browser.find_element(By.ID, 'community-code-error').text.startswith('Tämä ei ole kortin koodi')
    assert not browser.find_elements(By.ID, 'code-error')  # the holder's form is not blamed
    assert browser.find_element(By.ID, 'community-source-stock').is_selected()  # the choice is kept
    violations = run_axe(browser, axe_source)
    assert not violations, violations
    shoot(browser, 'issue-community-error-fi')
    browser.get(live_server + '/registry/issue?lang=sv')
    community_by_code(browser, codes[0])
    code, _until = printed_card(browser)
    assert code.replace('-', '') == codes[0]
    assert browser.find_elements(By.CSS_SELECTOR, '.card-kind')
    shoot(browser, 'issue-community-stock-sv')


def late_visit(driver, base, code, day, lang):
    driver.get(f'{base}/registry/door-late?lang={lang}')
    driver.find_element(By.ID, 'code').send_keys(code)
    driver.find_element(By.ID, 'day').send_keys(day.strftime('%d.%m.%Y'))
    with navigates(driver):
        driver.find_element(By.CSS_SELECTOR, 'main form button[type="submit"]').click()


def test_the_same_paper_visit_twice_is_asked_about(browser, live_app, live_server, axe_source):
    from kaiku_registry import today

    with edit_site(live_app) as site:
        registry = site['registry']
        card = registry.issue_card(
            registry.site_of('issuer'), today() - datetime.timedelta(days=20), 1980, '33100', 0
        )
        code = card.code
    day = today() - datetime.timedelta(days=2)
    log_in_browser(browser, live_server, 'door')
    late_visit(browser, live_server, code, day, 'fi')
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, '.status-ok'))
    for lang, words in (('fi', 'on jo kirjattu'), ('sv', 'har redan förts in')):
        late_visit(browser, live_server, code, day, lang)
        WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.ID, 'same-visit'))
        assert words in browser.find_element(By.ID, 'same-visit').text
        violations = run_axe(browser, axe_source)
        assert not violations, violations
        shoot(browser, f'late-visit-same-{lang}')
    with navigates(browser):
        browser.find_element(By.CSS_SELECTOR, '#same-visit button[name="again"]').click()
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, '.status-ok'))
    assert not browser.find_elements(By.ID, 'same-visit')
    with edit_site(live_app) as site:
        assert site['registry'].card_by_code(code).uses == 2
