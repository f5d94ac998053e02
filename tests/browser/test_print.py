"""The card's print page, printed by Chromium: one A4 page with the card and its rules, or, with the
"card-sized label" choice, one page of exactly 85.6 × 54 mm holding the card alone."""

import base64
import re

import pytest

from .conftest import log_in_browser, navigates

pytestmark = pytest.mark.browser

POINTS_PER_MM = 72 / 25.4


def issue_card(driver, base):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    log_in_browser(driver, base, 'issuer')
    driver.get(base + '/registry/issue')
    driver.find_element(By.ID, 'birth_year').send_keys('1985')
    driver.find_element(By.ID, 'postcode').send_keys('33100')
    with navigates(driver):
        driver.find_element(By.CSS_SELECTOR, 'form.form button[type="submit"]').click()
    WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, '.kaiku-card'))


def print_pages(driver):
    """The page sizes (width, height) in millimetres of the page printed as PDF."""
    pdf = base64.b64decode(
        driver.execute_cdp_cmd('Page.printToPDF', {'preferCSSPageSize': True, 'printBackground': True})[
            'data'
        ]
    )
    boxes = re.findall(rb'/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]', pdf)
    return [(round(float(w) / POINTS_PER_MM, 1), round(float(h) / POINTS_PER_MM, 1)) for w, h in boxes]


def one_page_of(pages, width, height):
    """True for a single page of ``width`` × ``height`` mm (Chromium rounds to whole points)."""
    return len(pages) == 1 and abs(pages[0][0] - width) <= 0.2 and abs(pages[0][1] - height) <= 0.2


def test_the_card_prints_on_a4_and_on_a_card_sized_label(browser, live_server):
    from selenium.webdriver.common.by import By

    issue_card(browser, live_server)
    assert one_page_of(print_pages(browser), 210, 297), print_pages(browser)
    browser.find_element(By.ID, 'print-label').click()
    assert one_page_of(print_pages(browser), 85.6, 54), print_pages(browser)
    browser.find_element(By.ID, 'print-a4').click()
    assert one_page_of(print_pages(browser), 210, 297), print_pages(browser)


def test_the_codes_on_the_card_are_drawn_whole(browser, live_server):
    """The QR code and the barcode are scaled into their boxes, not cut off, and not painted black by
    the Content-Security-Policy ignoring style attributes."""
    issue_card(browser, live_server)
    sizes = browser.execute_script(
        """
        return ['.card-qr svg', '.card-barcode svg'].map(selector => {
          const svg = document.querySelector(selector);
          const box = svg.getBoundingClientRect();
          const content = svg.getBBox();
          const scale = box.width / svg.viewBox.baseVal.width;
          const white = [...svg.querySelectorAll('rect')]
            .filter(r => getComputedStyle(r).fill === 'rgb(255, 255, 255)');
          return {box: [box.width, box.height], drawn: [content.width * scale, content.height * scale],
                  viewBox: svg.getAttribute('viewBox'), white: white.length};
        });
        """
    )
    barcode = sizes[1]
    for found in sizes:
        assert found['viewBox'], found
        assert found['drawn'][0] <= found['box'][0] + 1 and found['drawn'][1] <= found['box'][1] + 1, found
    assert barcode['white'] == 1, barcode  # the background is white, the bars black
