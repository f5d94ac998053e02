"""Areas: a coordinator cannot leave theirs, and a role meant to be local cannot be given site-wide.

The first part replays the outside test's attack (issue 12, High 2) and walks every entry point of the
registry's coordinator pages; the last part covers the portal's local-only roles (WorkspaceCoordinator)."""

import io

import pytest

from portal.testing import TEST_PASSWORD, add_user, browser

pytestmark = pytest.mark.usefixtures('english_interface')


# Local-only roles (the portal) -------------------------------------------------------------------------
@pytest.fixture
def portal_app(make_app):
    app = make_app()
    add_user(app, 'admin', TEST_PASSWORD, roles=['Administrator'])
    return app


def test_a_site_wide_workspace_coordinator_grant_from_before_opens_no_workspace(portal_app):
    add_user(portal_app, 'everywhere', TEST_PASSWORD, roles=['WorkspaceCoordinator'])
    local = {'/tyotilat/jyvaskyla': ['WorkspaceCoordinator']}
    add_user(portal_app, 'local', TEST_PASSWORD, local_roles=local)
    browser(portal_app, 'everywhere').get('/tyotilat/jyvaskyla/', status=403)
    browser(portal_app, 'local').get('/tyotilat/jyvaskyla/', status=200)


def _user_form(admin, url):
    return admin.get(url).forms['user-form']


def _with_role(form, role):
    """The form's fields with ``role`` ticked as well, as a hand-made POST would send them."""
    fields = list(form.submit_fields('save'))
    last = max(i for i, (name, _value) in enumerate(fields) if name == '__start__' and 'roles' in _value)
    end = next(i for i in range(last, len(fields)) if fields[i][0] == '__end__')
    fields.insert(end, ('checkbox', role))
    return fields


def test_the_users_page_offers_no_local_role_and_refuses_one_posted(portal_app):
    admin = browser(portal_app, 'admin')
    form = _user_form(admin, '/@@add-user')
    values = [box._value for box in form.fields['checkbox']]
    assert 'Editor' in values and 'WorkspaceCoordinator' not in values
    form['login'] = 'anna'
    form['password'] = form['password-confirm'] = 'another good passphrase'
    admin.post(form.action, _with_role(form, 'WorkspaceCoordinator'), status=400)
    admin.get('/@@user?login=anna', status=404)
    add_user(portal_app, 'anna', TEST_PASSWORD, roles=['Editor'])
    form = _user_form(admin, '/@@user?login=anna')
    admin.post(form.action, _with_role(form, 'WorkspaceCoordinator'), status=400)
    browser(portal_app, 'anna').get('/tyotilat/jyvaskyla/', status=403)


def test_saving_a_user_drops_an_old_site_wide_grant_of_a_local_role(portal_app):
    add_user(portal_app, 'anna', TEST_PASSWORD, roles=['Editor', 'WorkspaceCoordinator'])
    admin = browser(portal_app, 'admin')
    _user_form(admin, '/@@user?login=anna').submit('save', status=303)
    assert 'Onboarding coordinator' not in admin.get('/@@users').text


def test_adduser_refuses_a_local_role(tmp_path, capsys):
    from portal.scripts.adduser import main

    ini = tmp_path / 'test.ini'
    ini.write_text(
        '[app:main]\nuse = egg:kaiku-portal\n'
        f'zodbconn.uri = file://{tmp_path}/Data.fs\n'
        f'zodbconn.uri.audit = file://{tmp_path}/Audit.fs\n'
        'portal.load_on_start = false\n'
        f'portal.session_secret_file = {tmp_path}/secret\n'
    )
    stdin = io.StringIO(TEST_PASSWORD + '\n')
    assert main([str(ini), 'anna', '--role', 'Editor', '--role', 'WorkspaceCoordinator'], stdin=stdin) == 2
    assert 'not site-wide' in capsys.readouterr().err
    assert main([str(ini), 'anna', '--role', 'Editor'], stdin=io.StringIO(TEST_PASSWORD + '\n')) == 0
