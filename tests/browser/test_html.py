"""The Nu HTML Checker over every page type's HTML: zero errors.

The pages are fetched once and checked by one Java process (``--format json``), which keeps the run short;
each page then has its own test, so a failure names the page, the line and the message.
"""

import json
import os
import shutil
import subprocess

import pytest

from .conftest import VNU_JAR, fetch, fetch_as, require
from .pages import EXPECTED_STATUS, LOGGED_IN, LOGGED_IN_PAGES, PAGES

pytestmark = pytest.mark.browser

#: A page with known errors, checked in the same run, to show the checker really reports.
SELF_TEST = '(self-test)'


@pytest.fixture(scope='session')
def vnu_messages(pages, logged_in_pages, live_server, session_cookie, tmp_path_factory):
    """{page name: [error messages]} for every page in the tables, from one run of the checker."""
    require(shutil.which('java') is not None, 'java is missing (apt-get install default-jre-headless)')
    require(os.path.exists(VNU_JAR), f'{VNU_JAR} is missing (make node_modules)')
    directory = tmp_path_factory.mktemp('html')
    files, statuses = {}, {}
    for name, path in pages:
        statuses[name], html = fetch(live_server + path, session_cookie if name in LOGGED_IN else None)
        files[name] = directory / f'{name}.html'
        files[name].write_text(html, encoding='utf-8')
    for name, (path, login) in logged_in_pages.items():
        statuses[name], html = fetch_as(live_server, path, login)
        files[name] = directory / f'{name}.html'
        files[name].write_text(html, encoding='utf-8')
    files[SELF_TEST] = directory / 'self-test.html'
    broken = '<!DOCTYPE html><html lang="fi"><title>x</title><p><div></p>'
    files[SELF_TEST].write_text(broken, encoding='utf-8')
    result = subprocess.run(
        [
            'java',
            '-Xss1m',
            '-jar',
            VNU_JAR,
            '--format',
            'json',
            '--exit-zero-always',
            *map(str, files.values()),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = json.loads(result.stderr or result.stdout)
    by_file = {str(path): name for name, path in files.items()}
    messages = {name: [] for name in files}
    for message in report['messages']:
        name = by_file.get(message.get('url', '').removeprefix('file:'))
        if message.get('type') == 'error' or message.get('subType') == 'fatal':
            messages.setdefault(name, []).append(message)
    return statuses, messages


@pytest.mark.parametrize('name', [name for name, _ in PAGES])
def test_valid_html(name, vnu_messages, page_paths):
    statuses, messages = vnu_messages
    assert statuses[name] == EXPECTED_STATUS.get(name, 200), f'{page_paths[name]} answered {statuses[name]}'
    errors = messages[name]
    details = '\n'.join(
        f'  line {m.get("lastLine", "?")}: {m.get("message")} [{m.get("extract", "").strip()[:120]}]'
        for m in errors
    )
    assert not errors, f'{len(errors)} HTML error(s) on {name} ({page_paths[name]}):\n{details}'
    assert None not in messages, f'messages that match no page: {messages[None]}'


@pytest.mark.parametrize('name', [name for name, _path, _login in LOGGED_IN_PAGES])
def test_valid_html_logged_in(name, vnu_messages, logged_in_pages):
    statuses, messages = vnu_messages
    path, login = logged_in_pages[name]
    assert statuses[name] == 200, f'{path} answered {statuses[name]} to {login}'
    errors = messages[name]
    details = '\n'.join(
        f'  line {m.get("lastLine", "?")}: {m.get("message")} [{m.get("extract", "").strip()[:120]}]'
        for m in errors
    )
    assert not errors, f'{len(errors)} HTML error(s) on {name} ({path}):\n{details}'


def test_checker_reports_known_errors(vnu_messages):
    _, messages = vnu_messages
    assert messages[SELF_TEST], 'the Nu HTML Checker found no error in a page that has them'
