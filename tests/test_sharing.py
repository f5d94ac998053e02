"""The sharing page: roles given here apart from inherited and site-wide ones, finding users and groups by
name, and only the roles that apply to the kind of item (portal.views.manage.sharing)."""

import pytest
import webtest

from portal.testing import add_user, edit_site, log_in

pytestmark = pytest.mark.usefixtures('english_interface')

PASSWORD = 'correct horse battery staple'


@pytest.fixture
def app(make_app):
    app = make_app(**{'portal.load_on_start': 'false'})
    add_user(app, 'admin', PASSWORD, roles=['Administrator'])
    add_user(app, 'anna', PASSWORD, roles=['Publisher'], title='Anna Virtanen', local_roles={})
    add_user(app, 'ville', PASSWORD, title='Ville Ovela')
    admin = browser(app, 'admin')
    for path, title in (('/', 'Turku'), ('/turku', 'Tapahtumat')):
        form = admin.get(f'{path.rstrip("/")}/@@add', params={'type': 'Folder'}).forms['edit-form']
        form['title'] = title
        form.submit('save', status=303)
    with edit_site(app) as site:
        principals = site._p_jar.root()['principals']
        principals.add_group('turun-toimitus', title='Turun toimitus')
        principals.get_user('ville').groups = ('turun-toimitus',)
    return app


def browser(app, login=None):
    client = webtest.TestApp(app, extra_environ={'HTTP_HOST': 'example.com', 'REMOTE_ADDR': '192.0.2.1'})
    if login:
        log_in(client, login, PASSWORD)
    return client


def give(client, path, login, role, status=303):
    form = client.get(f'{path}@@sharing').forms['sharing-form']
    form['login'] = login
    form['role'].force_value(role)
    return form.submit('add', status=status)


def holder_rows(client, path):
    """{name: (given here, inherited, site-wide)} of the sharing page's table."""
    rows = client.get(f'{path}@@sharing').html.select('table.sharing tbody tr')
    return {
        row.th.get_text(strip=True): tuple(
            row.select_one(f'td.{name}').get_text(' ', strip=True)
            for name in ('given-here', 'inherited', 'site-wide')
        )
        for row in rows
    }


def offered(client, path):
    return [option['value'] for option in client.get(f'{path}@@sharing').html.select('#sharing-role option')]


def test_roles_given_here_inherited_and_site_wide_apart(app):
    admin = browser(app, 'admin')
    give(admin, '/turku/', 'anna', 'Editor')
    give(admin, '/turku/tapahtumat/', 'anna', 'Publisher')
    assert holder_rows(admin, '/turku/') == {'anna': ('Editor', '', 'Publisher')}
    assert holder_rows(admin, '/turku/tapahtumat/') == {
        'anna': ('Publisher', 'Editor ( Turku )', 'Publisher')
    }
    # Only what is given here can be removed here.
    admin.get('/turku/tapahtumat/@@sharing').forms['sharing-form'].submit(
        'remove', value='user:anna', status=303
    )
    assert holder_rows(admin, '/turku/tapahtumat/') == {'anna': ('', 'Editor ( Turku )', 'Publisher')}
    assert not admin.get('/turku/tapahtumat/@@sharing').html.select('button[name=remove]')


def test_users_and_groups_are_found_by_name_and_given_a_role(app):
    admin = browser(app, 'admin')
    res = admin.get('/turku/@@sharing', params={'q': 'turu'})
    found = [row.th.get_text(' ', strip=True) for row in res.html.select('table.sharing-found tbody tr')]
    assert found == ['Turun toimitus (turun-toimitus)']
    res = admin.get('/turku/@@sharing', params={'q': 'VIRTA'})
    assert [row.th.get_text(' ', strip=True) for row in res.html.select('table.sharing-found tbody tr')] == [
        'Anna Virtanen (anna)'
    ]
    res = admin.get('/turku/@@sharing', params={'q': 'turu'})
    form = res.forms['give-1']
    form['role'] = 'Editor'
    form.submit(status=303)
    assert holder_rows(admin, '/turku/') == {'turun-toimitus': ('Editor', '', '')}
    # The group's member edits in Turku through the group.
    browser(app, 'ville').get('/turku/tapahtumat/@@edit', status=200)
    assert 'No user or group has that name.' in admin.get('/turku/@@sharing', params={'q': 'zz'}).text


def test_only_the_roles_that_apply_here_are_offered_or_given(app):
    admin = browser(app, 'admin')
    on_folder = offered(admin, '/turku/')
    assert on_folder == ['Administrator', 'Editor', 'Publisher']
    registry_roles = {'VenueStaff', 'IssuerStaff', 'Coordinator', 'NationalAdmin'}
    assert registry_roles <= set(app.registry.roles)  # the plugin is in, and its roles stay off folders
    res = give(admin, '/turku/', 'anna', 'VenueStaff', status=400)
    assert 'That role cannot be given here.' in res.text
    res = give(admin, '/turku/', 'anna', 'WorkspaceCoordinator', status=400)
    assert 'That role cannot be given here.' in res.text
    res = give(admin, '/turku/', 'nobody', 'Editor', status=400)
    assert 'There is no such user or group.' in res.text
    assert holder_rows(admin, '/turku/') == {}


def test_role_declarations_say_where_they_apply(app):
    roles = app.registry.roles
    assert roles['Editor'].applies_to('Folder')
    assert roles['WorkspaceCoordinator'].applies_to('Workspace')
    assert not roles['WorkspaceCoordinator'].applies_to('Folder')
    assert not roles['VenueStaff'].applies_to('Folder')
    assert not roles['VenueStaff'].applies_to('Workspace')
