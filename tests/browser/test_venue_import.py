"""An administrator imports venues through the page: a 200-row file with three bad rows changes nothing
and lists the three, then the corrected file adds the 200 venues and the catalogue counts them."""

import base64
import json
import os

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from .conftest import BROWSER_ADMIN, SCREENSHOTS, fetch, log_in_browser, set_viewport

pytestmark = pytest.mark.browser

HEADER = 'name;title;card_benefit;categories;municipality;postcode;latitude;longitude'
BAD = {17: ('municipality', 'Atlantis'), 90: ('categories', 'sirkus'), 151: ('postcode', '123')}


def venue_file(path, bad=None):
    """A Finnish spreadsheet CSV of 200 new venues of Tuontila; ``bad`` maps a row to a (column, cell)."""
    lines = [HEADER]
    for n in range(1, 201):
        cells = {
            'name': f'tuotu-kohde-{n}',
            'title': f'Tuotu kohde {n}',
            'card_benefit': 'Vapaa pääsy',
            'categories': '"museum; theatre"',
            'municipality': 'Tuusula',
            'postcode': '04300',
            'latitude': '60,40',
            'longitude': '25,03',
        }
        if bad and n in bad:
            column, cell = bad[n]
            cells[column] = cell
        lines.append(';'.join(cells.values()))
    path.write_bytes(('\ufeff' + '\r\n'.join(lines) + '\r\n').encode('utf-8'))
    return str(path)


def screenshot(browser, name):
    os.makedirs(SCREENSHOTS, exist_ok=True)
    for width in (375, 1280):
        set_viewport(browser, width)
        height = browser.execute_script('return document.documentElement.scrollHeight')
        set_viewport(browser, width, min(height, 6000))
        shot = browser.execute_cdp_cmd('Page.captureScreenshot', {'format': 'png'})
        with open(os.path.join(SCREENSHOTS, f'{name}-{width}.png'), 'wb') as f:
            f.write(base64.b64decode(shot['data']))
    set_viewport(browser, 1280)


#: Records which stages of the progress box were shown, and marks the page so a reload would show.
WATCH_PROGRESS = """
window.importStages = [];
const box = document.getElementById('import-progress');
new MutationObserver(() => {
  const shown = [...box.querySelectorAll('[data-stage]')].filter(p => !p.hidden).map(p => p.dataset.stage);
  if (!box.hidden && shown.length) { window.importStages.push(shown[0]); }
}).observe(box, {attributes: true, subtree: true, attributeFilter: ['hidden']});
"""


def import_file(browser, live_server, path, lang):
    """Import the file through the page; the stages its progress box showed (the page stays the same
    page: the script sent the file and put the answer in place)."""
    browser.get(f'{live_server}/venues/@@import?lang={lang}')
    browser.execute_script(WATCH_PROGRESS)
    browser.find_element(By.ID, 'import-file').send_keys(path)
    browser.find_element(By.CSS_SELECTOR, '#import-form button[type=submit]').click()
    WebDriverWait(browser, 30).until(
        lambda d: d.find_elements(By.ID, 'import-problems') or d.find_elements(By.CSS_SELECTOR, '.messages')
    )
    stages = browser.execute_script('return window.importStages')
    assert stages is not None, 'the page was reloaded: the script did not send the file'
    assert stages[:1] == ['sending'] and 'checking' in stages, stages
    assert browser.current_url.endswith('/venues/@@import') or '/venues/@@import?' in browser.current_url
    focused = browser.switch_to.active_element.get_attribute('id') or ''
    assert focused == 'import-problems' or 'messages' in browser.switch_to.active_element.get_attribute(
        'class'
    )
    return stages


def tuusula_count(live_server, cookie):
    status, text = fetch(f'{live_server}/venues/search.json?municipality=Tuusula', cookie)
    assert status == 200
    return json.loads(text)['total']


def test_import_with_bad_rows_then_a_good_file(browser, live_server, session_cookie, tmp_path):
    log_in_browser(browser, live_server, BROWSER_ADMIN)
    before = tuusula_count(live_server, session_cookie)
    import_file(browser, live_server, venue_file(tmp_path / 'bad.csv', BAD), 'fi')
    problems = [li.text for li in browser.find_elements(By.CSS_SELECTOR, '#import-problems li')]
    assert problems == [
        'Rivi 18: Kunta: Valitse kunta luettelosta.',
        'Rivi 91: Luokat: Ei ole vaihtoehtojen joukossa: sirkus.',
        'Rivi 152: Postinumero: Postinumerossa on viisi numeroa.',
    ]
    screenshot(browser, 'venue-import-errors-fi')
    import_file(browser, live_server, venue_file(tmp_path / 'bad-sv.csv', BAD), 'sv')
    assert browser.find_element(By.CSS_SELECTOR, '#import-problems li').text.startswith('Rad 18: ')
    screenshot(browser, 'venue-import-errors-sv')
    assert tuusula_count(live_server, session_cookie) == before
    import_file(browser, live_server, venue_file(tmp_path / 'good.csv'), 'fi')
    message = browser.find_element(By.CSS_SELECTOR, '.messages').text
    assert message == '200 riviä tuotu: 200 kohdetta lisätty, 0 päivitetty, 0 ennallaan.'
    screenshot(browser, 'venue-import-done-fi')
    assert tuusula_count(live_server, session_cookie) == before + 200


def test_a_slow_upload_shows_how_much_of_the_file_is_sent(browser, live_server, tmp_path):
    """On a slow connection the bar fills as the file goes (Chromium's network emulation)."""
    log_in_browser(browser, live_server, BROWSER_ADMIN)
    browser.get(f'{live_server}/venues/@@import?lang=sv')
    browser.find_element(By.ID, 'import-file').send_keys(venue_file(tmp_path / 'slow.csv', BAD))
    browser.execute_cdp_cmd('Network.enable', {})
    slow = {'offline': False, 'latency': 50, 'downloadThroughput': -1, 'uploadThroughput': 6000}
    browser.execute_cdp_cmd('Network.emulateNetworkConditions', slow)
    try:
        browser.find_element(By.CSS_SELECTOR, '#import-form button[type=submit]').click()
        box = browser.find_element(By.ID, 'import-progress')
        bar = box.find_element(By.TAG_NAME, 'progress')
        WebDriverWait(browser, 20).until(
            lambda _d: box.is_displayed() and float(bar.get_attribute('value')) > 0
        )
        assert box.find_element(By.CSS_SELECTOR, '[data-stage="sending"]').text == 'Filen skickas…'
        assert browser.find_element(By.CSS_SELECTOR, '#import-form button[type=submit]').get_attribute(
            'disabled'
        )
        os.makedirs(SCREENSHOTS, exist_ok=True)
        browser.save_screenshot(os.path.join(SCREENSHOTS, 'venue-import-progress-sv-1280.png'))
    finally:
        browser.execute_cdp_cmd(
            'Network.emulateNetworkConditions',
            {'offline': False, 'latency': 0, 'downloadThroughput': -1, 'uploadThroughput': -1},
        )
    WebDriverWait(browser, 60).until(lambda d: d.find_elements(By.ID, 'import-problems'))
    assert browser.find_element(By.CSS_SELECTOR, '#import-problems li').text.startswith('Rad 18: ')
