"""An editor submits a page for review with a comment; the administrator finds it in the review queue with
who submitted it and when, and sends it back from there; the history shows both comments."""

import pytest
from selenium.webdriver.common.by import By

from portal.testing import edit_site

from .conftest import BROWSER_ADMIN, log_in_browser
from .test_venue_import import screenshot

pytestmark = pytest.mark.browser


def test_submit_with_a_comment_and_send_back_from_the_queue(browser, live_server, live_app):
    with edit_site(live_app) as site:
        if 'tarkastettava' not in site:
            page = live_app.registry.content_types['Page'].create({'title': 'Tarkastettava tiedote'})
            site.add('tarkastettava', page, registry=live_app.registry)
    log_in_browser(browser, live_server, BROWSER_ADMIN)
    browser.get(live_server + '/tarkastettava/@@state')
    browser.find_element(By.ID, 'state-comment').send_keys('Valmis tarkastettavaksi')
    browser.find_element(By.CSS_SELECTOR, '#state-form button[value=submit]').click()
    browser.get(live_server + '/@@review?lang=sv')
    screenshot(browser, 'review-queue-sv')
    browser.get(live_server + '/@@review?lang=fi')
    screenshot(browser, 'review-queue-fi')
    row = next(
        row
        for row in browser.find_elements(By.CSS_SELECTOR, '.review-queue li')
        if 'Tarkastettava tiedote' in row.text
    )
    assert row.find_element(By.CSS_SELECTOR, '.submitter').text == BROWSER_ADMIN
    assert row.find_element(By.TAG_NAME, 'time').text
    row.find_element(By.NAME, 'comment').send_keys('Lisää yhteystiedot.')
    row.find_element(By.CSS_SELECTOR, 'button[value=reject]').click()
    assert (
        'Tarkastettava tiedote: Palauta muokattavaksi.'
        in browser.find_element(By.CSS_SELECTOR, '.messages').text
    )
    browser.get(live_server + '/tarkastettava/@@history?lang=fi')
    changes = [
        row.find_elements(By.TAG_NAME, 'td')[3].text
        for row in browser.find_elements(By.CSS_SELECTOR, 'table.history tbody tr')
    ]
    assert changes[:2] == [
        'Palauta muokattavaksi Lisää yhteystiedot.',
        'Lähetä tarkastettavaksi Valmis tarkastettavaksi',
    ]
    screenshot(browser, 'review-history-fi')
