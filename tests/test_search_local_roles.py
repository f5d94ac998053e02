"""Site search follows local roles: an Editor of one folder finds that folder's private items, an Editor of
another folder does not, and the answer changes at once when the sharing page gives or takes the role."""

import pytest

from portal.events import StateChanged, notify
from portal.testing import TEST_PASSWORD, add_user, browser, edit_site, form_with


@pytest.fixture
def app(make_app):
    app = make_app(**{'portal.load_on_start': 'false'})
    types = app.registry.content_types
    with edit_site(app) as site:
        for town in ('turku', 'oulu'):
            folder = types['Folder'].create({'title': town.title()}, state='published')
            site.add(town, folder, registry=app.registry)
            page = types['Page'].create({'title': f'Salainen muistio {town}', 'body': 'Luonnos.'})
            folder.add('muistio', page, registry=app.registry)
            notify(StateChanged(page, 'private', 'private'), app.registry)
    add_user(app, 'admin', TEST_PASSWORD, roles=('Administrator',))
    add_user(app, 'turkulainen', TEST_PASSWORD, local_roles={'/turku': ('Editor',)})
    return app


def found(client, text='muistio'):
    res = client.get('/search', params={'q': text})
    return sorted(a['href'] for a in res.html.select('.listing-title a'))


def test_an_editor_of_one_folder_finds_its_private_items_and_no_others(app):
    assert found(browser(app, 'turkulainen')) == ['http://example.com/turku/muistio/']
    assert found(browser(app)) == []
    assert len(found(browser(app, 'admin'))) == 2


def test_giving_and_taking_a_local_role_on_the_sharing_page_changes_the_search_at_once(app):
    add_user(app, 'oululainen', TEST_PASSWORD)
    admin = browser(app, 'admin')
    person = browser(app, 'oululainen')
    assert found(person) == []
    form = form_with(admin.get('/oulu/@@sharing'), 'login')
    form['login'] = 'oululainen'
    form['role'] = 'Editor'
    form.submit(status=303)
    assert found(person) == ['http://example.com/oulu/muistio/']
    form = admin.get('/oulu/@@sharing').forms
    remove = next(f for f in form.values() if 'remove' in f.fields)
    remove.submit('remove', status=303)
    assert found(person) == []


def test_a_database_from_before_learns_its_local_roles_at_start(tmp_path):
    """Local roles given before the index knew of them are indexed by an evolve step."""
    from portal.evolve import DONE_KEY
    from portal.testing import build_app, close_app

    app = build_app(str(tmp_path), **{'portal.load_on_start': 'false'})
    types = app.registry.content_types
    with edit_site(app) as site:
        folder = types['Folder'].create({'title': 'Turku'}, state='published')
        site.add('turku', folder, registry=app.registry)
        folder.add('muistio', types['Page'].create({'title': 'Salainen muistio'}), registry=app.registry)
    add_user(app, 'turkulainen', TEST_PASSWORD)
    with edit_site(app) as site:
        site['turku'].set_local_roles('user:turkulainen', ('Editor',))  # as older code did: no reindex
        site._p_jar.root()[DONE_KEY].remove('portal.step0006_local_roles_in_search')
    assert found(browser(app, 'turkulainen')) == []
    close_app(app)
    app = build_app(str(tmp_path), **{'portal.load_on_start': 'false'})
    try:
        assert found(browser(app, 'turkulainen')) == ['http://example.com/turku/muistio/']
    finally:
        close_app(app)
