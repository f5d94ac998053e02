"""axe-core in the real page: WCAG 2.1 A and AA rules, zero violations on every page type."""

import pytest

from .conftest import AXE_JS, log_in_browser, require
from .pages import LOGGED_IN_PAGES, PAGES

pytestmark = pytest.mark.browser

WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']


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


@pytest.mark.parametrize('name', [name for name, _ in PAGES])
def test_no_wcag_violations(name, browser, visit, page_paths, axe_source):
    path = page_paths[name]
    visit(name)
    violations = run_axe(browser, axe_source)
    assert not violations, describe(name, path, violations)


@pytest.mark.parametrize('name', [name for name, _path, _login in LOGGED_IN_PAGES])
def test_no_wcag_violations_logged_in(name, browser, live_server, logged_in_pages, axe_source):
    path, login = logged_in_pages[name]
    log_in_browser(browser, live_server, login)
    browser.get(live_server + path)
    assert browser.current_url == live_server + path, f'{path} sent {login} to {browser.current_url}'
    violations = run_axe(browser, axe_source)
    assert not violations, describe(name, path, violations)


def test_axe_finds_a_known_violation(browser, axe_source):
    """The checker itself works: a page with an unlabelled image and no language fails."""
    browser.get('data:text/html,<!DOCTYPE html><title>x</title><main><img src="x.png"></main>')
    found = {violation['id'] for violation in run_axe(browser, axe_source)}
    assert {'image-alt', 'html-has-lang'} <= found
