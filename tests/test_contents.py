"""The contents view: filters, order by position (and so by drag), cut, copy and paste between folders
(portal.views.manage.contents, .clipboard, .moving)."""

import re

import pytest

from portal.testing import add_user
from portal.testing import browser as portal_browser

pytestmark = pytest.mark.usefixtures('english_interface')

PASSWORD = 'correct horse battery staple'


@pytest.fixture
def app(make_app):
    app = make_app(**{'portal.load_on_start': 'false'})
    add_user(app, 'admin', PASSWORD, roles=['Administrator'])
    add_user(app, 'publisher', PASSWORD, roles=['Publisher'])
    admin = browser(app, 'admin')
    for path, type_name, title in (
        ('/', 'Folder', 'Turku'),
        ('/', 'Folder', 'Oulu'),
        ('/turku', 'Page', 'Kevään tapahtumat'),
        ('/turku', 'Page', 'Kesän tapahtumat'),
        ('/turku', 'Folder', 'Arkisto'),
        ('/turku', 'Page', 'Yhteystiedot'),
        ('/turku/arkisto', 'Page', 'Vanha tiedote'),
    ):
        form = admin.get(f'{path.rstrip("/")}/@@add', params={'type': type_name}).forms['edit-form']
        form['title'] = title
        form.submit('save', status=303)
    add_user(app, 'local', PASSWORD, local_roles={'/turku': ['Editor']})
    return app


def browser(app, login=None, addr='192.0.2.1'):
    return portal_browser(app, login, PASSWORD, addr)


def listed(res):
    return [row['data-name'] for row in res.html.select('table.contents tbody tr')]


def choose(res, *names, action):
    form = res.forms['contents-form']
    for field in form.fields['names']:
        field.checked = field._value in names
    form['action'] = action
    return form.submit('apply', status=303).follow()


def test_filters_by_title_words_type_and_state(app):
    admin = browser(app, 'admin')
    assert listed(admin.get('/turku/@@contents', params={'title': 'TAPAHTUMAT'})) == [
        'kesan-tapahtumat',
        'kevaan-tapahtumat',
    ]
    assert listed(admin.get('/turku/@@contents', params={'title': 'kevään tapahtumat'})) == [
        'kevaan-tapahtumat'
    ]
    assert listed(admin.get('/turku/@@contents', params={'type': 'Folder'})) == ['arkisto']
    choose(admin.get('/turku/@@contents'), 'yhteystiedot', action='publish')
    assert listed(admin.get('/turku/@@contents', params={'state': 'published'})) == ['yhteystiedot']
    res = admin.get('/turku/@@contents', params={'title': 'zzz', 'type': 'Nonsense'})
    assert listed(res) == []
    assert 'No item matches the filter.' in res.text
    # The type filter offers the types the folder holds.
    options = [o['value'] for o in res.html.select('#filter-type option')]
    assert options == ['', 'Folder', 'Page']


def test_an_item_moves_to_a_position_and_out_of_range_means_the_end(app):
    admin = browser(app, 'admin')
    res = admin.get('/turku/@@contents')
    assert listed(res) == ['arkisto', 'kesan-tapahtumat', 'kevaan-tapahtumat', 'yhteystiedot']
    form = res.forms['position-form']
    form['move_to'] = 'yhteystiedot'
    form['position'] = '2'
    res = form.submit(status=303).follow()
    assert listed(res) == ['arkisto', 'yhteystiedot', 'kesan-tapahtumat', 'kevaan-tapahtumat']
    assert [cell.text for cell in res.html.select('table.contents .position')] == ['1', '2', '3', '4']
    form = res.forms['position-form']
    form['move_to'] = 'arkisto'
    form['position'] = '99'
    res = form.submit(status=303).follow()
    assert listed(res) == ['yhteystiedot', 'kesan-tapahtumat', 'kevaan-tapahtumat', 'arkisto']
    # Filtered, a row still shows its place in the whole folder.
    res = admin.get('/turku/@@contents', params={'type': 'Folder'})
    assert [cell.text for cell in res.html.select('table.contents .position')] == ['4']
    form = res.forms['position-form']
    form['position'] = 'eka'
    assert 'Give the position as a whole number from 1.' in form.submit(status=400).text
    token = form['csrf_token'].value
    admin.post('/turku/@@contents', {'csrf_token': token, 'move_to': 'nothing', 'position': '1'}, status=400)


def test_who_may_not_edit_the_folder_may_not_reorder_it(app):
    publisher = browser(app, 'publisher')
    res = publisher.get('/turku/@@contents')
    assert 'position-form' not in res.forms
    token = res.forms['contents-form']['csrf_token'].value
    publisher.post(
        '/turku/@@contents', {'csrf_token': token, 'move_to': 'arkisto', 'position': '1'}, status=403
    )


def test_cut_and_paste_moves_items_between_folders(app):
    admin = browser(app, 'admin')
    res = choose(admin.get('/turku/@@contents'), 'yhteystiedot', 'arkisto', action='cut')
    assert '2 items cut' in res.text
    res = admin.get('/oulu/@@contents').forms['paste-form'].submit('paste', status=303).follow()
    assert '2 items pasted.' in res.text
    assert listed(res) == ['arkisto', 'yhteystiedot']
    admin.get('/oulu/arkisto/vanha-tiedote/', status=200)
    admin.get('/turku/yhteystiedot/', status=404)
    # A cut is pasted once.
    assert 'paste-form' not in admin.get('/turku/@@contents').forms


def test_a_paste_that_may_not_happen_changes_nothing(app):
    admin = browser(app, 'admin')
    choose(admin.get('/turku/@@contents'), 'yhteystiedot', action='cut')
    res = admin.get(
        '/turku/arkisto/@@contents'
    )  # the paste goes in the folder the page is cut from? no: Arkisto
    choose(admin.get('/turku/@@contents'), 'arkisto', 'yhteystiedot', action='cut')
    res = admin.get('/turku/arkisto/@@contents').forms['paste-form'].submit('paste', status=400)
    problems = res.html.select('#paste-problems li')
    assert [li.get_text(' ', strip=True) for li in problems] == [
        'Arkisto: An item cannot be moved into itself.'
    ]
    admin.get('/turku/yhteystiedot/', status=200)
    # The local editor of Turku may cut there but not paste into Oulu.
    local = browser(app, 'local', addr='192.0.2.3')
    choose(local.get('/turku/@@contents'), 'yhteystiedot', action='cut')
    token = local.get('/turku/@@contents').forms['contents-form']['csrf_token'].value
    res = local.post('/oulu/@@contents', {'csrf_token': token, 'paste': '1'}, status=403)
    local.get('/turku/yhteystiedot/', status=200)


def test_copy_and_paste_makes_new_private_items_and_may_paste_again(app):
    admin = browser(app, 'admin')
    choose(admin.get('/turku/@@contents'), 'arkisto', action='publish')
    choose(admin.get('/turku/@@contents'), 'arkisto', action='copy')
    res = admin.get('/oulu/@@contents').forms['paste-form'].submit('paste', status=303).follow()
    assert listed(res) == ['arkisto']
    res = admin.get('/turku/@@contents').forms['paste-form'].submit('paste', status=303).follow()
    assert 'arkisto-2' in listed(res)
    copied = admin.get('/oulu/arkisto/vanha-tiedote/')
    assert 'Vanha tiedote' in copied.text
    # The copies are new: private, with a history of their own, and the originals are untouched.
    browser(app).get('/oulu/arkisto/', status=403)
    browser(app).get('/turku/arkisto/', status=200)
    history = admin.get('/oulu/arkisto/@@history').html.select('table.history tbody tr')
    assert len(history) == 1
    assert re.search(r'\bcreated\b', history[0].text)


def test_a_copied_file_is_a_file_of_its_own(app):
    from portal.resources.files import StoredFile
    from portal.testing import edit_site

    with edit_site(app) as site:
        material = app.registry.content_types['Material'].create({'title': 'Esite'})
        material.file = StoredFile(b'%PDF-1.4 alkuperainen', 'esite.pdf')
        site['turku'].add('esite', material, registry=app.registry)
    admin = browser(app, 'admin')
    choose(admin.get('/turku/@@contents'), 'esite', action='copy')
    admin.get('/oulu/@@contents').forms['paste-form'].submit('paste', status=303)
    assert admin.get('/oulu/esite/download').body == b'%PDF-1.4 alkuperainen'
    # Deleting the original leaves the copy's file whole.
    form = admin.get('/turku/esite/@@delete').forms['confirm-form']
    form.submit('confirm', status=303)
    assert admin.get('/oulu/esite/download').body == b'%PDF-1.4 alkuperainen'
