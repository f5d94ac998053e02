"""The door records only the visit of the check that just happened.

A door check that finds a valid card answers with a short-lived signed token (site, user, session, card,
time, nonce); recording the visit needs it, once.  A replayed, missing, altered, expired or someone
else's token answers 4xx and records nothing, and every error answer of the door has a 4xx status.
"""

import time

import pytest
import webtest

from portal.testing import add_user, edit_site, log_in

PASSWORD = 'door check token test passphrase 7'


@pytest.fixture(scope='module')
def world(tmp_path_factory):
    from kaiku_registry import today
    from portal.testing import build_app, close_app

    app = build_app(str(tmp_path_factory.mktemp('door-token')))
    with edit_site(app) as site:
        registry = site['registry']
        city = registry.add_partner('Tampereen kaupunki', 'municipality', 'Tampere', 'Pirkanmaa')
        issuer = registry.add_site(city, 'Sosiaalitoimi', 'issuer')
        pool = registry.add_site(city, 'Uimahalli', 'venue')
        museum = registry.add_site(city, 'Museo', 'venue')
        for login, member_of in (('pool', pool), ('pool2', pool), ('museum', museum)):
            registry.set_member(login, member_of)
        app.cards = [registry.issue_card(issuer, today(), 1980, '33100', 2).code for _ in range(40)]
    for login in ('pool', 'pool2', 'museum'):
        add_user(app, login, PASSWORD, roles=['VenueStaff'])
    yield app
    close_app(app)


def client(world, login):
    world.registry.lookup_throttle.clear()
    app = webtest.TestApp(world, extra_environ={'HTTP_HOST': 'example.com'})
    log_in(app, login, PASSWORD)
    return app


def card_code(world):
    """A card no other test of this module uses."""
    return world.cards.pop()


def uses(world, code):
    with edit_site(world) as site:
        registry = site['registry']
        card = registry.card_by_code(code)
        return card.uses, len(registry.visit_ids_by_card.get(card.id, ()))


def check(door, code):
    """The door's record form after a check of ``code``."""
    form = door.get('/registry/door').forms[2]
    form['code'] = code
    res = form.submit(status=200)
    return next(f for f in res.forms.values() if f.action.endswith('door-record'))


def post_record(door, fields, status):
    token = door.get('/registry/door').forms[2]['csrf_token'].value
    fields = {'csrf_token': token, 'sector': 'culture'} | fields
    return door.post('/registry/door-record', fields, status=status)


def test_a_check_records_one_visit(world):
    code = card_code(world)
    door = client(world, 'pool')
    record = check(door, code)
    assert 'card_id' not in record.fields
    res = record.submit(status=200)
    assert res.html.select_one('.status-ok') is not None
    assert uses(world, code) == (1, 1)


def test_posting_the_same_check_three_times_records_one_visit(world):
    code = card_code(world)
    door = client(world, 'pool')
    record = check(door, code)
    record.submit(status=200)
    for _ in range(2):
        res = record.submit(status=409)
        assert 'Tällä tarkistuksella on jo kirjattu käynti' in res.html.select_one('#errors').text
        assert res.html.select_one('.status-ok') is None
    assert uses(world, code) == (1, 1)


def test_a_check_used_and_undone_records_nothing_again(world):
    code = card_code(world)
    door = client(world, 'pool')
    record = check(door, code)
    res = record.submit(status=200)
    undo = next(f for f in res.forms.values() if f.action.endswith('door-undo'))
    undo.submit(status=200)
    record.submit(status=409)
    assert uses(world, code) == (0, 1)


def test_a_second_check_records_a_second_visit(world):
    code = card_code(world)
    door = client(world, 'pool')
    check(door, code).submit(status=200)
    check(door, code).submit(status=200)
    assert uses(world, code) == (2, 2)


def test_the_old_form_without_a_token_records_nothing(world):
    code = card_code(world)
    with edit_site(world) as site:
        card_id = site['registry'].card_by_code(code).id
    door = client(world, 'pool')
    res = post_record(door, {'card_id': str(card_id)}, status=400)
    assert res.html.select_one('#errors') is not None
    assert uses(world, code) == (0, 0)


@pytest.mark.parametrize(
    'alter',
    [
        lambda token, other_id: f'{other_id}.' + token.split('.', 1)[1],  # another card, same signature
        lambda token, other_id: token[:-2] + ('AA' if token[-2:] != 'AA' else 'BB'),  # signature altered
        lambda token, other_id: token.replace('.', '.9', 1),  # issue time altered
        lambda token, other_id: 'not a token',
        lambda token, other_id: '١٢.١٢.x.y',
    ],
    ids=['other-card', 'signature', 'time', 'garbage', 'unicode-digits'],
)
def test_an_altered_token_is_refused(world, alter):
    code, other = card_code(world), card_code(world)
    with edit_site(world) as site:
        other_id = site['registry'].card_by_code(other).id
    door = client(world, 'pool')
    token = check(door, code)['check'].value
    res = post_record(door, {'check': alter(token, other_id)}, status=403)
    assert res.html.select_one('#errors') is not None
    assert uses(world, code) == (0, 0)
    assert uses(world, other) == (0, 0)


def test_an_expired_token_is_refused(world, monkeypatch):
    code = card_code(world)
    door = client(world, 'pool')
    record = check(door, code)
    checks = world.registry.registry_door_checks
    assert checks.lifetime == 300
    monkeypatch.setattr(checks, 'clock', lambda: time.time() + 301)
    record.submit(status=400)
    assert uses(world, code) == (0, 0)
    monkeypatch.setattr(checks, 'clock', lambda: time.time() + 290)
    record.submit(status=200)  # still within its lifetime
    assert uses(world, code) == (1, 1)


@pytest.mark.parametrize('other', ['pool2', 'museum'], ids=['other-user-same-site', 'other-site'])
def test_a_token_made_for_someone_else_is_refused(world, other):
    code = card_code(world)
    token = check(client(world, 'pool'), code)['check'].value
    res = post_record(client(world, other), {'check': token}, status=403)
    assert res.html.select_one('#errors') is not None
    assert uses(world, code) == (0, 0)


def test_a_token_of_another_session_of_the_same_user_is_refused(world):
    code = card_code(world)
    token = check(client(world, 'pool'), code)['check'].value
    post_record(client(world, 'pool'), {'check': token}, status=403)
    assert uses(world, code) == (0, 0)


def test_bad_visit_values_keep_the_check_for_a_second_try(world):
    code = card_code(world)
    door = client(world, 'pool')
    record = check(door, code)
    record['sector'] = 'culture'
    res = post_record(door, {'check': record['check'].value, 'sector': 'juggling'}, status=400)
    again = next(f for f in res.forms.values() if f.action.endswith('door-record'))
    assert again['check'].value == record['check'].value
    again.submit(status=200)
    assert uses(world, code) == (1, 1)


def test_door_errors_have_4xx_statuses(world):
    door = client(world, 'pool')
    form = door.get('/registry/door').forms[2]
    form['code'] = 'NOT-A-CODE'
    res = form.submit(status=400)
    assert res.html.select_one('#errors') is not None
    code = card_code(world)
    res = check(door, code).submit(status=200)
    undo = next(f for f in res.forms.values() if f.action.endswith('door-undo'))
    undo.submit(status=200)
    res = undo.submit(status=409)
    assert res.html.select_one('#errors') is not None


def test_the_api_records_only_on_a_code_it_looks_up_itself(world):
    """The API's visits take the card's code, looked up afresh in each request, never an internal id: it
    has no such hole to close, and each posted code is one fresh check."""
    code = card_code(world)
    with edit_site(world) as site:
        registry = site['registry']
        card_id = registry.card_by_code(code).id
        token = registry.new_token(registry.site(registry.members['pool']))
    api = webtest.TestApp(world, extra_environ={'HTTP_HOST': 'example.com'})
    headers = {'Authorization': f'Bearer {token}'}
    body = {'card_id': str(card_id), 'sector': 'culture'}
    api.post_json('/registry/api/v1/visits', body, headers=headers, status=400)
    assert uses(world, code) == (0, 0)
    api.post_json('/registry/api/v1/visits', {'code': code, 'sector': 'culture'}, headers=headers, status=201)
    assert uses(world, code) == (1, 1)
