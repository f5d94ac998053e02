"""The decision brief printed by Chromium: A4 pages, no form, the appendix with every input on a page of
its own, and the sensitivity chart within the page width."""

import pytest

from .test_print import print_pages

pytestmark = pytest.mark.browser

BRIEF = '/guides/kaikukortti-jyvaskyla-hyodyt-ja-kustannukset/?lang=en'


def test_the_brief_prints_on_a4_with_its_appendix_on_a_new_page(browser, live_server):
    browser.get(live_server + BRIEF)
    pages = print_pages(browser)
    assert len(pages) > 1
    assert all(abs(w - 210) <= 0.2 and abs(h - 297) <= 0.2 for w, h in pages), pages
    browser.execute_cdp_cmd('Emulation.setEmulatedMedia', {'media': 'print'})
    try:
        printed = browser.execute_script(
            """
            const style = (selector) => getComputedStyle(document.querySelector(selector));
            const chart = document.querySelector('.sensitivity-chart').getBoundingClientRect();
            const main = document.querySelector('main').getBoundingClientRect();
            return {
              form: style('form.estimator-form').display,
              appendix: style('.brief .appendix').breakBefore,
              inputs: document.querySelectorAll('.appendix table.inputs tbody tr').length,
              date: document.querySelector('.appendix p').textContent,
              chartInside: chart.right <= main.right + 1,
            };
            """
        )
    finally:
        browser.execute_cdp_cmd('Emulation.setEmulatedMedia', {'media': ''})
    assert printed['form'] == 'none'
    assert printed['appendix'] == 'page'
    assert printed['inputs'] == 28  # 23 ranges, two sector mixes, the payers, break-even, the pilot
    assert 'Computed on' in printed['date']
    assert printed['chartInside']
