"""The door page's offline check, in the real browser: WebCrypto's Ed25519 against payloads signed by
:mod:`kaiku_registry.codes`, and the page with the network cut off (Chromium's own offline emulation,
which makes ``navigator.onLine`` false and every request fail, as on a phone that lost its signal)."""

import datetime

import pytest

from .conftest import log_in_browser
from .test_issuer_paths import shoot

pytestmark = pytest.mark.browser


@pytest.fixture
def door(browser, live_server, live_app):
    log_in_browser(browser, live_server, 'door')
    browser.get(live_server + '/registry/door')
    browser.execute_script('return window.kaikuDoor !== undefined') or pytest.fail('door.js did not load')
    yield browser
    browser.execute_cdp_cmd(
        'Network.emulateNetworkConditions',
        {'offline': False, 'latency': 0, 'downloadThroughput': -1, 'uploadThroughput': -1},
    )


def sign(app, code=None, days=30, children=2):
    from kaiku_registry import codes

    until = datetime.date.today() + datetime.timedelta(days=days)
    return codes.sign_payload(app.registry.registry_signing_key, code or codes.new_code(), until, children)


def tampered_signature(payload):
    head, signature = payload.rsplit('.', 1)
    flipped = ('B' if signature[10] == 'A' else 'A').join((signature[:10], signature[11:]))
    return f'{head}.{flipped}'


def tampered_date(payload):
    prefix, code, until, children, signature = payload.split('.')
    later = str(int(until[:4]) + 5) + until[4:]
    return '.'.join((prefix, code, later, children, signature))


def tampered_children(payload):
    prefix, code, until, _children, signature = payload.split('.')
    return '.'.join((prefix, code, until, '9', signature))


def check_in_page(driver, payload, today=None):
    return driver.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        const key = document.querySelector('form.door-form').dataset.publicKey;
        window.kaikuDoor.check(arguments[0], key, arguments[1] || undefined)
          .then(done, error => done({status: 'error: ' + error}));
        """,
        payload,
        today,
    )


def test_verification_vectors_from_codes(door, live_app):
    from kaiku_registry import codes

    valid = sign(live_app, children=3)
    result = check_in_page(door, valid)
    assert result['status'] == 'valid', result
    assert (result['code'], result['children']) == (valid.split('.')[1], 3)
    assert check_in_page(door, tampered_signature(valid))['status'] == 'invalid'
    assert check_in_page(door, tampered_date(valid))['status'] == 'invalid'
    assert check_in_page(door, tampered_children(valid))['status'] == 'invalid'
    assert check_in_page(door, sign(live_app, days=-1))['status'] == 'expired'
    assert check_in_page(door, sign(live_app, days=0))['status'] == 'valid'  # the last day still counts
    today = (datetime.date.today() + datetime.timedelta(days=31)).strftime('%Y%m%d')
    assert check_in_page(door, valid, today)['status'] == 'expired'
    other_key = codes.generate_key()
    forged = codes.sign_payload(other_key, codes.new_code(), datetime.date(2099, 1, 1), 20)
    assert check_in_page(door, forged)['status'] == 'invalid'
    for junk in ('', 'KK1', 'KK1.ABC.20990101.1.xx', valid.replace('KK1', 'KK2'), valid + '.x', 'x' * 500):
        assert check_in_page(door, junk)['status'] == 'invalid', junk


def submit_code(driver, text):
    from selenium.webdriver.common.by import By

    field = driver.find_element(By.ID, 'code')
    field.clear()
    field.send_keys(text)
    driver.find_element(By.CSS_SELECTOR, 'form.door-form button[type="submit"]').click()


def offline_result(driver):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    box = driver.find_element(By.ID, 'offline-result')
    WebDriverWait(driver, 10).until(lambda _d: box.is_displayed())
    return box.get_attribute('className'), box.text


def test_offline_the_page_checks_the_qr_code_itself(door, live_app, live_server):
    from selenium.webdriver.common.by import By

    from portal.clock import show_day

    valid = sign(live_app, children=2)
    door.execute_cdp_cmd('Network.enable', {})
    door.execute_cdp_cmd(
        'Network.emulateNetworkConditions',
        {'offline': True, 'latency': 0, 'downloadThroughput': 0, 'uploadThroughput': 0},
    )
    assert door.execute_script('return navigator.onLine') is False
    submit_code(door, valid)
    classes, text = offline_result(door)
    until = datetime.date.today() + datetime.timedelta(days=30)
    assert 'status-valid' in classes
    assert 'VOIMASSA' in text and show_day(until, 'fi') in text and 'offline' not in text.lower()
    # offline the page cannot know of a replacement or a loss, and says so
    assert 'ei voi tietää, onko kortti korvattu uudella tai ilmoitettu kadonneeksi' in text
    assert door.find_element(By.CSS_SELECTOR, '#offline-result .offline-replaced').is_displayed()
    shoot(door, 'door-offline-valid-fi')
    assert door.current_url == live_server + '/registry/door'  # the page stayed; nothing was sent
    submit_code(door, tampered_signature(valid))
    classes, text = offline_result(door)
    assert 'status-unknown' in classes and 'ALLEKIRJOITUS EI KELPAA' in text
    assert 'korvattu' not in text
    submit_code(door, sign(live_app, days=-3))
    classes, text = offline_result(door)
    assert 'status-expired' in classes and 'VANHENTUNUT' in text
    submit_code(door, 'ABCD-EFGH-JK')
    classes, text = offline_result(door)
    assert 'EI YHTEYTTÄ' in text


def test_online_the_server_answers_as_before(door, live_app):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    submit_code(door, sign(live_app))
    WebDriverWait(door, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, '.server-result .verdict'))
    verdict = door.find_element(By.CSS_SELECTOR, '.server-result .verdict').text
    assert verdict == 'TUNTEMATON'  # signed, but the registry does not hold the card: the registry decides
    assert not door.find_element(By.ID, 'offline-result').is_displayed()


@pytest.mark.parametrize('lang', ['fi', 'sv', 'en'])
def test_the_offline_check_writes_days_as_the_server_does(door, live_server, lang):
    """The day read from a QR code offline is written as portal.clock writes days for the reader."""
    import datetime

    from portal.clock import show_day

    door.get(f'{live_server}/registry/door?lang={lang}')
    for day in (datetime.date(2026, 12, 5), datetime.date(2027, 1, 31)):
        written = door.execute_script('return window.kaikuDoor.formatDay(arguments[0])', f'{day:%Y%m%d}')
        assert written == show_day(day, lang), (lang, day)
