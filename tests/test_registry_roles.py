"""The registry's pages by role and by site: who may open what, and no card read across sites."""

import pytest
import webtest

from portal.testing import add_user, edit_site, log_in

PASSWORD = 'kaiku registry test passphrase 42'
PAGES = ['', 'door', 'issue', 'cards', 'stats']
#: login → expected status of each page in PAGES (302/303 means sent to the login page).
MATRIX = {
    None: [403, 403, 403, 403, 403],
    'editor': [403, 403, 403, 403, 403],
    'venue_a': [200, 200, 403, 403, 403],
    'issuer_a': [200, 403, 200, 200, 403],
    'issuer_b': [200, 403, 200, 200, 403],
    'coord_tampere': [200, 403, 403, 403, 200],
    'national': [200, 403, 403, 403, 200],
    'admin': [200, 403, 403, 403, 200],
}


@pytest.fixture(scope='module')
def world(tmp_path_factory):
    from portal.testing import build_app, close_app

    app = build_app(str(tmp_path_factory.mktemp('roles')))
    with edit_site(app) as site:
        registry = site['registry']
        tampere = registry.add_partner('Tampereen kaupunki', 'municipality', 'Tampere', 'Pirkanmaa')
        nokia = registry.add_partner('Nokian kaupunki', 'municipality', 'Nokia', 'Pirkanmaa')
        sites = {
            'issuer_a': registry.add_site(tampere, 'Sosiaalitoimi Tampere', 'issuer'),
            'issuer_b': registry.add_site(nokia, 'Sosiaalitoimi Nokia', 'issuer'),
            'venue_a': registry.add_site(tampere, 'Uimahalli Tampere', 'venue'),
        }
        for login, partner_site in sites.items():
            registry.set_member(login, partner_site)
        registry.set_area('coord_tampere', 'municipality', 'Tampere')
    roles = {
        'editor': ['Editor'],
        'venue_a': ['VenueStaff'],
        'issuer_a': ['IssuerStaff'],
        'issuer_b': ['IssuerStaff'],
        'coord_tampere': ['Coordinator'],
        'national': ['NationalAdmin'],
        'admin': ['Administrator'],
    }
    for login, user_roles in roles.items():
        add_user(app, login, PASSWORD, roles=user_roles)
    yield app
    close_app(app)


def client(world, login=None):
    world.registry.lookup_throttle.clear()
    app = webtest.TestApp(world, extra_environ={'HTTP_HOST': 'example.com'})
    if login:
        log_in(app, login, PASSWORD)
    return app


@pytest.mark.parametrize('login', list(MATRIX))
def test_role_by_page_matrix(world, login):
    app = client(world, login)
    for page, expected in zip(PAGES, MATRIX[login], strict=True):
        res = app.get(f'/registry/{page}', expect_errors=True)
        assert res.status_int == expected, f'{login} on /registry/{page}: {res.status_int}, wanted {expected}'


def issue_card(app, children='2'):
    form = app.get('/registry/issue').forms[2]
    form['birth_year'] = '1985'
    form['postcode'] = '33100'
    form['children'] = children
    res = form.submit(status=200)
    code = res.html.select_one('.card-code').text.split()[-1]
    return res, code


def test_issuing_prints_the_code_qr_and_barcode(world):
    res, code = issue_card(client(world, 'issuer_a'))
    assert len(code.replace('-', '')) == 10
    assert res.html.select_one('.card-qr svg') is not None
    assert res.html.select_one('.card-barcode svg') is not None
    assert code.replace('-', '') not in res.request.url


@pytest.mark.parametrize(
    ('field', 'value'),
    [('birth_year', '2020'), ('birth_year', '12.3.1985'), ('postcode', 'abc'), ('children', 'x')],
)
def test_bad_issue_input_is_shown_beside_the_field_and_nothing_is_stored(world, field, value):
    app = client(world, 'issuer_a')
    with edit_site(world) as site:
        before = len(site['registry'].cards)
    form = app.get('/registry/issue').forms[2]
    form['birth_year'], form['postcode'], form['children'] = '1985', '33100', '0'
    form[field] = value
    res = form.submit(status=400)
    assert res.html.select_one(f'#{field}-error') is not None
    assert res.html.select_one(f'#{field}')['aria-invalid'] == 'true'
    with edit_site(world) as site:
        assert len(site['registry'].cards) == before


def test_no_card_is_read_across_sites(world):
    _res, code = issue_card(client(world, 'issuer_a'))
    other = client(world, 'issuer_b')
    form = other.get('/registry/cards').forms[2]
    form['code'] = code
    res = form.submit(status=200)
    assert res.html.select_one('#card-heading') is None
    own = client(world, 'issuer_a')
    form = own.get('/registry/cards').forms[2]
    form['code'] = code.lower()
    res = form.submit(status=200)
    assert res.html.select_one('#card-heading') is not None
    with edit_site(world) as site:
        card_id = site['registry'].card_by_code(code.replace('-', '')).id
    res = other.post(
        '/registry/card-action',
        {
            'card_id': str(card_id),
            'action': 'export',
            'csrf_token': other.get('/registry/cards').forms[2]['csrf_token'].value,
        },
        status=400,
    )
    assert str(card_id) not in res.text or 'No such card' in res.text


def test_door_check_record_and_undo(world):
    _res, code = issue_card(client(world, 'issuer_a'), children='1')
    door = client(world, 'venue_a')
    form = door.get('/registry/door').forms[2]
    form['code'] = code
    res = form.submit(status=200)
    assert res.html.select_one('.verdict').text == 'VOIMASSA'
    record = res.forms[2]
    assert [o[0] for o in record['children'].options] == ['0', '1']
    record['children'] = '1'
    record['sector'] = 'sport'
    res = record.submit(status=200)
    assert res.html.select_one('.status-ok') is not None, res.html.select_one('#errors')
    undo = next(f for f in res.forms.values() if f.action.endswith('door-undo'))
    res = undo.submit(status=200)
    with edit_site(world) as site:
        card = site['registry'].card_by_code(code.replace('-', ''))
        assert card.uses == 0


def test_unknown_codes_are_rate_limited_per_user_and_site(world):
    from kaiku_registry.codes import new_code

    door = client(world, 'venue_a')
    for i in range(20):
        form = door.get('/registry/door').forms[2]
        form['code'] = new_code() if i % 2 else 'NOT-A-CODE'
        res = form.submit(status=200 if i % 2 else 400)
        assert res.html.select_one('.verdict') is not None or res.html.select_one('#errors') is not None
    form = door.get('/registry/door').forms[2]
    form['code'] = new_code()
    res = form.submit(status=429)
    assert int(res.headers['Retry-After']) > 0


def test_card_reads_are_audited_without_the_code(world):
    from portal.audit import LOG_KEY

    _res, code = issue_card(client(world, 'issuer_a'))
    door = client(world, 'venue_a')
    form = door.get('/registry/door').forms[2]
    form['code'] = code
    form.submit(status=200)
    db = world.registry._zodb_databases['audit']
    conn = db.open()
    try:
        entries = list(conn.root()[LOG_KEY].entries.values())
    finally:
        conn.close()
    reads = [e for e in entries if e['action'] == 'registry.card.read']
    assert reads and reads[-1]['actor'] == 'venue_a'
    assert all(code.replace('-', '') not in repr(e) for e in entries)


def test_coordinator_sees_only_their_area(world):
    app = client(world, 'coord_tampere')
    res = app.get('/registry/stats?municipality=Nokia', status=400)
    assert res.html.select_one('#municipality option[selected]')['value'] == 'Tampere'
    assert 'Nokia' in res.html.select_one('.notice').text
    csv = app.get('/registry/stats.csv', status=200)
    assert csv.content_type == 'text/csv'
    assert 'Nokia' not in csv.text
