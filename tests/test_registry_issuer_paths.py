"""The issuer's paths through WebTest: card stock (batches, sheets, CSV, allocation, marks), issuing by a
pre-printed code and registering a paper-form card afterwards; the bad inputs of each as well as the good
ones.  (The door's paths, community cards and visits entered afterwards: ``test_registry_door_paths``.)"""

import csv
import datetime
import io

import pytest
from registry_paths import (
    allocated_batch,
    audit_entries,
    build_world,
    client,
    finnish,
    make_batch,
    registry_of,
    shown,
    today,
)

from portal.testing import close_app, edit_site, form_with


@pytest.fixture(scope='module')
def world(tmp_path_factory):
    app = build_world(str(tmp_path_factory.mktemp('issuer-paths')))
    yield app
    close_app(app)


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
    assert shown(valid_until) in res.text
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
        ('issuer_a', 'issue-community', {'source': 'stock', 'code': stock[1], 'issued_on': finnish(today())}),
        ('venue_a', 'door-late', {'code': stock[0], 'day': finnish(today()), 'sector': 'culture'}),
    ]:
        app = client(world, login)
        app.post(f'/registry/{name}', fields, status=400)
        app.post(f'/registry/{name}', {**fields, 'csrf_token': 'forged' * 8}, status=400)
    with registry_of(world) as registry:
        after = (len(registry.stock_batches), len(registry.cards), dict(registry.stock_marks.items()))
    assert after == before


@pytest.mark.parametrize('community', [False, True])
def test_an_unknown_source_is_a_bad_request(world, community):
    app = client(world, 'issuer_a')
    form = community_form(app) if community else issue_form(app)
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


# A community card from a pre-printed code -------------------------------------------------------------
def community_form(app, **values):
    page = app.get('/registry/issue')
    form = next(f for f in page.forms.values() if f.action.endswith('issue-community'))
    for name, value in values.items():
        form[name] = value
    return form


def test_a_community_card_is_issued_from_a_pre_printed_code(world):
    stock = allocated_batch(world)
    given = today() - datetime.timedelta(days=5)
    app = client(world, 'issuer_a')
    res = community_form(app, source='stock', code=stock[0].lower(), issued_on=finnish(given)).submit(
        status=200
    )
    assert res.html.select_one('.card-kind') is not None  # printed as a community card
    assert res.html.select_one('.card-code').text.split()[-1].replace('-', '') == stock[0]
    with registry_of(world) as registry:
        card = registry.card_by_code(stock[0])
        assert (card.community, card.birth_year, card.children, card.valid_from) == (True, None, 0, given)
        assert registry.stock_state(stock[0]) == 'issued'
    late = audit_entries(world, 'registry.card.issue_late')[-1]['detail']
    assert late['card'] == str(card.id) and late['community'] and late['issued_on'] == given.isoformat()


def test_the_community_form_offers_a_new_code_by_default(world):
    app = client(world, 'issuer_a')
    form = community_form(app)
    assert form['source'].value == 'new'
    res = form.submit(status=200)
    code = res.html.select_one('.card-code').text.split()[-1].replace('-', '')
    with registry_of(world) as registry:
        assert registry.card_by_code(code).community and registry.stock_state(code) is None


@pytest.mark.parametrize(
    ('values', 'field', 'message'),
    [
        ({'source': 'stock', 'code': 'ABCD-EFGH-JK'}, 'code', 'Tämä ei ole kortin koodi'),
        ({'source': 'stock', 'code': ''}, 'code', 'Vaadittu'),
        ({'source': 'stock', 'issued_on': 'eilen'}, 'issued_on', 'Anna päivämäärä muodossa pp.kk.vvvv.'),
        (
            {'source': 'stock', 'issued_on': lambda: finnish(today() - datetime.timedelta(days=31))},
            'issued_on',
            'Päivämäärä voi olla enintään 30 päivän takaa.',
        ),
        ({'source': 'new'}, 'source', 'Kirjoitit valmiiksi painetun kortin koodin'),
        ({'source': 'stock', 'code': 'other'}, 'code', 'ei ole toimipisteesi korttivarastossa'),
    ],
)
def test_a_community_card_by_a_bad_pre_printed_code_is_refused_beside_its_field(
    world, values, field, message
):
    stock = allocated_batch(world, size='1')
    others = allocated_batch(world, to='issuer_b', size='1')
    values = {'code': stock[0], **values}
    values = {name: value() if callable(value) else value for name, value in values.items()}
    if values['code'] == 'other':
        values['code'] = others[0]
    app = client(world, 'issuer_a')
    with registry_of(world) as registry:
        before = len(registry.cards)
    res = community_form(app, **values).submit(status=400)
    error = res.html.select_one(f'#community-{field}-error')
    assert message in error.text, error
    assert res.html.select_one(f'.error-summary a[href="#community-{field}"]') is not None
    assert res.html.select_one(f'#{field}-error') is None  # the holder's form is not blamed
    with registry_of(world) as registry:
        assert len(registry.cards) == before and registry.stock_state(stock[0]) == 'unused'
