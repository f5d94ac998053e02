"""Reflow (WCAG 1.4.10) and text resize (1.4.4) on every page type, and screenshots for people to look at.

At 320 CSS pixels wide no page may scroll sideways.  With the browser's text size doubled (Chromium's own
font-size setting, as a user would set it), the text must grow to about twice its size, nothing may scroll
sideways at 1280 px, and no box that hides its overflow may cut text off.
"""

import base64
import os

import pytest

from .conftest import SCREENSHOTS, set_viewport
from .pages import PAGES

pytestmark = pytest.mark.browser

OVERFLOWING = """
const limit = document.documentElement.clientWidth;
const wide = [];
for (const element of document.querySelectorAll('body *')) {
  const rect = element.getBoundingClientRect();
  if (rect.width && rect.right > limit + 1 && !element.closest('.skip-link, .visually-hidden')) {
    wide.push(element.tagName.toLowerCase() + (element.className ? '.' + element.className : '')
              + ' right=' + Math.round(rect.right));
  }
}
return {scroll: document.documentElement.scrollWidth, width: limit, wide: wide.slice(0, 8)};
"""

CLIPPED = """
const clipped = [];
for (const element of document.querySelectorAll('body *')) {
  const style = getComputedStyle(element);
  if (element.closest('.skip-link, .visually-hidden') || !(element.innerText || '').trim()) continue;
  const hides = ['hidden', 'clip'];
  if ((hides.includes(style.overflowX) && element.scrollWidth > element.clientWidth + 1)
      || (hides.includes(style.overflowY) && element.scrollHeight > element.clientHeight + 1)) {
    clipped.push(element.tagName.toLowerCase() + (element.className ? '.' + element.className : ''));
  }
}
return clipped;
"""

TEXT_SIZES = """
const sizes = [];
for (const element of document.querySelectorAll('body *')) {
  if ([...element.childNodes].some(node => node.nodeType === 3 && node.textContent.trim())) {
    sizes.push([element.tagName.toLowerCase() + (element.className ? '.' + element.className : ''),
                parseFloat(getComputedStyle(element).fontSize)]);
  }
}
return sizes;
"""


def page_names():
    return [name for name, _ in PAGES]


@pytest.mark.parametrize('name', page_names())
def test_reflows_at_320_px(name, browser, visit, page_paths):
    set_viewport(browser, 320, 640)
    visit(name)
    result = browser.execute_script(OVERFLOWING)
    assert result['scroll'] <= result['width'], (
        f'{name} ({page_paths[name]}) scrolls sideways at 320 px: {result["scroll"]} px wide; '
        f'elements past the edge: {result["wide"]}'
    )


@pytest.mark.parametrize('name', page_names())
def test_text_resized_to_200_percent(name, browser, visit):
    visit(name)
    normal = browser.execute_script(TEXT_SIZES)
    browser.execute_cdp_cmd('Page.setFontSizes', {'fontSizes': {'standard': 32, 'fixed': 26}})
    visit(name)
    large = browser.execute_script(TEXT_SIZES)
    assert len(normal) == len(large)
    # Text in a fixed size would stay at 1x.  Headings sized partly in vw, and the narrow layout that rem
    # media queries switch to at 200 %, make some text grow less than twice, as with the browser's zoom.
    ratios = [(n[0], round(big[1] / n[1], 2)) for n, big in zip(normal, large, strict=True)]
    fixed = [(tag, ratio) for tag, ratio in ratios if ratio < 1.4]
    assert not fixed, f'{name}: text that hardly grows with the text size setting: {fixed[:8]}'
    small_prose = [
        (tag, ratio) for tag, ratio in ratios if tag.split('.')[0] in ('p', 'li', 'dd') and ratio < 1.85
    ]
    assert not small_prose, f'{name}: running text that does not reach about 200 %: {small_prose[:8]}'
    result = browser.execute_script(OVERFLOWING)
    assert result['scroll'] <= result['width'], (
        f'{name} scrolls sideways with text at 200 %: {result["scroll"]} px; past the edge: {result["wide"]}'
    )
    clipped = browser.execute_script(CLIPPED)
    assert not clipped, f'{name}: text cut off with text at 200 % in {clipped}'


@pytest.mark.parametrize('name', page_names())
def test_screenshots(name, browser, visit):
    """Full-page screenshots at 375 and 1280 px wide in var/screenshots/, for people to look at."""
    os.makedirs(SCREENSHOTS, exist_ok=True)
    for width in (375, 1280):
        set_viewport(browser, width)
        visit(name)
        height = browser.execute_script('return document.documentElement.scrollHeight')
        set_viewport(browser, width, min(height, 6000))
        # optimizeForSpeed: half the encoding time (250 -> 120 ms a 1280 px page) for a larger file.
        shot = browser.execute_cdp_cmd('Page.captureScreenshot', {'format': 'png', 'optimizeForSpeed': True})
        path = os.path.join(SCREENSHOTS, f'{name}-{width}.png')
        with open(path, 'wb') as f:
            f.write(base64.b64decode(shot['data']))
        assert os.path.getsize(path) > 1000


CHART_TEXT = """
return [...document.querySelectorAll('svg.chart text')].map(text => [
  text.textContent, text.getBoundingClientRect().height, parseFloat(getComputedStyle(text).fontSize),
  text.getBoundingClientRect().left >= 0 && text.getBoundingClientRect().right <= innerWidth,
]);
"""


@pytest.mark.parametrize('name', ['estimator', 'decision-brief'])
def test_chart_text_keeps_the_page_text_size_at_any_width(name, browser, visit):
    """A chart's text is drawn at its font size on a phone and on a wide screen, inside the window: a
    chart scaled to its width (a viewBox) drew 13 px text 8 px high at 375 px and 10 px high at 1280 px."""
    for width in (375, 1280):
        set_viewport(browser, width)
        visit(name)
        texts = browser.execute_script(CHART_TEXT)
        assert texts, f'{name}: no chart'
        small = [(text, round(high, 1), size) for text, high, size, _inside in texts if high < size * 0.95]
        assert not small, f'{name} at {width} px: chart text drawn smaller than its font size: {small[:4]}'
        outside = [text for text, _height, _size, inside in texts if not inside]
        assert not outside, f'{name} at {width} px: chart text past the window: {outside[:4]}'
        assert min(size for _text, _height, size, _inside in texts) >= 13
