"""axe-core in the real page: WCAG 2.0, 2.1 and 2.2 A and AA rules, zero violations on every page type, on a
phone (375 px, with the header's menu open) and on a desktop (1280 px)."""

import pytest

from .conftest import AXE_JS, require, set_viewport, use_session
from .pages import LOGGED_IN_PAGES, PAGES

pytestmark = pytest.mark.browser

WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']
WIDTHS = [375, 1280]
OPEN_MENU = "const menu = document.querySelector('details.site-menu'); if (menu) menu.open = true;"


@pytest.fixture(scope='session')
def axe_source():
    import os

    require(os.path.exists(AXE_JS), f'{AXE_JS} is missing (make node_modules)')
    with open(AXE_JS, encoding='utf-8') as f:
        return f.read()


def run_axe(driver, source):
    driver.execute_script(source)
    return driver.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})
          .then(results => done(results.violations.map(v => ({
              id: v.id, impact: v.impact, help: v.help,
              nodes: v.nodes.map(n => (
                  {target: n.target.join(' '), html: n.html, summary: n.failureSummary})),
          }))))
          .catch(error => done([{id: 'axe-error', impact: 'critical', help: String(error), nodes: []}]));
        """,
        WCAG_TAGS,
    )


def describe(name, path, violations):
    lines = [f'{len(violations)} axe violation(s) on {name} ({path}):']
    for violation in violations:
        lines.append(f'  [{violation["id"]}] ({violation["impact"]}) {violation["help"]}')
        for node in violation['nodes'][:5]:
            lines.append(f'      element {node["target"]}: {node["html"][:160]}')
            lines.append(f'        {node["summary"]}'.replace('\n', ' '))
    return '\n'.join(lines)


#: Known violations, each with what must change: the test fails when one is fixed, so that it is taken off.
KNOWN = {}


def pages_and_widths(names):
    return [
        pytest.param(name, width, marks=[pytest.mark.xfail(strict=True, reason=KNOWN[name, width])])
        if (name, width) in KNOWN
        else pytest.param(name, width)
        for name in names
        for width in WIDTHS
    ]


@pytest.mark.parametrize(('name', 'width'), pages_and_widths([name for name, _ in PAGES]))
def test_no_wcag_violations(name, width, browser, visit, page_paths, axe_source):
    path = page_paths[name]
    set_viewport(browser, width)
    visit(name)
    browser.execute_script(OPEN_MENU)
    violations = run_axe(browser, axe_source)
    assert not violations, describe(name, path, violations)


@pytest.mark.parametrize('width', WIDTHS)
@pytest.mark.parametrize('name', [name for name, _path, _login in LOGGED_IN_PAGES])
def test_no_wcag_violations_logged_in(
    name, width, browser, live_server, logged_in_pages, axe_source, session_cookies
):
    path, login = logged_in_pages[name]
    set_viewport(browser, width)
    use_session(browser, live_server, session_cookies(login))
    browser.get(live_server + path)
    browser.execute_script(OPEN_MENU)
    assert browser.current_url == live_server + path, f'{path} sent {login} to {browser.current_url}'
    violations = run_axe(browser, axe_source)
    assert not violations, describe(name, path, violations)


def test_axe_finds_a_known_violation(browser, axe_source):
    """The checker itself works: a page with an unlabelled image, no language and two 10 px buttons side
    by side fails, the last on WCAG 2.2's target size."""
    tiny = '<button style="font-size:8px;padding:0">a</button>'
    page = f'<!DOCTYPE html><title>x</title><main><img src="x.png"><p>{tiny}{tiny}</main>'
    browser.get(f'data:text/html,{page}')
    found = {violation['id'] for violation in run_axe(browser, axe_source)}
    assert {'image-alt', 'html-has-lang', 'target-size'} <= found
