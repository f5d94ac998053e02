"""The issuer's paths through WebTest: card stock (batches, sheets, CSV, allocation, marks), issuing by a
pre-printed code, registering a paper-form card afterwards, visits entered afterwards and community cards
at the door; the bad inputs of each as well as the good ones."""

import csv
import datetime
import io

import pytest
import webtest

from portal.testing import add_user, edit_site, form_with, log_in

PASSWORD = 'kaiku issuer paths passphrase 17'


@pytest.fixture(scope='module')
def world(tmp_path_factory):
    from portal.testing import build_app, close_app

    app = build_app(str(tmp_path_factory.mktemp('issuer-paths')))
    with edit_site(app) as site:
        registry = site['registry']
        tampere = registry.add_partner('Tampereen kaupunki', 'municipality', 'Tampere', 'Pirkanmaa')
        nokia = registry.add_partner('Nokian kaupunki', 'municipality', 'Nokia', 'Pirkanmaa')
        sites = {
            'issuer_a': registry.add_site(tampere, 'Sosiaalitoimi Tampere', 'issuer'),
            'issuer_b': registry.add_site(nokia, 'Sosiaalitoimi Nokia', 'issuer'),
            'venue_a': registry.add_site(tampere, 'Museo Tampere', 'venue'),
        }
        for login, partner_site in sites.items():
            registry.set_member(login, partner_site)
        registry.set_area('coord_tampere', 'municipality', 'Tampere')
        app.site_ids = {login: partner_site.id for login, partner_site in sites.items()}
    roles = {
        'issuer_a': ['IssuerStaff'],
        'issuer_b': ['IssuerStaff'],
        'venue_a': ['VenueStaff'],
        'coord_tampere': ['Coordinator'],
        'national': ['NationalAdmin'],
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


def registry_of(world):
    """A read of the registry: ``with registry_of(world) as registry``."""
    return _Reading(world)


class _Reading:
    def __init__(self, world):
        self.edit = edit_site(world)

    def __enter__(self):
        return self.edit.__enter__()['registry']

    def __exit__(self, *exc):
        return self.edit.__exit__(*exc)


def make_batch(world, login='coord_tampere', size='6'):
    app = client(world, login)
    form = form_with(app.get('/registry/stock'), 'size')
    form['size'] = size
    res = form.submit(status=303).follow(status=200)
    return app, res


def allocated_batch(world, to='issuer_a', size='6'):
    """A new batch allocated to ``to``'s site (by Tampere's coordinator, or nationally for Nokia); its
    codes."""
    _app, res = make_batch(world, login='coord_tampere' if to == 'issuer_a' else 'national', size=size)
    form = form_with(res, 'site_id')
    form['site_id'] = str(world.site_ids[to])
    res = form.submit(status=200)
    return [row.select_one('th').text.replace('-', '') for row in res.html.select('table.records tbody tr')]


def audit_entries(world, action):
    from portal.audit import LOG_KEY

    conn = world.registry._zodb_databases['audit'].open()
    try:
        log = conn.root().get(LOG_KEY)
        return [dict(e) for e in log.entries.values() if e['action'] == action] if log else []
    finally:
        conn.close()


def today():
    from kaiku_registry import today as clock_today

    return clock_today()


def finnish(day):
    return day.strftime('%d.%m.%Y')


# Card stock ----------------------------------------------------------------------------------------------
def test_a_coordinator_makes_a_batch_and_sees_its_codes_unused(world):
    from kaiku_registry import codes

    _app, res = make_batch(world, size='7')
    rows = res.html.select('table.records tbody tr')
    assert len(rows) == 7
    assert all(codes.parse(row.select_one('th').text) for row in rows)
    assert {row.select_one('td')['class'][0] for row in rows} == {'state-unused'}
    assert audit_entries(world, 'registry.stock.batch')[-1]['detail']['size'] == '7'


@pytest.mark.parametrize('size', ['0', '1001', 'kymmenen', '', '-5', '١٠'])
def test_a_batch_of_a_bad_size_is_refused_with_a_message(world, size):
    app = client(world, 'coord_tampere')
    with registry_of(world) as registry:
        before = len(registry.stock_batches)
    form = form_with(app.get('/registry/stock'), 'size')
    form['size'] = size
    res = form.submit(status=400)
    assert res.html.select_one('#size-error').text.strip()
    with registry_of(world) as registry:
        assert len(registry.stock_batches) == before


@pytest.mark.parametrize(('login', 'status'), [('issuer_a', 403), ('venue_a', 403), (None, 403)])
def test_only_coordinators_and_national_admins_keep_the_stock(world, login, status):
    client(world, login).get('/registry/stock', status=status)


def test_a_batch_goes_only_to_an_issuing_site_of_the_coordinators_area(world):
    _app, res = make_batch(world)
    options = [o.text for o in res.html.select('#site_id option')]
    assert options == ['Sosiaalitoimi Tampere (Tampere)']
    form = form_with(res, 'site_id')
    form['site_id'].force_value(str(world.site_ids['issuer_b']))
    res = form.submit(status=400)
    assert res.html.select_one('#site_id-error') is not None
    form['site_id'].force_value(str(world.site_ids['venue_a']))
    form.submit(status=400)


def test_another_areas_batch_is_not_found(world):
    _app, res = make_batch(world, login='national')
    batch_url = res.request.url
    client(world, 'coord_tampere').get(batch_url, status=404)
    client(world, 'national').get(batch_url, status=200)


def test_the_print_house_gets_a_csv_and_the_printer_a_sheet(world):
    from kaiku_registry import codes

    app, res = make_batch(world, size='4')
    sheet = app.get(res.html.find('a', href=lambda h: h and 'stock-sheet' in h)['href'], status=200)
    assert len(sheet.html.select('.stock-sheet .kaiku-card')) == 4
    assert len(sheet.html.select('.card-qr svg')) == 4 and len(sheet.html.select('.card-barcode svg')) == 4
    csv_res = app.get(res.html.find('a', href=lambda h: h and 'stock.csv' in h)['href'], status=200)
    assert csv_res.content_type == 'text/csv'
    rows = list(csv.reader(io.StringIO(csv_res.text.lstrip('\ufeff')), delimiter=';'))
    assert rows[0] == ['Numero', 'Kortin koodi', 'Painettu koodi', 'Tila']
    assert len(rows) == 5 and all(codes.is_valid(row[1]) for row in rows[1:])
    assert [row[3] for row in rows[1:]] == ['Käyttämätön'] * 4
    app.get(res.html.find('a', href=lambda h: h and 'stock.csv' in h)['href'] + '&dialect=xml', status=400)


def test_a_stock_code_not_issued_is_not_registered_at_the_door_nor_in_the_api(world):
    stock = allocated_batch(world)
    door = client(world, 'venue_a')
    form = form_with(door.get('/registry/door'), 'code')
    form['code'] = stock[0]
    res = form.submit(status=200)
    assert res.html.select_one('.server-result')['class'][1] == 'status-unknown'
    with edit_site(world) as site:
        token = site['registry'].new_token(site['registry'].site(world.site_ids['venue_a']))
    api = client(world)
    answer = api.post_json(
        '/registry/api/v1/verify', {'code': stock[0]}, headers={'Authorization': f'Bearer {token}'}
    )
    assert answer.json['status'] == 'unknown'


# Issuing by a pre-printed code ---------------------------------------------------------------------------
def issue_form(app, **values):
    form = form_with(app.get('/registry/issue'), 'birth_year')
    form['birth_year'], form['postcode'], form['children'] = '1985', '33100', '1'
    for name, value in values.items():
        form[name] = value
    return form


def test_issuing_by_a_pre_printed_code(world):
    stock = allocated_batch(world)
    app = client(world, 'issuer_a')
    res = issue_form(app, source='stock', code=stock[0].lower()).submit(status=200)
    assert res.html.select_one('.card-code').text.split()[-1].replace('-', '') == stock[0]
    with registry_of(world) as registry:
        card = registry.card_by_code(stock[0])
        assert (card.valid_from, card.children) == (today(), 1)
        assert registry.stock_state(stock[0]) == 'issued'
    assert audit_entries(world, 'registry.card.issue')[-1]['detail']['card'] == str(card.id)


def test_the_new_random_code_stays_the_default(world):
    app = client(world, 'issuer_a')
    res = issue_form(app).submit(status=200)
    code = res.html.select_one('.card-code').text.split()[-1].replace('-', '')
    with registry_of(world) as registry:
        assert registry.card_by_code(code) is not None and registry.stock_state(code) is None


def test_a_pre_printed_code_that_cannot_be_issued_gets_a_clear_message(world, english_interface):
    stock = allocated_batch(world)
    others = allocated_batch(world, to='issuer_b')
    app = client(world, 'issuer_a')
    issue_form(app, source='stock', code=stock[0]).submit(status=200)
    form = form_with(app.get('/registry/site-stock'), 'code')
    form['code'], form['mark'] = stock[1], 'spoiled'
    form.submit(status=200)
    cases = [
        (others[0], 'not in the card stock of your site'),
        (stock[0], 'has been issued with this code already'),
        (stock[1], 'marked spoiled'),
        ('ABCD-EFGH-JK', 'not a card code'),
        ('', 'Required'),
    ]
    with registry_of(world) as registry:
        before = len(registry.cards)
    for code, message in cases:
        res = issue_form(app, source='stock', code=code).submit(status=400)
        assert message in res.html.select_one('#code-error').text, code
        assert res.html.select_one('#code')['aria-invalid'] == 'true'
    with registry_of(world) as registry:
        assert len(registry.cards) == before


# Registering a paper-form card afterwards --------------------------------------------------------------
def test_a_paper_form_card_is_registered_back_dated(world):
    stock = allocated_batch(world)
    given = today() - datetime.timedelta(days=30)
    app = client(world, 'issuer_a')
    res = issue_form(app, source='stock', code=stock[0], issued_on=finnish(given)).submit(status=200)
    with registry_of(world) as registry:
        card = registry.card_by_code(stock[0])
        assert card.valid_from == given
        valid_until = card.valid_until
    assert finnish(valid_until) in res.text
    late = audit_entries(world, 'registry.card.issue_late')[-1]['detail']
    assert late['card'] == str(card.id) and late['issued_on'] == given.isoformat()


@pytest.mark.parametrize(
    ('issued_on', 'message'),
    [
        (
            lambda: finnish(today() - datetime.timedelta(days=31)),
            'Päivämäärä voi olla enintään 30 päivän takaa.',
        ),
        (lambda: finnish(today() + datetime.timedelta(days=1)), 'Päivämäärä ei voi olla tulevaisuudessa.'),
        (lambda: '31.02.2026', 'Anna päivämäärä muodossa pp.kk.vvvv.'),
        (lambda: 'eilen', 'Anna päivämäärä muodossa pp.kk.vvvv.'),
    ],
)
def test_a_paper_form_card_is_refused_outside_30_days_in_finnish(world, issued_on, message):
    stock = allocated_batch(world, size='1')
    app = client(world, 'issuer_a')
    res = issue_form(app, source='stock', code=stock[0], issued_on=issued_on()).submit(status=400)
    assert res.html.select_one('#issued_on-error').text == message
    with registry_of(world) as registry:
        assert registry.stock_state(stock[0]) == 'unused'


def test_a_typed_code_with_the_new_code_choice_is_not_ignored(world):
    stock = allocated_batch(world, size='1')
    app = client(world, 'issuer_a')
    with registry_of(world) as registry:
        before = len(registry.cards)
    res = issue_form(app, code=stock[0]).submit(status=400)
    assert res.html.select_one('.error-summary a[href="#source"]').text == (
        'Kirjoitit valmiiksi painetun kortin koodin: valitse valmiiksi painettu kortti tai tyhjennä koodi.'
    )
    with registry_of(world) as registry:
        assert len(registry.cards) == before


def test_every_stock_change_needs_the_csrf_token(world):
    stock = allocated_batch(world, size='2')
    with registry_of(world) as registry:
        batch_id = registry.stock_codes[stock[0]]
        before = (len(registry.stock_batches), len(registry.cards), dict(registry.stock_marks.items()))
    for login, name, fields in [
        ('coord_tampere', 'stock', {'size': '5'}),
        ('coord_tampere', 'stock-allocate', {'id': batch_id, 'site_id': world.site_ids['issuer_a']}),
        ('coord_tampere', 'stock-mark', {'id': batch_id, 'code': stock[0], 'mark': 'lost'}),
        ('issuer_a', 'site-stock', {'code': stock[0], 'mark': 'lost'}),
        (
            'issuer_a',
            'issue',
            {'source': 'stock', 'code': stock[0], 'birth_year': '1980', 'postcode': '33100'},
        ),
        ('issuer_a', 'issue-community', {}),
        ('venue_a', 'door-late', {'code': stock[0], 'day': finnish(today()), 'sector': 'culture'}),
    ]:
        app = client(world, login)
        app.post(f'/registry/{name}', fields, status=400)
        app.post(f'/registry/{name}', {**fields, 'csrf_token': 'forged' * 8}, status=400)
    with registry_of(world) as registry:
        after = (len(registry.stock_batches), len(registry.cards), dict(registry.stock_marks.items()))
    assert after == before


def test_an_unknown_source_is_a_bad_request(world):
    app = client(world, 'issuer_a')
    form = issue_form(app)
    form['source'].force_value('both')
    form.submit(status=400)


# Marks ------------------------------------------------------------------------------------------------------
def test_staff_mark_their_own_stock_and_no_one_elses(world, english_interface):
    stock = allocated_batch(world)
    app = client(world, 'issuer_b')
    form = form_with(app.get('/registry/site-stock'), 'code')
    form['code'], form['mark'] = stock[0], 'lost'
    res = form.submit(status=400)
    assert 'not in the card stock of your site' in res.html.select_one('#code-error').text
    app = client(world, 'issuer_a')
    form = form_with(app.get('/registry/site-stock'), 'code')
    form['code'], form['mark'] = stock[0], 'lost'
    form.submit(status=200)
    with registry_of(world) as registry:
        assert registry.stock_state(stock[0]) == 'lost'
    form['mark'].force_value('stolen')
    form.submit(status=400)


# Community cards at the door -------------------------------------------------------------------------------
def community_card(world):
    app = client(world, 'issuer_a')
    forms = [f for f in app.get('/registry/issue').forms.values() if f.action.endswith('issue-community')]
    res = forms[0].submit(status=200)
    assert res.html.select_one('.card-kind') is not None
    assert len(res.html.select('.card-facts dt')) == 1  # the validity; no child tickets on a community card
    return res.html.select_one('.card-code').text.split()[-1]


def door_check(app, code):
    form = form_with(app.get('/registry/door'), 'code')
    form['code'] = code
    return form.submit(status=200)


def test_a_community_card_is_issued_without_holder_data_and_checked_at_the_door(world):
    code = community_card(world)
    with registry_of(world) as registry:
        card = registry.card_by_code(code.replace('-', ''))
        assert (card.community, card.birth_year, card.postcode, card.children) == (True, None, None, 0)
    door = client(world, 'venue_a')
    res = door_check(door, code)
    assert res.html.select_one('.community-rule') is not None
    assert res.html.select_one('#children') is None
    form = form_with(res, 'group')
    form['group'] = '12'
    res = form.submit(status=200)
    assert '12' in res.html.select_one('.status-ok').text
    with registry_of(world) as registry:
        counts = dict(registry.tallies[('all',)].items())
        assert counts[('community_uses', 'culture')] >= 1
        assert counts[('community_clients', 'culture')] >= 12


@pytest.mark.parametrize('group', ['0', '', '41', '999999', 'kaksi'])
def test_a_community_visit_needs_a_counted_group(world, group):
    code = community_card(world)
    door = client(world, 'venue_a')
    form = form_with(door_check(door, code), 'group')
    form['group'] = group
    res = form.submit(status=400)
    assert res.html.select_one('#group-error').text.strip()
    with registry_of(world) as registry:
        assert registry.card_by_code(code.replace('-', '')).uses == 0


def test_statistics_show_community_visits_apart(world):
    code = community_card(world)
    door = client(world, 'venue_a')
    form = form_with(door_check(door, code), 'group')
    form['group'] = '5'
    form.submit(status=200)
    res = client(world, 'national').get('/registry/stats', status=200)
    facts = dict(
        zip(
            [dt.text for dt in res.html.select('dl.facts dt')],
            [dd.text for dd in res.html.select('dl.facts dd')],
            strict=True,
        )
    )
    assert int(facts['Ryhmäkäynnit yhteisön Kaikukortilla']) >= 1
    assert int(facts['Alle 16-vuotiaita asiakkaita näissä ryhmissä']) >= 5
    res = client(world).get('/registry/impact?municipality=Tampere', status=200)
    facts = [dt.text for dt in res.html.select('dl.facts dt')]
    assert facts[-2:] == [
        'Ryhmäkäynnit yhteisön Kaikukortilla',
        'Alle 16-vuotiaita asiakkaita näissä ryhmissä',
    ]


# Visits entered afterwards --------------------------------------------------------------------------------
def holder_card(world, days_back=0):
    with edit_site(world) as site:
        registry = site['registry']
        issuer = registry.site(world.site_ids['issuer_a'])
        card = registry.issue_card(issuer, today() - datetime.timedelta(days=days_back), 1980, '33100', 2)
        return card.code


def late_form(app, code, day, **values):
    form = form_with(app.get('/registry/door-late'), 'day')
    form['code'], form['day'] = code, day
    for name, value in values.items():
        form[name] = value
    return form


def test_a_visit_noted_on_paper_is_entered_with_its_real_day(world):
    code = holder_card(world, days_back=40)
    day = today() - datetime.timedelta(days=12)
    app = client(world, 'venue_a')
    res = late_form(app, code, finnish(day), children='2').submit(status=200)
    assert finnish(day) in res.html.select_one('.status-ok').text
    with registry_of(world) as registry:
        card = registry.card_by_code(code)
        (visit_id,) = registry.visit_ids_by_card[card.id]
        assert (registry.visit(visit_id).date, registry.visit(visit_id).children) == (day, 2)
    late = audit_entries(world, 'registry.visit.record_late')[-1]['detail']
    assert late['day'] == day.isoformat() and late['card'] == str(card.id)


@pytest.mark.parametrize(
    ('card_days_back', 'visit_days_back', 'extra', 'field'),
    [
        (60, 31, {}, 'day'),
        (60, -1, {}, 'day'),
        (5, 10, {}, 'day'),  # the card was not yet registered that day
        (60, 3, {'children': '3'}, 'children'),
        (60, 3, {'group': '4'}, 'group'),  # a holder's card admits no group
        (60, 3, {'sector': 'circus'}, 'sector'),
    ],
)
def test_a_late_visit_outside_the_rules_is_refused(world, card_days_back, visit_days_back, extra, field):
    code = holder_card(world, days_back=card_days_back)
    day = today() - datetime.timedelta(days=visit_days_back)
    app = client(world, 'venue_a')
    form = late_form(app, code, finnish(day))
    for name, value in extra.items():
        form[name].force_value(value) if name == 'sector' else form.__setitem__(name, value)
    res = form.submit(expect_errors=True)
    assert res.status_int in (400, 409)
    assert field in {a['href'].lstrip('#') for a in res.html.select('.error-summary a')}
    with registry_of(world) as registry:
        assert registry.card_by_code(code).uses == 0


def test_a_late_visit_of_an_unknown_code_is_refused(world):
    from kaiku_registry import codes

    app = client(world, 'venue_a')
    res = late_form(app, codes.grouped(codes.new_code()), finnish(today())).submit(status=400)
    assert res.html.select_one('#code-error') is not None
    client(world, 'issuer_a').get('/registry/door-late', status=403)
