"""Content management cannot destroy what it does not own.

Containers that the portal or a plugin owns (``/registry``, ``/tyotilat``: content types declared with
``protected=True``) cannot be deleted, moved or renamed through the management views, by anyone; and
deleting, moving or renaming any item needs the permission on everything inside it.
"""

import datetime

import pytest
from pyramid.authorization import ALL_PERMISSIONS, Deny

from portal.testing import TEST_PASSWORD, add_user, browser, edit_site

pytestmark = pytest.mark.usefixtures('english_interface')

OWNED = 'belongs to the site or one of its parts'


@pytest.fixture
def app(make_app):
    app = make_app()
    add_user(app, 'admin', TEST_PASSWORD, roles=['Administrator'])
    add_user(app, 'editor', TEST_PASSWORD, roles=['Editor'])
    with edit_site(app) as site:
        registry = site['registry']
        city = registry.add_partner('Tampereen kaupunki', 'municipality', 'Tampere', 'Pirkanmaa')
        issuer = registry.add_site(city, 'Sosiaalitoimi', 'issuer')
        day = datetime.date(2026, 11, 29)
        registry.issue_card(issuer, day, birth_year=1980, postcode='33100', children=2)
    return app


def token(client):
    """A CSRF token of the client's session, from the management listing of the site."""
    return client.get('/@@contents').forms['contents-form']['csrf_token'].value


def cards_in(app):
    with edit_site(app) as site:
        return len(site['registry'].cards) if 'registry' in site else None


def workspaces_in(app):
    with edit_site(app) as site:
        return sorted(site['tyotilat'].keys()) if 'tyotilat' in site else None


def test_an_editor_cannot_rename_or_delete_the_registry_or_the_workspaces(app):
    """The attack as the security test reported it, replayed: every step is refused and nothing is lost."""
    assert cards_in(app) == 1
    workspaces = workspaces_in(app)
    assert 'jyvaskyla' in workspaces
    editor = browser(app, 'editor')
    csrf = token(editor)
    # Rename /registry, then delete it under its new name: the rename is refused.
    res = editor.get('/registry/@@rename', status=403)
    assert OWNED in res.text
    assert 'rename-form' not in res.text
    res = editor.post('/registry/@@rename', {'csrf_token': csrf, 'name': 'vanha'}, status=403)
    assert OWNED in res.text
    editor.get('/vanha/', status=404)
    # Delete /registry, by its own delete view and by the folder's bulk action.
    assert 'confirm-form' not in editor.get('/registry/@@delete', status=403).text
    editor.post('/registry/@@delete', {'csrf_token': csrf, 'confirm': 'yes'}, status=403)
    bulk = {'csrf_token': csrf, 'names': 'registry', 'action': 'delete', 'confirm': 'yes'}
    assert OWNED in editor.post('/@@contents', bulk, status=403).text
    editor.post('/registry/@@move', {'csrf_token': csrf, 'target': '/tyotilat'}, status=403)
    # Delete /tyotilat, which holds workspaces the editor cannot open.
    editor.get('/tyotilat/jyvaskyla/', status=403)
    editor.post('/tyotilat/@@delete', {'csrf_token': csrf, 'confirm': 'yes'}, status=403)
    bulk['names'] = 'tyotilat'
    editor.post('/@@contents', bulk, status=403)
    editor.post('/tyotilat/@@rename', {'csrf_token': csrf, 'name': 'vanhat'}, status=403)
    # Or the workspace inside it, directly.
    bulk = {'csrf_token': csrf, 'names': 'jyvaskyla', 'action': 'delete', 'confirm': 'yes'}
    res = editor.post('/tyotilat/@@contents', bulk, status=403)
    assert 'Jyväskylän' not in res.text  # the refusal does not show the title of what the editor cannot open
    assert cards_in(app) == 1
    assert workspaces_in(app) == workspaces
    editor.get('/registry/', status=403)  # still there, and still closed to an editor


def test_not_even_an_administrator_deletes_or_renames_what_a_plugin_owns(app):
    admin = browser(app, 'admin')
    csrf = token(admin)
    admin.post('/registry/@@delete', {'csrf_token': csrf, 'confirm': 'yes'}, status=403)
    admin.post('/registry/@@rename', {'csrf_token': csrf, 'name': 'vanha'}, status=403)
    admin.post('/tyotilat/@@move', {'csrf_token': csrf, 'target': '/kunnille'}, status=403)
    admin.post('/@@contents', {'csrf_token': csrf, 'names': 'tyotilat', 'action': 'delete'}, status=403)
    assert cards_in(app) == 1
    assert 'jyvaskyla' in workspaces_in(app)
    # Its own workspace can still go: only the owned folder is kept.
    admin.post('/tyotilat/jyvaskyla/@@delete', {'csrf_token': csrf, 'confirm': 'yes'}, status=303)
    assert 'jyvaskyla' not in workspaces_in(app)


def test_the_edit_bar_offers_no_rename_move_delete_or_state_on_an_owned_container(app):
    admin = browser(app, 'admin')
    res = admin.get('/tyotilat/@@contents')
    for view in ('@@rename', '@@move', '@@delete', '@@state'):
        assert f'/tyotilat/{view}' not in res.text
    assert '/tyotilat/jyvaskyla/' in res.text
    page = admin.get('/kunnille/')
    assert '/kunnille/@@delete' in page.text


def test_an_owned_container_keeps_its_state(app):
    """Publishing or retracting /tyotilat would change who sees every workspace listed there."""
    admin = browser(app, 'admin')
    res = admin.get('/tyotilat/@@state')
    assert 'state-form' not in res.text
    csrf = token(admin)
    admin.post('/tyotilat/@@state', {'csrf_token': csrf, 'transition': 'publish'}, status=403)
    admin.post('/@@contents', {'csrf_token': csrf, 'names': 'tyotilat', 'action': 'publish'}, status=303)
    with edit_site(app) as site:
        assert site['tyotilat'].state == 'private'


@pytest.fixture
def folder_with_a_guarded_page(app):
    """/kansio holding /kansio/salainen, on which editors are denied everything, and /kansio/avoin."""
    from portal.resources.folder import Folder
    from portal.resources.page import Page

    with edit_site(app) as site:
        folder = Folder()
        folder.update({'title': 'Kansio'}, 'fi')
        site.add('kansio', folder)
        for name in ('salainen', 'avoin'):
            page = Page()
            page.update({'title': name.capitalize()}, 'fi')
            folder.add(name, page)
        folder['salainen'].local_acl = ((Deny, 'role:Editor', ALL_PERMISSIONS),)
    return app


def test_a_folder_holding_an_item_the_editor_may_not_delete_cannot_be_deleted_moved_or_renamed(
    folder_with_a_guarded_page,
):
    app = folder_with_a_guarded_page
    editor = browser(app, 'editor')
    csrf = token(editor)
    res = editor.post('/kansio/@@delete', {'csrf_token': csrf, 'confirm': 'yes'}, status=403)
    assert 'holds items you may not change' in res.text
    editor.post('/kansio/@@rename', {'csrf_token': csrf, 'name': 'uusi'}, status=403)
    editor.post('/kansio/@@move', {'csrf_token': csrf, 'target': '/kunnille'}, status=403)
    editor.post('/@@contents', {'csrf_token': csrf, 'names': 'kansio', 'action': 'delete'}, status=403)
    with edit_site(app) as site:
        assert sorted(site['kansio'].keys()) == ['avoin', 'salainen']
    # What the editor may delete, they still delete; and once the guarded page has gone, the folder too.
    editor.post('/kansio/avoin/@@delete', {'csrf_token': csrf, 'confirm': 'yes'}, status=303)
    with edit_site(app) as site:
        site['kansio'].remove('salainen')
    editor.post('/kansio/@@rename', {'csrf_token': csrf, 'name': 'uusi'}, status=303)
    editor.post('/uusi/@@delete', {'csrf_token': csrf, 'confirm': 'yes'}, status=303)
    with edit_site(app) as site:
        assert 'kansio' not in site and 'uusi' not in site


# The rule itself, without requests ---------------------------------------------------------------------
def _tree():
    from portal.resources.base import Container, Item

    root, folder, inner, leaf = Container(), Container(), Container(), Item()
    root.add('folder', folder, send_events=False)
    folder.add('inner', inner, send_events=False)
    inner.add('leaf', leaf, send_events=False)
    return folder, inner, leaf


def _callFUT(item, permits=lambda each: True, protected=lambda each: False):
    from portal.resources.base import check_removable

    return check_removable(item, permits, protected)


def test_every_descendant_needs_the_permission():
    from portal.resources.base import RemovalRefused

    folder, inner, leaf = _tree()
    assert _callFUT(folder) is None
    with pytest.raises(RemovalRefused) as refused:
        _callFUT(folder, permits=lambda each: each is not leaf)
    assert (refused.value.reason, refused.value.item, refused.value.inside) == ('denied', leaf, True)
    with pytest.raises(RemovalRefused) as refused:
        _callFUT(leaf, permits=lambda each: each is not leaf)
    assert refused.value.inside is False
    assert _callFUT(inner, permits=lambda each: each is not folder) is None  # the parent is not asked


def test_an_owned_item_anywhere_below_stops_it_even_with_every_permission():
    from portal.resources.base import RemovalRefused

    folder, inner, leaf = _tree()
    with pytest.raises(RemovalRefused) as refused:
        _callFUT(folder, protected=lambda each: each is inner)
    assert (refused.value.reason, refused.value.item, refused.value.inside) == ('owned', inner, True)
    with pytest.raises(RemovalRefused) as refused:
        _callFUT(inner, protected=lambda each: each is inner)
    assert refused.value.inside is False
    assert _callFUT(leaf, protected=lambda each: each is inner) is None


def test_protected_is_read_from_the_declaration_and_undeclared_types_are_kept(app):
    from portal.resources.folder import Folder
    from portal.resources.workspace import Workspace, Workspaces

    types = app.registry.content_types
    assert types.is_protected(Workspaces())
    assert not types.is_protected(Workspace())
    assert not types.is_protected(Folder())

    class Unknown(Folder):
        type_name = 'NoPluginDeclaresThis'

    assert types.is_protected(Unknown())
