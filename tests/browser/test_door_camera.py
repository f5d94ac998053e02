"""The door on a phone: a card's QR code or Code 39 barcode held before the camera is read, fills the code
field and checks the card, with no more taps than typing the code.  Chromium plays a video of a printed
card as its camera (:mod:`.camera`); desktop Linux Chromium has no BarcodeDetector, so these runs read
with zxing-wasm, the fallback decoder the app serves itself.

The door journey is measured on a 375 px wide screen, typed and scanned: the taps, and the seconds from
the first tap to the verdict and to the recorded visit (printed, and added to
var/screenshots/door-journey.txt).
"""

import os
import shutil
import tempfile
import time

import pytest

from .camera import code39_rows, qr_rows, write_video
from .conftest import (
    CHROME_OPTIONS,
    CHROMEDRIVER,
    CHROMIUM,
    SCREENSHOTS,
    log_in_browser,
    navigates,
    require,
    set_viewport,
)

pytestmark = pytest.mark.browser

PHONE_WIDTH, PHONE_HEIGHT = 375, 740


def camera_driver(video, language='fi'):
    """A Chromium of its own whose camera plays ``video``, with the camera allowed without asking."""
    require(os.path.exists(CHROMIUM), f'{CHROMIUM} is missing (apt-get install chromium)')
    require(os.path.exists(CHROMEDRIVER), f'{CHROMEDRIVER} is missing (apt-get install chromium-driver)')
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix='kaiku-camera-')
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        *CHROME_OPTIONS,
        f'--user-data-dir={profile}',
        '--window-size=1280,900',
        '--use-fake-ui-for-media-stream',
        '--use-fake-device-for-media-stream',
        f'--use-file-for-fake-video-capture={video}',
    ):
        options.add_argument(argument)
    options.add_experimental_option('prefs', {'intl.accept_languages': f'{language}-FI,{language}'})
    options.set_capability('goog:loggingPrefs', {'performance': 'ALL'})  # to see which decoder loaded
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    driver.profile_dir = profile
    return driver


def close(driver):
    driver.quit()
    shutil.rmtree(driver.profile_dir, ignore_errors=True)


def new_card(app, children=2):
    """A card issued at the seeded issuing site, and the signed QR payload its print page carries."""
    from kaiku_registry import codes, today
    from portal.testing import edit_site

    with edit_site(app) as site:
        registry = site['registry']
        card = registry.issue_card(registry.site_of('issuer'), today(), 1985, '33100', children)
        code, until = card.code, card.valid_until
    return code, codes.sign_payload(app.registry.registry_signing_key, code, until, children)


def fetched(driver, name):
    """True when the browser's network log shows a response for a URL ending in ``name``."""
    import json

    for entry in driver.get_log('performance'):
        message = json.loads(entry['message'])['message']
        if message['method'] == 'Network.responseReceived':
            response = message['params']['response']
            if response['url'].partition('?')[0].endswith(name) and response['status'] == 200:
                return True
    return False


def wait_for_verdict(driver, timeout=20):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    return (
        WebDriverWait(driver, timeout)
        .until(lambda d: d.find_elements(By.CSS_SELECTOR, '.server-result .verdict'))[0]
        .text
    )


def record_visit(driver):
    """Tap "Record the visit" and wait for the confirmation."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    with navigates(driver):
        driver.find_element(By.CSS_SELECTOR, 'form[action$="door-record"] button[type="submit"]').click()
    WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, '.status-ok'))


def scan_journey(driver, base):
    """On the door page of a phone-sized screen: tap Scan, wait for the verdict, tap Record; returns
    (taps, seconds to the verdict, seconds to the recorded visit, the decoder used, the verdict)."""
    from selenium.webdriver.common.by import By

    set_viewport(driver, PHONE_WIDTH, PHONE_HEIGHT)
    driver.get(base + '/registry/door')
    scan = driver.find_element(By.CSS_SELECTOR, '.door-scan .scan-start')
    assert scan.is_displayed(), 'the scan button is hidden although the browser has a camera'
    started = time.monotonic()
    scan.click()
    verdict = wait_for_verdict(driver)
    to_verdict = time.monotonic() - started
    decoder = 'zxing' if fetched(driver, 'zxing_reader.wasm') else 'native'
    record_visit(driver)
    return 2, to_verdict, time.monotonic() - started, decoder, verdict


def typed_journey(driver, base, code):
    """The same journey typed: tap the field, type the code, tap Check, tap Record."""
    from selenium.webdriver.common.by import By

    from kaiku_registry import codes

    set_viewport(driver, PHONE_WIDTH, PHONE_HEIGHT)
    driver.get(base + '/registry/door')
    started = time.monotonic()
    field = driver.find_element(By.ID, 'code')
    field.click()
    field.send_keys(codes.grouped(code))
    driver.find_element(By.CSS_SELECTOR, 'form.door-form button[type="submit"]').click()
    verdict = wait_for_verdict(driver)
    to_verdict = time.monotonic() - started
    record_visit(driver)
    return 3, to_verdict, time.monotonic() - started, verdict


@pytest.fixture
def videos(tmp_path):
    return tmp_path


def test_a_qr_code_held_before_the_camera_checks_the_card(live_app, live_server, videos):
    _code, payload = new_card(live_app)
    driver = camera_driver(write_video(videos / 'qr.y4m', qr_rows(payload)))
    try:
        log_in_browser(driver, live_server, 'door')
        taps, to_verdict, total, decoder, verdict = scan_journey(driver, live_server)
        assert verdict == 'VOIMASSA'
        has_native = driver.execute_script("return 'BarcodeDetector' in window")
        assert decoder == ('native' if has_native else 'zxing')
        os.makedirs(SCREENSHOTS, exist_ok=True)
        driver.save_screenshot(os.path.join(SCREENSHOTS, 'door-scanned-375-fi.png'))
        typed = camera_driver(write_video(videos / 'blank.y4m', [[False] * 8] * 8))
        try:
            log_in_browser(typed, live_server, 'door')
            typed_taps, typed_verdict, typed_total, typed_result = typed_journey(
                typed, live_server, new_card(live_app)[0]
            )
        finally:
            close(typed)
        assert typed_result == 'VOIMASSA'
        assert taps <= typed_taps
        report = (
            f'door journey at {PHONE_WIDTH} px: scanned {taps} taps, verdict {to_verdict:.1f} s, '
            f'visit recorded {total:.1f} s ({decoder}); typed {typed_taps} taps + 10 characters, '
            f'verdict {typed_verdict:.1f} s, visit recorded {typed_total:.1f} s (machine typing)\n'
        )
        print(report)
        with open(os.path.join(SCREENSHOTS, 'door-journey.txt'), 'a', encoding='utf-8') as f:
            f.write(report)
    finally:
        close(driver)


def test_a_code39_barcode_held_before_the_camera_checks_the_card(live_app, live_server, videos):
    code, _payload = new_card(live_app, children=1)
    driver = camera_driver(write_video(videos / 'code39.y4m', code39_rows(code)), language='sv')
    try:
        log_in_browser(driver, live_server, 'door')
        _taps, _to_verdict, _total, _decoder, verdict = scan_journey(driver, live_server)
        assert verdict == 'GILTIGT'
        os.makedirs(SCREENSHOTS, exist_ok=True)
        driver.save_screenshot(os.path.join(SCREENSHOTS, 'door-scanned-375-sv.png'))
        set_viewport(driver, 1280)
        driver.save_screenshot(os.path.join(SCREENSHOTS, 'door-scanned-1280-sv.png'))
    finally:
        close(driver)


def test_typing_stays_available_while_the_camera_scans_nothing(live_app, live_server, videos):
    """A camera that sees no code leaves the field free to type in; Stop closes the camera."""
    from selenium.webdriver.common.by import By

    code, _payload = new_card(live_app)
    driver = camera_driver(write_video(videos / 'blank.y4m', [[False] * 8] * 8))
    try:
        log_in_browser(driver, live_server, 'door')
        set_viewport(driver, PHONE_WIDTH, PHONE_HEIGHT)
        driver.get(live_server + '/registry/door')
        driver.find_element(By.CSS_SELECTOR, '.scan-start').click()
        time.sleep(1.5)
        assert driver.find_element(By.CSS_SELECTOR, '.scan-video').is_displayed()
        assert driver.execute_script('return document.documentElement.scrollWidth') <= PHONE_WIDTH
        os.makedirs(SCREENSHOTS, exist_ok=True)
        driver.save_screenshot(os.path.join(SCREENSHOTS, 'door-camera-open-375-fi.png'))
        set_viewport(driver, 1280)
        driver.save_screenshot(os.path.join(SCREENSHOTS, 'door-camera-open-1280-fi.png'))
        driver.find_element(By.CSS_SELECTOR, '.scan-stop').click()
        assert not driver.find_element(By.CSS_SELECTOR, '.scan-video').is_displayed()
        field = driver.find_element(By.ID, 'code')
        field.send_keys(code)
        field.submit()
        assert wait_for_verdict(driver) == 'VOIMASSA'
    finally:
        close(driver)
