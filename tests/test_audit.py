"""The audit log: entries for each action, kept in its own database, never holding secrets."""

import pytest

from portal.testing import TEST_PASSWORD, add_user, browser, log_in

pytestmark = pytest.mark.usefixtures('english_interface')


PASSWORD = TEST_PASSWORD


@pytest.fixture
def app(make_app):
    app = make_app(**{'portal.load_on_start': 'false'})
    add_user(app, 'admin', PASSWORD, roles=['Administrator'])
    add_user(app, 'editor', PASSWORD, roles=['Editor'])
    return app


client = browser


def entries(app):
    """Every audit entry, oldest first, read straight from the audit database."""
    db = app.registry._zodb_databases['audit']
    conn = db.open()
    try:
        log = conn.root().get('audit_log')
        return [] if log is None else list(reversed(list(log.newest())))
    finally:
        conn.close()


def test_audit_log_is_in_its_own_database(app):
    client(app, 'editor')
    content = app.registry._zodb_databases[''].open()
    try:
        assert 'audit_log' not in content.root()
    finally:
        content.close()
    assert entries(app)[-1]['action'] == 'login'


def test_logins_are_recorded_without_the_password(app):
    browser = client(app)
    log_in(browser, 'editor', 'a wrong password here', status=400)
    log_in(browser, 'editor', PASSWORD)
    browser.get('/').forms['logout-form'].submit(status=303)
    found = entries(app)
    assert [e['action'] for e in found] == ['login-failed', 'login', 'logout']
    failed = found[0]
    assert failed['detail'] == {'login': 'editor'}
    assert failed['address'] == '198.51.100.7'
    assert found[1]['actor'] == 'editor'
    for entry in found:
        assert 'a wrong password here' not in repr(entry)
        assert PASSWORD not in repr(entry)


def test_content_actions_are_recorded(app):
    editor = client(app, 'editor')
    form = editor.get('/@@add', params={'type': 'Page'}).forms['edit-form']
    form['title'] = 'Tiedote'
    form.submit('save', status=303)
    form = editor.get('/tiedote/@@edit').forms['edit-form']
    form['description'] = 'Uusi kuvaus'
    form.submit('save', status=303)
    editor.get('/tiedote/@@state').forms['state-form'].submit('transition', value='submit', status=303)
    editor.get('/tiedote/@@delete').forms['confirm-form'].submit('confirm', status=303)
    found = [e for e in entries(app) if e['action'] != 'login']
    assert [(e['action'], e['path']) for e in found] == [
        ('add', '/tiedote'),
        ('edit', '/tiedote'),
        ('state', '/tiedote'),
        ('delete', '/tiedote'),
    ]
    assert all(e['actor'] == 'editor' for e in found)
    assert found[1]['detail'] == {'fields': ('description',)}
    assert found[2]['detail'] == {'from': 'private', 'to': 'pending'}


def test_audit_view_for_administrators_only_and_filters(app):
    client(app, 'editor').get('/@@audit', status=403)
    client(app).get('/@@audit', status=403)
    admin = client(app, 'admin')
    page = admin.get('/@@audit')
    assert 'editor' in page.text
    form = page.forms['audit-filter']
    form['action'] = 'login'
    form['actor'] = 'admin'
    res = form.submit()
    rows = res.html.select('table.audit tbody tr')
    assert len(rows) == 1
    assert 'admin' in rows[0].text
    admin.get('/@@audit', params={'page': '²'}, status=400)
    res = admin.get('/@@audit', params={'since': 'not-a-day'})
    assert 'YYYY-MM-DD' in res.text
    assert admin.get('/@@audit', params={'since': '2999-01-01'}).html.select('table.audit tbody tr') == []


def test_secret_keys_never_reach_the_log():
    from portal.audit import _clean

    assert _clean({'password': 'x', 'csrf_token': 'y', 'login': 'anna', 'fields': ['a']}) == {
        'login': 'anna',
        'fields': ('a',),
    }
