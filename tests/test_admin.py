"""User administration, local roles (sharing), rename, move and reorder, through the real forms."""

import pytest
import webtest

from portal.testing import add_user, log_in

pytestmark = pytest.mark.usefixtures('english_interface')


PASSWORD = 'correct horse battery staple'


@pytest.fixture
def app(make_app):
    app = make_app(**{'portal.load_on_start': 'false'})
    add_user(app, 'admin', PASSWORD, roles=['Administrator'])
    add_user(app, 'editor', PASSWORD, roles=['Editor'])
    return app


counter = iter(range(1, 10_000))


def client(app, login=None):
    browser = webtest.TestApp(
        app, extra_environ={'HTTP_HOST': 'example.com', 'REMOTE_ADDR': f'203.0.113.{next(counter) % 250}'}
    )
    if login:
        log_in(browser, login, PASSWORD)
    return browser


def add(browser, path, type_name, title):
    form = browser.get(f'{path.rstrip("/")}/@@add', params={'type': type_name}).forms['edit-form']
    form['title'] = title
    return form.submit('save', status=303)


def tick(form, value):
    next(box for box in form.fields['checkbox'] if box._value == value).checked = True


def test_admin_adds_a_user_who_can_log_in(app):
    admin = client(app, 'admin')
    form = admin.get('/@@add-user').forms['user-form']
    form['login'] = 'Anna.Virtanen'
    form['title'] = 'Anna Virtanen'
    tick(form, 'Editor')
    form['password'] = 'another good passphrase'
    form['password-confirm'] = 'another good passphrase'
    form.submit('save', status=303)
    listing = admin.get('/@@users')
    assert 'anna.virtanen' in listing.text
    log_in(client(app), 'anna.virtanen', 'another good passphrase')


def test_add_user_refuses_weak_password_and_taken_login(app):
    admin = client(app, 'admin')
    form = admin.get('/@@add-user').forms['user-form']
    form['login'] = 'editor'
    form['password'] = 'password'
    form['password-confirm'] = 'password'
    res = form.submit('save', status=400)
    assert 'This login name is in use.' in res.text
    assert 'at least 12' in res.text
    assert 'value="password"' not in res.text


def test_disabling_a_user_ends_their_sessions(app):
    editor = client(app, 'editor')
    editor.get('/@@contents', status=200)
    admin = client(app, 'admin')
    form = admin.get('/@@user', params={'login': 'editor'}).forms['user-form']
    form['disabled'] = True
    form.submit('save', status=303)
    editor.get('/@@contents', status=403)
    log_in(client(app), 'editor', PASSWORD, status=400)


def test_password_reset_ends_sessions_and_new_password_works(app):
    editor = client(app, 'editor')
    admin = client(app, 'admin')
    form = admin.get('/@@user', params={'login': 'editor'}).forms['user-form']
    form['password'] = 'a brand new passphrase'
    form['password-confirm'] = 'a brand new passphrase'
    form.submit('save', status=303)
    editor.get('/@@contents', status=403)
    log_in(client(app), 'editor', 'a brand new passphrase')


def test_user_admin_is_for_administrators_only(app):
    editor = client(app, 'editor')
    for url in ('/@@users', '/@@add-user', '/@@user?login=admin', '/@@sharing'):
        editor.get(url, status=403)
        client(app).get(url, status=403)


def test_local_editor_edits_one_folder_only(app):
    admin = client(app, 'admin')
    add(admin, '/', 'Folder', 'Turku')
    add(admin, '/', 'Folder', 'Oulu')
    add_user(app, 'turku', PASSWORD)
    form = admin.get('/turku/@@sharing').forms['sharing-form']
    form['login'] = 'turku'
    form['role'] = 'Editor'
    form.submit('add', status=303)
    local = client(app, 'turku')
    add(local, '/turku', 'Page', 'Tapahtumat')
    local.get('/turku/tapahtumat/@@edit', status=200)
    local.get('/oulu/@@add', params={'type': 'Page'}, status=403)
    local.get('/oulu/', status=403)
    local.get('/@@contents', status=403)
    admin.get('/turku/@@sharing').forms['sharing-form'].submit('remove', value='user:turku', status=303)
    local.get('/turku/@@contents', status=403)


def test_rename_keeps_order_and_refuses_bad_names(app):
    admin = client(app, 'admin')
    for title in ('Yksi', 'Kaksi', 'Kolme'):
        add(admin, '/', 'Page', title)
    # By name: kaksi, kolme, yksi; moving kolme up makes the order explicit.
    contents = admin.get('/@@contents')
    contents.forms['contents-form'].submit('up', value='kolme', status=303)
    form = admin.get('/kaksi/@@rename').forms['rename-form']
    form['name'] = '../evil'
    assert 'Use lower-case' in form.submit(status=400).text
    form['name'] = 'yksi'
    assert 'This name is in use' in form.submit(status=400).text
    form['name'] = 'toinen'
    assert form.submit(status=303).location == 'http://example.com/toinen/'
    admin.get('/kaksi/', status=404)
    rows = admin.get('/@@contents').html.select('table.contents tbody tr')
    names = [row.select_one('input')['value'] for row in rows]
    assert [name for name in names if name != 'registry'] == ['kolme', 'toinen', 'yksi']  # the plugin's


def test_move_into_another_folder(app):
    admin = client(app, 'admin')
    add(admin, '/', 'Folder', 'Arkisto')
    add(admin, '/', 'Page', 'Vanha')
    form = admin.get('/vanha/@@move').forms['move-form']
    form['target'] = '/ei-ole'
    assert 'There is no folder' in form.submit(status=400).text
    form['target'] = '/arkisto'
    assert form.submit(status=303).location == 'http://example.com/arkisto/vanha/'
    admin.get('/vanha/', status=404)
    form = admin.get('/arkisto/@@move').forms['move-form']
    form['target'] = '/arkisto/'
    assert 'into itself' in form.submit(status=400).text
