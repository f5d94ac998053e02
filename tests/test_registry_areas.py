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


# The registry: a coordinator stays in their area ------------------------------------------------------
PASSWORD = TEST_PASSWORD


@pytest.fixture(scope='module')
def world(tmp_path_factory):
    """Keski-Suomi (region coordinator ``coord_ks``) and Tampere (municipality coordinator
    ``coord_tre``), each with a partner and sites; Tampere's issuer staff ``tre_issuer``; a login of
    nobody (``victim``); and a Tampere partner filed under Keski-Suomi before the fix (``legacy``)."""
    from portal.testing import build_app, close_app, edit_site

    app = build_app(str(tmp_path_factory.mktemp('areas')), **{'portal.load_on_start': 'false'})
    with edit_site(app) as site:
        registry = site['registry']
        tre = registry.add_partner('Tampereen kaupunki', 'municipality', 'Tampere', 'Pirkanmaa')
        ks = registry.add_partner('Jyväskylän kaupunki', 'municipality', 'Jyväskylä', 'Keski-Suomi')
        legacy = registry.add_partner('Vanha kumppani', 'issuer_ngo', 'Tampere', 'Pirkanmaa')
        legacy.region = 'Keski-Suomi'  # what a free-text region let a coordinator store
        tre_venue = registry.add_site(tre, 'Uimahalli Tampere', 'venue')
        tre_issuer = registry.add_site(tre, 'Sosiaalitoimi Tampere', 'issuer')
        ks_issuer = registry.add_site(ks, 'Sosiaalitoimi Jyväskylä', 'issuer')
        registry.set_member('tre_issuer', tre_issuer)
        registry.set_area('coord_tre', 'municipality', 'Tampere')
        registry.set_area('coord_ks', 'region', 'Keski-Suomi')
        app.ids = {
            'tre': tre.id,
            'ks': ks.id,
            'legacy': legacy.id,
            'tre_venue': tre_venue.id,
            'tre_issuer': tre_issuer.id,
            'ks_issuer': ks_issuer.id,
        }
    for login, roles in {
        'coord_ks': ['Coordinator'],
        'coord_tre': ['Coordinator'],
        'tre_issuer': ['IssuerStaff'],
        'victim': [],
        'national': ['NationalAdmin'],
    }.items():
        add_user(app, login, PASSWORD, roles=roles)
    yield app
    close_app(app)


def registry_state(world):
    """Everything the coordinators' pages can change, as plain values, with each user's roles."""
    from portal.security import ensure_principals
    from portal.testing import edit_site

    with edit_site(world) as site:
        registry = site['registry']
        users = ensure_principals(site._p_jar.root()).users
        return (
            sorted((p.id, tuple(sorted(vars(p).items()))) for p in registry.partners.values()),
            sorted((s.id, tuple(sorted(vars(s).items()))) for s in registry.sites.values()),
            dict(registry.members),
            dict(registry.areas),
            len(registry.tokens),
            {login: user.roles for login, user in users.items()},
        )


def csrf_of(app):
    return app.get('/registry/partners').html.select_one('input[name=csrf_token]')['value']


def test_the_attack_as_reported_is_refused_at_every_step(world):
    """Issue 12, High 2, replayed as a Keski-Suomi coordinator."""
    ids = world.ids
    app = browser(world, 'coord_ks')
    before = registry_state(world)
    # 1. A partner in Tampere filed under Keski-Suomi: the form has no region, and Tampere is not offered.
    page = app.get('/registry/partner-add')
    form = next(f for f in page.forms.values() if 'contact_email' in f.fields)
    assert 'region' not in form.fields
    offered = [value for value, *_rest in form['municipality'].options]
    assert 'Tampere' not in offered and 'Jyväskylä' in offered
    form['name'] = 'Hyökkääjä ry'
    form['kind'] = 'issuer_ngo'
    for municipality in ('Tampere', 'Tammerfors', '837'):
        form['municipality'].force_value(municipality)
        res = app.post(form.action, [*form.submit_fields(), ('region', 'Keski-Suomi')], status=400)
        assert res.html.select_one('#municipality-error').text == 'This place is outside your area.'
    # 2. Make a login a Coordinator of Tampere.
    form = next(f for f in app.get('/registry/person?login=victim').forms.values() if 'area_name' in f.fields)
    assert 'Tampere' not in [value for value, *_rest in form['area_name'].options]
    coordinator = [box._value for box in form.fields['roles']].index('Coordinator')
    form.get('roles', index=coordinator).checked = True
    form['area_kind'] = 'municipality'
    form['area_name'].force_value('Tampere')
    res = form.submit(status=400)
    assert res.html.select_one('#area_name-error').text == 'This place is outside your area.'
    csrf = csrf_of(app)
    # 3. Open and demote Tampere's real coordinator.
    app.get('/registry/person?login=coord_tre', status=404)
    app.post('/registry/person', {'csrf_token': csrf, 'login': 'coord_tre', 'site': ''}, status=404)
    # 4. API keys for a Tampere venue.
    app.get(f'/registry/site?id={ids["tre_venue"]}', status=404)
    app.post(
        '/registry/site-tokens', {'csrf_token': csrf, 'id': ids['tre_venue'], 'action': 'new'}, status=404
    )
    # 5. Relink Tampere's issuer staff to a site of Keski-Suomi.
    app.get('/registry/person?login=tre_issuer', status=404)
    relink = {'csrf_token': csrf, 'login': 'tre_issuer', 'site': ids['ks_issuer'], 'roles': 'IssuerStaff'}
    app.post('/registry/person', relink, status=404)
    # A record the old free-text region filed under Keski-Suomi is not the region coordinator's.
    app.get(f'/registry/partner?id={ids["legacy"]}', status=404)
    assert 'Vanha kumppani' not in app.get('/registry/partners').text
    assert registry_state(world) == before


def test_a_national_admin_cannot_file_a_place_under_another_region(world):
    app = browser(world, 'national')
    page = app.get('/registry/partner-add')
    form = next(f for f in page.forms.values() if 'contact_email' in f.fields)
    form['name'] = 'Tampereen yhdistys'
    form['kind'] = 'issuer_ngo'
    form['municipality'] = 'Tampere'
    app.post(form.action, [*form.submit_fields(), ('region', 'Keski-Suomi')], status=303)
    from portal.testing import edit_site

    with edit_site(world) as site:
        made = next(p for p in site['registry'].partners.values() if p.name == 'Tampereen yhdistys')
        assert (made.municipality, made.region, made.county) == (
            'Tampere',
            'Pirkanmaa',
            'Pirkanmaan hyvinvointialue',
        )


def test_nobody_changes_their_own_roles(world):
    ids = world.ids
    for login, fields in [
        ('coord_ks', {'site': ids['ks_issuer'], 'roles': ['Coordinator', 'IssuerStaff']}),
        ('coord_ks', {'site': '', 'roles': ['Coordinator', 'VenueStaff']}),
        ('national', {'site': '', 'roles': []}),
    ]:
        app = browser(world, login)
        before = registry_state(world)
        body = [('csrf_token', csrf_of(app)), ('login', login), ('site', fields['site'])]
        body += [('roles', role) for role in fields['roles']]
        body += [('area_kind', 'region'), ('area_name', 'Keski-Suomi')]
        app.post('/registry/person', body, status=403)
        assert registry_state(world) == before


#: For every view of partners.py (name, method): a request a Keski-Suomi coordinator makes against
#: Tampere's records, and the status it must get.  A view added without a case here fails the walk.
def attacks(ids):
    tre, venue, issuer = ids['tre'], ids['tre_venue'], ids['tre_issuer']
    ks, ks_issuer = ids['ks'], ids['ks_issuer']
    edit = {'name': 'X', 'kind': 'municipality', 'municipality': 'Tampere', 'region': 'Keski-Suomi'}
    site = {'name': 'X', 'kind': 'venue', 'municipality': 'Tampere', 'region': 'Keski-Suomi'}
    return {
        ('partners', 'GET'): [({'municipality': 'Tampere'}, 200)],
        ('sites', 'GET'): [({'municipality': 'Tampere'}, 200)],
        ('people', 'GET'): [({}, 200)],
        ('partner-add', 'GET'): [({}, 200)],
        ('partner-add', 'POST'): [(edit, 400)],
        ('partner', 'GET'): [({'id': tre}, 404), ({'id': ids['legacy']}, 404)],
        ('partner', 'POST'): [({**edit, 'id': tre}, 404), ({**edit, 'id': ks}, 400)],
        ('site-add', 'GET'): [({'partner': tre}, 404)],
        ('site-add', 'POST'): [({**site, 'partner': tre}, 404), ({**site, 'partner': ks}, 400)],
        ('site', 'GET'): [({'id': venue}, 404)],
        ('site', 'POST'): [({**site, 'id': venue}, 404), ({**site, 'id': ks_issuer, 'kind': 'issuer'}, 400)],
        ('site-events', 'POST'): [
            ({'id': venue, 'name': 'Kesäkonsertti'}, 404),
            ({'id': venue, 'remove': 'Kesäkonsertti'}, 404),
            ({'id': issuer, 'name': 'Kesäkonsertti'}, 404),
        ],
        ('site-tokens', 'POST'): [
            ({'id': venue, 'action': 'new'}, 404),
            ({'id': issuer, 'action': 'revoke'}, 404),
        ],
        ('person', 'GET'): [({'login': 'coord_tre'}, 404), ({'login': 'tre_issuer'}, 404)],
        ('person', 'POST'): [
            ({'login': 'coord_tre', 'site': ''}, 404),
            ({'login': 'tre_issuer', 'site': ks_issuer, 'roles': 'IssuerStaff'}, 404),
            ({'login': 'victim', 'site': venue, 'roles': 'VenueStaff'}, 400),
            ({'login': 'victim', 'site': issuer, 'roles': 'IssuerStaff'}, 400),
            (
                {
                    'login': 'victim',
                    'roles': 'Coordinator',
                    'area_kind': 'municipality',
                    'area_name': 'Tampere',
                },
                400,
            ),
            (
                {'login': 'victim', 'roles': 'Coordinator', 'area_kind': 'region', 'area_name': 'Pirkanmaa'},
                400,
            ),
            (
                {'login': 'victim', 'roles': 'Coordinator', 'area_kind': 'region', 'area_name': 'Atlantis'},
                400,
            ),
            ({'login': 'victim', 'roles': 'NationalAdmin'}, 400),
        ],
    }


def partners_views(world):
    """(view name, request method) of every view the partners package registers, read from the
    introspector."""
    found = set()
    for intr in world.registry.introspector.get_category('views'):
        view = intr['introspectable']
        if getattr(view['callable'], '__module__', '').startswith('kaiku_registry.partners.'):
            found.add(
                (view['name'], view['request_methods'] if isinstance(view['request_methods'], str) else 'GET')
            )
    return found


def test_every_view_of_partners_py_keeps_a_coordinator_in_the_area(world):
    cases = attacks(world.ids)
    assert partners_views(world) == set(cases)
    app = browser(world, 'coord_ks')
    csrf = csrf_of(app)
    before = registry_state(world)
    for (name, method), requests in cases.items():
        for params, status in requests:
            if method == 'GET':
                res = app.get(f'/registry/{name}', params, status=status)
            else:
                res = app.post(f'/registry/{name}', {**params, 'csrf_token': csrf}, status=status)
            asked = set(map(str, params.values()))
            for secret in (
                'Uimahalli Tampere',
                'Sosiaalitoimi Tampere',
                'Tampereen kaupunki',
                'kk_',
                'coord_tre',
            ):
                assert secret in asked or secret not in res.text, (name, method, params)
    assert registry_state(world) == before


def test_the_upgrade_settles_free_text_places_and_keeps_every_count(caplog):
    import datetime

    from kaiku_registry.models import SHAPE, CardRegistry

    registry = CardRegistry()
    tre = registry.add_partner('Tampereen kaupunki', 'municipality', 'Tampere', 'Pirkanmaa')
    ks = registry.add_partner('Jyväskylän kaupunki', 'municipality', 'Jyväskylä', 'Keski-Suomi')
    tre_issuer = registry.add_site(tre, 'Sosiaalitoimi', 'issuer')
    ks_venue = registry.add_site(ks, 'Museo', 'venue')
    day = datetime.date(2026, 5, 4)
    card = registry.issue_card(tre_issuer, day, 1980, '33100', 0)
    registry.record_visit(card, ks_venue, day, 'culture')

    def counts(tree):
        return {key: dict(tally.items()) for key, tally in tree.items() if tally.counts}

    expected = counts(registry.tallies), counts(registry.open_tallies)
    # What the old free-text fields let people store: names as typed, a wrong region, an unknown place.
    typed = {'Tampere': 'tampere ', 'Jyväskylä': 'Jyvaskyla'}
    for tree in (registry.tallies, registry.open_tallies):
        for key in list(tree.keys()):
            tree[tuple(typed.get(part, part) for part in key)] = tree.pop(key)
    for record in (tre, tre_issuer):
        record.municipality, record.region = 'tampere ', 'Keski-Suomi'
    ks.municipality = ks_venue.municipality = 'Jyvaskyla'
    card.municipality = 'tampere '
    odd = registry.add_partner('Atlantiksen yhdistys', 'issuer_ngo', 'Tampere')
    odd.municipality = 'Atlantis'
    registry.areas['coord'] = ('municipality', 'Tammerfors')
    registry.areas['lost'] = ('region', 'Atlantis')
    registry.pilot_ends['tampere '] = day
    registry.shape = 2

    assert registry.needs_upgrade() and registry.upgrade() is True
    assert registry.shape == SHAPE
    assert (tre.municipality, tre.region, tre_issuer.municipality, tre_issuer.region) == (
        'Tampere',
        'Pirkanmaa',
        'Tampere',
        'Pirkanmaa',
    )
    assert (ks.municipality, ks_venue.municipality, card.municipality) == (
        'Jyväskylä',
        'Jyväskylä',
        'Tampere',
    )
    assert odd.municipality == 'Atlantis' and "'Atlantis'" in caplog.text
    assert dict(registry.areas) == {'coord': ('municipality', 'Tampere'), 'lost': ('region', 'Atlantis')}
    assert dict(registry.pilot_ends) == {'Tampere': day}
    assert (counts(registry.tallies), counts(registry.open_tallies)) == expected
    assert registry.totals('adult_uses', municipality='Jyväskylä') == 1
    assert registry.upgrade() is False


def test_an_unknown_area_covers_nothing():
    from kaiku_registry.partners import Scope

    assert not Scope(False, ('region', 'Atlantis')).covers('Tampere')
    assert not Scope(False, ('region', 'Pirkanmaa')).covers('Atlantis')
    assert Scope(False, ('region', 'Pirkanmaa')).covers('Tampere')
    assert not Scope(False, ('region', 'Keski-Suomi')).covers('Tampere')
