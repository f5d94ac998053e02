"""An editor submits a page for review with a comment; the administrator finds it in the review queue with
who submitted it and when, and sends it back from there; the history shows both comments."""

import pytest
from selenium.webdriver.common.by import By

from portal.testing import edit_site

from .conftest import BROWSER_ADMIN, log_in_browser
from .test_contents_view import click_and_wait
from .test_venue_import import screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def pending_page(live_app):
    """A private page of its own, taken away afterwards so the other pages' checks see the site as it was."""
    with edit_site(live_app) as site:
        page = live_app.registry.content_types['Page'].create({'title': 'Tarkastettava tiedote'})
        site.add('tarkastettava', page, registry=live_app.registry)
    yield
    with edit_site(live_app) as site:
        site.remove('tarkastettava', registry=live_app.registry)


def test_submit_with_a_comment_and_send_back_from_the_queue(browser, live_server, pending_page):
    log_in_browser(browser, live_server, BROWSER_ADMIN)
    browser.get(live_server + '/tarkastettava/@@state')
    browser.find_element(By.ID, 'state-comment').send_keys('Valmis tarkastettavaksi')
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, '#state-form button[value=submit]'))
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
    click_and_wait(browser, row.find_element(By.CSS_SELECTOR, 'button[value=reject]'))
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
