"""The coordinators' pages: partners, sites, people and API keys, by role and by area.

Two areas: the municipality of Tampere (coordinator ``coord_tampere``) and the region Keski-Suomi
(coordinator ``coord_ks``), each with a partner and a site; ``national`` sees both.  Every page of each
area is asked for by every role, and no coordinator reads or changes a record of the other area.
"""

import datetime
import urllib.parse

import pytest
import webtest

from portal.testing import add_user, edit_site, form_with, log_in

pytestmark = pytest.mark.usefixtures('english_interface')

PASSWORD = 'kaiku partner pages passphrase 7'


@pytest.fixture(scope='module')
def world(tmp_path_factory):
    from portal.testing import build_app, close_app

    app = build_app(str(tmp_path_factory.mktemp('partners')))
    ids = {}
    with edit_site(app) as site:
        registry = site['registry']
        tampere = registry.add_partner('Tampereen kaupunki', 'municipality', 'Tampere', 'Pirkanmaa')
        jkl = registry.add_partner('Jyväskylän kaupunki', 'municipality', 'Jyväskylä', 'Keski-Suomi')
        tampere_site = registry.add_site(tampere, 'Uimahalli Tampere', 'venue')
        jkl_site = registry.add_site(jkl, 'Sosiaalitoimi Jyväskylä', 'issuer')
        registry.set_member('venue_tampere', tampere_site)
        registry.set_member('issuer_jkl', jkl_site)
        registry.set_area('coord_tampere', 'municipality', 'Tampere')
        registry.set_area('coord_ks', 'region', 'Keski-Suomi')
        ids = {'A': (tampere.id, tampere_site.id), 'B': (jkl.id, jkl_site.id)}
    roles = {
        'editor': ['Editor'],
        'venue_tampere': ['VenueStaff'],
        'issuer_jkl': ['IssuerStaff'],
        'coord_tampere': ['Coordinator'],
        'coord_ks': ['Coordinator'],
        'coord_nowhere': ['Coordinator'],
        'national': ['NationalAdmin'],
        'admin': ['Administrator'],
        'newcomer': [],
        'boss': ['Administrator'],
    }
    for login, user_roles in roles.items():
        add_user(app, login, PASSWORD, roles=user_roles)
    app.ids = ids
    yield app
    close_app(app)


def client(world, login=None):
    app = webtest.TestApp(world, extra_environ={'HTTP_HOST': 'example.com'})
    if login:
        log_in(app, login, PASSWORD)
    return app


def audit_entries(world, action):
    from portal.audit import LOG_KEY

    conn = world.registry._zodb_databases['audit'].open()
    try:
        log = conn.root().get(LOG_KEY)
        return [dict(e) for e in log.entries.values() if e['action'] == action] if log else []
    finally:
        conn.close()


def registry_state(world):
    """Everything these pages can change, as plain values, to prove that a refused change changed nothing."""
    with edit_site(world) as site:
        registry = site['registry']
        return (
            sorted((p.id, tuple(sorted(vars(p).items()))) for p in registry.partners.values()),
            sorted((s.id, tuple(sorted(vars(s).items()))) for s in registry.sites.values()),
            dict(registry.members),
            dict(registry.areas),
            len(registry.tokens),
        )


# The role × page × area matrix ---------------------------------------------------------------------
LISTS = ['partners', 'sites', 'people', 'partner-add']
OWN = {'coord_tampere': 'A', 'coord_ks': 'B'}


def detail_pages(world, area):
    partner_id, site_id = world.ids[area]
    return [
        f'partner?id={partner_id}',
        f'site?id={site_id}',
        f'site-add?partner={partner_id}',
    ]


@pytest.mark.parametrize(
    'login',
    [None, 'editor', 'venue_tampere', 'issuer_jkl', 'coord_nowhere', 'coord_tampere', 'coord_ks', 'national'],
)
def test_role_by_page_by_area(world, login):
    app = client(world, login)
    manager = login in ('coord_tampere', 'coord_ks', 'national')
    for page in LISTS:
        res = app.get(f'/registry/{page}', expect_errors=True)
        assert res.status_int == (200 if manager else 403), (login, page, res.status)
    for area in ('A', 'B'):
        allowed = login == 'national' or OWN.get(login) == area
        for page in detail_pages(world, area):
            res = app.get(f'/registry/{page}', expect_errors=True)
            expected = 200 if allowed else (404 if manager else 403)
            assert res.status_int == expected, (login, page, res.status)


@pytest.mark.parametrize(('login', 'own', 'other'), [('coord_tampere', 'A', 'B'), ('coord_ks', 'B', 'A')])
def test_lists_show_only_the_own_area(world, login, own, other):
    app = client(world, login)
    names = {'A': ('Tampereen kaupunki', 'Uimahalli Tampere'), 'B': ('Jyväskylän kaupunki', 'Sosiaalitoimi')}
    other_ids = [str(i) for i in world.ids[other]]
    for page in ('partners', 'sites', 'people'):
        text = app.get(f'/registry/{page}').text
        for name in names[other]:
            assert name not in text
        for record_id in other_ids:
            assert f'id={record_id}' not in text
    assert names[own][0] in app.get('/registry/partners').text
    assert names[own][1] in app.get('/registry/sites').text


def test_zero_cross_area_reads_or_writes(world):
    """Every page and every change, aimed at the other area's records, answers 404 and changes nothing."""
    app = client(world, 'coord_tampere')
    partner_id, site_id = world.ids['B']
    csrf = app.get('/registry/partner-add').forms[2]['csrf_token'].value
    before = registry_state(world)
    for url in (f'/registry/partner?id={partner_id}', f'/registry/site?id={site_id}'):
        res = app.get(url, status=404)
        assert 'Jyväskylä' not in res.text
    posts = [
        ('partner', {'id': partner_id, 'name': 'Hacked', 'kind': 'municipality', 'municipality': 'Tampere'}),
        ('site', {'id': site_id, 'name': 'Hacked', 'kind': 'venue', 'municipality': 'Tampere'}),
        ('site-add', {'partner': partner_id, 'name': 'X', 'kind': 'venue', 'municipality': 'Tampere'}),
        ('site-tokens', {'id': site_id, 'action': 'new'}),
        ('site-tokens', {'id': site_id, 'action': 'revoke'}),
        ('person', {'login': 'issuer_jkl', 'site': '', 'roles': 'VenueStaff'}),
        ('person', {'login': 'coord_ks', 'site': ''}),
    ]
    for name, fields in posts:
        res = app.post(f'/registry/{name}', {**fields, 'csrf_token': csrf}, status=404)
        assert 'Jyväskylä' not in res.text and 'kk_' not in res.text
    assert registry_state(world) == before


def test_a_coordinator_cannot_move_a_record_out_of_the_area(world):
    app = client(world, 'coord_tampere')
    partner_id, site_id = world.ids['A']
    before = registry_state(world)
    form = form_with(app.get(f'/registry/partner?id={partner_id}'), 'contact_email')
    assert [value for value, *_rest in form['municipality'].options] == ['', 'Tampere']
    form['municipality'].force_value('Jyväskylä')
    res = form.submit(status=400)
    assert res.html.select_one('#municipality-error').text == 'This place is outside your area.'
    form = form_with(app.get(f'/registry/site?id={site_id}'), 'venue_path')
    form['municipality'].force_value('Nokia')
    form.submit(status=400)
    assert registry_state(world) == before


# Changes: CSRF, validation, audit ------------------------------------------------------------------
def test_every_change_needs_the_csrf_token(world):
    app = client(world, 'national')
    partner_id, site_id = world.ids['A']
    before = registry_state(world)
    for name, fields in [
        ('partner-add', {'name': 'X', 'kind': 'municipality', 'municipality': 'Orivesi', 'region': 'P'}),
        ('partner', {'id': partner_id, 'name': 'X'}),
        ('site-add', {'partner': partner_id, 'name': 'X', 'kind': 'venue'}),
        ('site', {'id': site_id, 'name': 'X'}),
        ('site-tokens', {'id': site_id, 'action': 'new'}),
        ('person', {'login': 'newcomer', 'roles': 'NationalAdmin'}),
    ]:
        app.post(f'/registry/{name}', fields, status=400)
        app.post(f'/registry/{name}', {**fields, 'csrf_token': 'forged' * 8}, status=400)
    assert registry_state(world) == before


def test_add_a_partner_with_contact_and_commitment(world):
    app = client(world, 'coord_ks')
    form = form_with(app.get('/registry/partner-add'), 'contact_email')
    offered = [value for value, *_rest in form['municipality'].options]
    assert len(offered) == 1 + 22 and 'Jämsä' in offered and 'Tampere' not in offered
    form['name'] = 'Jämsän kaupunki'
    form['kind'] = 'municipality'
    form['municipality'] = 'Jämsä'
    form['contact_title'] = 'Vapaa-aikakoordinaattori'
    form['contact_email'] = 'vapaa-aika@jamsa.example'
    form['contact_phone'] = '+358 40 123 4567'
    form['commitment_signed'] = '2025-01-15'
    form['trained'] = (datetime.date.today() - datetime.timedelta(days=400)).isoformat()
    res = form.submit(status=303).follow(status=200)
    assert res.html.select_one('h1').text == 'Jämsän kaupunki'
    assert 'Training overdue' in res.html.select_one('.training').text
    with edit_site(world) as site:
        partner = next(p for p in site['registry'].partners.values() if p.name == 'Jämsän kaupunki')
        assert (partner.municipality, partner.region) == ('Jämsä', 'Keski-Suomi')
        assert partner.contact_phone == '+358 40 123 4567'
        assert partner.commitment_signed == datetime.date(2025, 1, 15)
        partner_id = partner.id
    entries = audit_entries(world, 'registry.partner.add')
    assert entries[-1]['actor'] == 'coord_ks' and entries[-1]['detail']['partner'] == str(partner_id)
    listing = app.get('/registry/partners?training=due&sort=training')
    assert 'Jämsän kaupunki' in listing.text
    assert 'Jämsän kaupunki' not in app.get('/registry/partners?training=ok').text
    assert '⚠' in listing.text and 'Training overdue' in listing.text


@pytest.mark.parametrize(
    ('field', 'value', 'message'),
    [
        ('name', '', 'Required'),
        ('name', 'Yhdistys 131052-308T', 'personal identity code'),
        ('contact_title', 'Anna, s. 12.3.1985', 'full date'),
        ('municipality', 'x' * 101, 'Choose a municipality from the list.'),
        ('municipality', 'Tampere', 'This place is outside your area.'),
        ('contact_email', 'not an address', 'Check the email address.'),
        ('contact_phone', 'call me', 'Digits, spaces'),
        ('trained', '2999-01-01', 'The date cannot be in the future.'),
        ('commitment_signed', '31.02.2024', 'Invalid date'),
        ('kind', 'spaceship', 'Choose one of the choices.'),
    ],
)
def test_bad_partner_input_is_shown_beside_the_field_and_nothing_is_stored(world, field, value, message):
    app = client(world, 'coord_ks')
    before = registry_state(world)
    form = form_with(app.get('/registry/partner-add'), 'contact_email')
    form['name'] = 'Uusi yhdistys'
    form['kind'] = 'issuer_ngo'
    form['municipality'] = 'Jyväskylä'
    if field in ('kind', 'municipality'):
        form[field].force_value(value)
    else:
        form[field] = value
    res = form.submit(status=400)
    error = res.html.select_one(f'#{field}-error')
    assert error is not None and message in error.text, res.html.select_one('#errors')
    assert res.html.select_one(f'#{field}')['aria-invalid'] == 'true'
    assert res.html.select_one(f'#errors a[href="#{field}"]') is not None
    assert registry_state(world) == before


def test_site_add_edit_and_venue_link(world):
    app = client(world, 'coord_tampere')
    partner_id, _site_id = world.ids['A']
    form = form_with(app.get(f'/registry/site-add?partner={partner_id}'), 'venue_path')
    assert form['municipality'].value == 'Tampere'
    form['name'] = 'Museokeskus Tampere'
    form['kind'] = 'venue'
    form['venue_path'] = '/no/such/venue/'
    res = form.submit(status=400)
    assert 'no venue page' in res.html.select_one('#venue_path-error').text
    form = form_with(res, 'venue_path')
    form['venue_path'] = '/kaikukortti/'  # a page, not a venue
    res = form.submit(status=400)
    assert res.html.select_one('#venue_path-error') is not None
    with edit_site(world) as site:
        venue = next(f'/venues/{name}/' for name, item in site['venues'].items() if item.type_name == 'Venue')
    form = form_with(res, 'venue_path')
    form['venue_path'] = venue.rstrip('/')
    res = form.submit(status=303).follow(status=200)
    assert res.html.select_one('h1').text == 'Museokeskus Tampere'
    with edit_site(world) as site:
        made = next(s for s in site['registry'].sites.values() if s.name == 'Museokeskus Tampere')
        assert (made.venue_path, made.kind, made.region, made.partner_id) == (
            venue,
            'venue',
            'Pirkanmaa',
            partner_id,
        )
        made_id = made.id
    form = form_with(res, 'venue_path')
    form['active'] = False
    form.submit(status=303)
    with edit_site(world) as site:
        assert site['registry'].sites[made_id].active is False
    entries = audit_entries(world, 'registry.site.edit')
    assert entries[-1]['detail']['fields'] == ('active',)
    assert 'Museokeskus Tampere' in app.get('/registry/sites?active=no&kind=venue').text
    assert 'Museokeskus Tampere' not in app.get('/registry/sites?active=yes').text


def test_api_key_is_shown_once_stored_hashed_and_revocable(world):
    import hashlib

    app = client(world, 'coord_tampere')
    _partner_id, site_id = world.ids['A']
    page = app.get(f'/registry/site?id={site_id}')
    form = next(f for f in page.forms.values() if f.action.endswith('site-tokens'))
    res = form.submit('action', value='new', status=200)
    token = res.html.select_one('#new-api-key').text
    assert token.startswith('kk_')
    assert res.cache_control.no_store  # the one page that shows the key is never cached
    again = app.get(f'/registry/site?id={site_id}')
    assert token not in again.text
    assert 'in use' in again.html.select_one('#tokens table').text
    digest = hashlib.sha256(token.encode()).hexdigest()
    with edit_site(world) as site:
        registry = site['registry']
        assert digest in registry.tokens
        stored = repr([vars(t) for t in registry.tokens.values()])
        assert token not in stored
    assert all(token not in repr(e) for e in audit_entries(world, 'registry.token.new'))
    assert audit_entries(world, 'registry.token.new')[-1]['detail'] == {'site': str(site_id)}
    api = webtest.TestApp(world, extra_environ={'HTTP_HOST': 'example.com'})
    headers = {'Authorization': f'Bearer {token}'}
    api.get('/registry/api/v1/statistics', headers=headers, status=200)
    form = next(f for f in again.forms.values() if f.action.endswith('site-tokens'))
    res = form.submit('action', value='revoke', status=200)
    assert 'revoked' in res.html.select_one('#tokens table').text
    refused = api.get('/registry/api/v1/statistics', headers=headers, status=401)
    assert refused.json['error'] == 'unauthorized'
    assert audit_entries(world, 'registry.token.revoke')[-1]['detail']['count'] == '1'


def test_unknown_token_action_is_refused(world):
    app = client(world, 'national')
    _partner_id, site_id = world.ids['A']
    csrf = app.get(f'/registry/site?id={site_id}').forms[2]['csrf_token'].value
    app.post('/registry/site-tokens', {'id': site_id, 'action': 'steal', 'csrf_token': csrf}, status=400)


# People --------------------------------------------------------------------------------------------
def person_form(app, login):
    return form_with(app.get(f'/registry/person?login={login}'), 'area_name')


def test_link_a_user_to_a_site_and_grant_a_role(world):
    app = client(world, 'coord_tampere')
    _partner_id, site_id = world.ids['A']
    form = person_form(app, 'newcomer')
    assert 'NationalAdmin' not in [v for _name, v in [(f.name, f._value) for f in form.fields['roles']]]
    form['site'] = str(site_id)
    form.get('roles', index=0).checked = True  # VenueStaff
    res = form.submit(status=303).follow(status=200)
    assert res.html.select_one('.status-ok') is not None
    with edit_site(world) as site:
        assert site['registry'].members['newcomer'] == site_id
    newcomer = client(world, 'newcomer')
    newcomer.get('/registry/door', status=200)
    assert 'newcomer' in app.get('/registry/people').text
    entry = audit_entries(world, 'registry.person.edit')[-1]
    assert entry['actor'] == 'coord_tampere' and entry['detail']['roles'] == ('VenueStaff',)
    # taken away again
    form = person_form(app, 'newcomer')
    form['site'] = ''
    form.get('roles', index=0).checked = False
    form.submit(status=303)
    newcomer.get('/registry/door', status=403)


@pytest.mark.parametrize(
    ('changes', 'field'),
    [
        ({'roles': ['IssuerStaff'], 'site': 'A'}, 'site'),  # issuer staff on a venue site
        ({'roles': ['VenueStaff'], 'site': ''}, 'site'),
        ({'roles': ['Coordinator'], 'area_kind': 'municipality', 'area_name': 'Jyväskylä'}, 'area_name'),
        ({'roles': ['Coordinator'], 'area_kind': 'region', 'area_name': 'Pirkanmaa'}, 'area_name'),
        ({'roles': ['Coordinator'], 'area_name': ''}, 'area_name'),
        ({'roles': ['NationalAdmin']}, 'roles'),
        ({'site': 'B'}, 'site'),
    ],
)
def test_bad_person_changes_are_refused_whole(world, changes, field):
    app = client(world, 'coord_tampere')
    page = app.get('/registry/person?login=newcomer')
    csrf = form_with(page, 'area_name')['csrf_token'].value
    site_ids = {'A': str(world.ids['A'][1]), 'B': str(world.ids['B'][1]), '': ''}
    fields = [('csrf_token', csrf), ('login', 'newcomer')]
    fields += [('roles', role) for role in changes.get('roles', [])]
    fields += [('site', site_ids[changes.get('site', '')])]
    fields += [(name, changes[name]) for name in ('area_kind', 'area_name') if name in changes]
    before = registry_state(world)
    with edit_site(world) as site:
        from portal.security import ensure_principals

        roles_before = ensure_principals(site._p_jar.root()).get_user('newcomer').roles
    res = app.post('/registry/person', fields, status=400)
    assert res.html.select_one(f'#{field}') is not None
    assert res.html.select_one('.field-error') is not None
    assert registry_state(world) == before
    with edit_site(world) as site:
        from portal.security import ensure_principals

        assert ensure_principals(site._p_jar.root()).get_user('newcomer').roles == roles_before


def test_a_region_coordinator_may_name_a_municipality_coordinator_in_the_region(world):
    app = client(world, 'coord_ks')
    form = person_form(app, 'newcomer')
    form.get('roles', index=2).checked = True  # Coordinator
    form['area_kind'] = 'municipality'
    form['area_name'] = 'Jyväskylä'
    form.submit(status=303)
    with edit_site(world) as site:
        assert site['registry'].areas['newcomer'] == ('municipality', 'Jyväskylä')
    # now newcomer belongs to Keski-Suomi: Tampere's coordinator cannot reach them
    client(world, 'coord_tampere').get('/registry/person?login=newcomer', status=404)
    form = person_form(app, 'newcomer')
    form.get('roles', index=2).checked = False
    form.submit(status=303)
    with edit_site(world) as site:
        assert 'newcomer' not in site['registry'].areas


@pytest.mark.parametrize('login', ['boss', 'national', 'no-such-user', '../admin', ''])
def test_coordinators_cannot_reach_administrators_or_unknown_users(world, login):
    app = client(world, 'coord_tampere')
    res = app.get('/registry/person', params={'login': login}, status=404)
    assert 'Administrator' not in res.text


def test_only_a_national_admin_makes_a_national_admin(world):
    app = client(world, 'national')
    form = person_form(app, 'newcomer')
    values = [field._value for field in form.fields['roles']]
    assert 'NationalAdmin' in values
    form.get('roles', index=values.index('NationalAdmin')).checked = True
    form.submit(status=303)
    with edit_site(world) as site:
        from portal.security import ensure_principals

        assert 'NationalAdmin' in ensure_principals(site._p_jar.root()).get_user('newcomer').roles
    form = person_form(app, 'newcomer')
    form.get('roles', index=values.index('NationalAdmin')).checked = False
    form.submit(status=303)


def test_home_links_to_the_pages_for_those_who_may_use_them(world):
    for login, shown in [('coord_tampere', True), ('national', True), ('venue_tampere', False)]:
        res = client(world, login).get('/registry/')
        links = {a['href'].rsplit('/', 1)[-1] for a in res.html.select('main a')}
        assert ({'partners', 'sites', 'people'} <= links) is shown, login


def test_users_page_is_linked_only_for_those_who_may_add_users(world):
    assert '@@users' not in client(world, 'coord_tampere').get('/registry/people').text
    assert '@@users' in client(world, 'admin').get('/registry/people').text


# Hostile input: never a 500, never a marker reflected unescaped ------------------------------------
MARKERS = ['<script>alert(1)</script>', '"><img src=x onerror=1>']
HOSTILE = [*MARKERS, '', ' ', '-1', '1e9', '99999999999999999999999', '١٢', '\x00', '%ff', 'ä' * 3000, '../x']


@pytest.fixture(scope='module')
def fuzz_world(tmp_path_factory):
    """An application of its own, since a hostile POST that happens to be valid is committed."""
    from portal.testing import build_app, close_app

    app = build_app(str(tmp_path_factory.mktemp('partners-fuzz')), **{'portal.load_on_start': 'false'})
    with edit_site(app) as site:
        registry = site['registry']
        partner = registry.add_partner('Tampereen kaupunki', 'municipality', 'Tampere', 'Pirkanmaa')
        app.ids = (partner.id, registry.add_site(partner, 'Uimahalli', 'venue').id)
        registry.set_area('coord', 'municipality', 'Tampere')
    add_user(app, 'coord', PASSWORD, roles=['Coordinator'])
    add_user(app, 'national', PASSWORD, roles=['NationalAdmin'])
    yield app
    close_app(app)


def check_answer(res, what):
    assert res.status_int < 500, f'{res.status} for {what}'
    body = res.body.decode('utf-8', 'replace')
    assert 'Traceback' not in body, what
    for marker in MARKERS:
        assert marker not in body, f'{marker!r} reflected unescaped for {what}'


GET_PAGES = {
    'partners': ('municipality', 'kind', 'training', 'sort'),
    'sites': ('municipality', 'kind', 'active', 'sort'),
    'people': (),
    'partner': ('id', 'saved'),
    'partner-add': (),
    'site': ('id', 'saved'),
    'site-add': ('partner',),
    'person': ('login', 'saved'),
}
POST_FIELDS = {
    'partner-add': ('name', 'kind', 'municipality', 'region', 'contact_email', 'contact_phone', 'trained'),
    'partner': ('id', 'name', 'kind', 'municipality', 'region', 'commitment_signed', 'trained'),
    'site-add': ('partner', 'name', 'kind', 'municipality', 'region', 'venue_path', 'active'),
    'site': ('id', 'name', 'kind', 'municipality', 'region', 'venue_path'),
    'site-tokens': ('id', 'action'),
    'person': ('login', 'site', 'roles', 'area_kind', 'area_name'),
}


@pytest.mark.parametrize('login', ['coord', 'national'])
def test_hostile_queries_and_forms(fuzz_world, login):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    app = client(fuzz_world, login)
    csrf = form_with(app.get('/registry/partner-add'), 'contact_email')['csrf_token'].value
    partner_id, site_id = fuzz_world.ids
    known_ids = [str(partner_id), str(site_id), 'coord', 'national']
    values = st.one_of(st.sampled_from(HOSTILE + known_ids), st.text(max_size=60), st.binary(max_size=20))

    for page, params in GET_PAGES.items():
        for name in params:
            for value in HOSTILE:
                url = f'/registry/{page}?{urllib.parse.urlencode([(name, value)])}'
                check_answer(app.get(url, expect_errors=True), url[:200])

    @settings(max_examples=25, derandomize=True, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])  # fmt: skip
    @given(data=st.data())
    def run(data):
        page = data.draw(st.sampled_from(sorted(POST_FIELDS)))
        names = POST_FIELDS[page]
        pairs = [
            (name, data.draw(values)) for name in data.draw(st.lists(st.sampled_from(names), max_size=8))
        ]
        body = urllib.parse.urlencode([('csrf_token', csrf), *pairs])
        res = app.post(
            f'/registry/{page}', body, content_type='application/x-www-form-urlencoded', expect_errors=True
        )
        check_answer(res, f'POST {page} {body[:200]}')

    run()


def test_filter_choices_carry_their_counts(world):
    app = client(world, 'national')
    res = app.get('/registry/partners')
    options = {o['value']: o.text for o in res.html.select('#f-municipality option')}
    assert options['Tampere'] == 'Tampere (1)'
    kinds = {o['value']: o.text for o in res.html.select('#f-kind option')}
    assert kinds['municipality'].startswith('Municipality (') and kinds['venue_operator'].endswith('(0)')
    shown = res.html.select_one('main [role=status]').text
    total = len(res.html.select('table.records tbody tr'))
    assert f'Showing {total} of {total} partners.' == ' '.join(shown.split())
    filtered = app.get('/registry/partners?municipality=Tampere')
    assert len(filtered.html.select('table.records tbody tr')) == 1
    sites = app.get('/registry/sites?kind=issuer')
    assert all('Issues cards' in row.text for row in sites.html.select('table.records tbody tr'))
    assert (
        app.get('/registry/sites')
        .html.select_one('#f-active option[value="yes"]')
        .text.startswith('Active (')
    )


def test_long_lists_are_paged_and_pages_keep_the_filters(fuzz_world):
    with edit_site(fuzz_world) as site:
        registry = site['registry']
        for n in range(55):
            registry.add_partner(f'Sivukumppani {n:02d}', 'issuer_ngo', 'Orivesi', 'Pirkanmaa')
    app = client(fuzz_world, 'national')
    first = app.get('/registry/partners?municipality=Orivesi&kind=issuer_ngo')
    assert len(first.html.select('table.records tbody tr')) == 50
    links = first.html.select('nav.pagination a')
    assert [a.text.split()[-1] for a in links] == ['1', '2']
    assert links[0]['aria-current'] == 'page'
    assert 'municipality=Orivesi' in links[1]['href'] and 'kind=issuer_ngo' in links[1]['href']
    second = app.get(links[1]['href'])
    rows = second.html.select('table.records tbody tr')
    assert [r.th.text for r in rows] == [f'Sivukumppani {n}' for n in range(50, 55)]
    assert 'Showing 55 of' in ' '.join(second.html.select_one('main [role=status]').text.split())
    for page in ('abc', '-3', '999', '١'):
        res = app.get('/registry/partners', params={'municipality': 'Orivesi', 'page': page}, status=200)
        assert res.html.select('table.records tbody tr')


@pytest.mark.parametrize(
    ('lang', 'created', 'revoked'),
    [('fi', '5.12.2026 0.30', '1.1.2027 1.05'), ('sv', '5.12.2026 0.30', '1.1.2027 1.05')],
)
def test_api_key_times_are_shown_in_finnish_time_and_format(world, lang, created, revoked):
    """An API key made at 22.30 UTC on 4 December was made at 0.30 on the 5th in Finland; its row says
    so, in the format of the reader's language, not in UTC."""
    import datetime

    _partner_id, site_id = world.ids['A']
    with edit_site(world) as site:
        registry = site['registry']
        registry.new_token(
            registry.sites[site_id], now=datetime.datetime(2026, 12, 4, 22, 30, tzinfo=datetime.UTC)
        )
        registry.revoke_tokens(
            registry.sites[site_id], now=datetime.datetime(2026, 12, 31, 23, 5, tzinfo=datetime.UTC)
        )
    page = client(world, 'coord_tampere').get(f'/registry/site?id={site_id}&lang={lang}')
    rows = [row.get_text(' ', strip=True) for row in page.html.select('#tokens tbody tr')]
    assert any(created in row and revoked in row for row in rows), rows
    assert page.html.select_one('#tokens time')['datetime'].endswith('+00:00')
