"""Limits an attacker cannot turn against the registry: unknown codes lock out the API token or the user
that made them (with a site-wide ceiling one client cannot reach), API bodies are capped in size and
depth before they are read, and an issuer's search answers another site's card as an unknown code."""

import pytest
import webtest

from portal.testing import add_user, edit_site, log_in

API = '/registry/api/v1'
PASSWORD = 'kaiku registry test passphrase 42'
UNKNOWN = '23456789AB'


@pytest.fixture(scope='module')
def world(tmp_path_factory):
    """A venue with six API tokens and two door staff, two issuers of different partners, a card each."""
    from kaiku_registry import today
    from portal.testing import build_app, close_app

    app = build_app(str(tmp_path_factory.mktemp('limits')))
    with edit_site(app) as site:
        registry = site['registry']
        tampere = registry.add_partner('Tampereen kaupunki', 'municipality', 'Tampere', 'Pirkanmaa')
        nokia = registry.add_partner('Nokian kaupunki', 'municipality', 'Nokia', 'Pirkanmaa')
        venue = registry.add_site(tampere, 'Uimahalli', 'venue')
        issuer_a = registry.add_site(tampere, 'Sosiaalitoimi Tampere', 'issuer')
        issuer_b = registry.add_site(nokia, 'Sosiaalitoimi Nokia', 'issuer')
        for login, member_of in (
            ('door1', venue),
            ('door2', venue),
            ('issuer_a', issuer_a),
            ('issuer_b', issuer_b),
        ):
            registry.set_member(login, member_of)
        world = {
            'app': app,
            'tokens': [registry.new_token(venue) for _ in range(6)],
            'card_a': registry.issue_card(issuer_a, today(), 1980, '33100', 1).code,
            'card_b': registry.issue_card(issuer_b, today(), 1980, '37100', 1).code,
        }
    for login in ('door1', 'door2'):
        add_user(app, login, PASSWORD, roles=['VenueStaff'])
    for login in ('issuer_a', 'issuer_b'):
        add_user(app, login, PASSWORD, roles=['IssuerStaff'])
    yield world
    close_app(app)


@pytest.fixture
def client(world):
    world['app'].registry.lookup_throttle.clear()
    return webtest.TestApp(world['app'], extra_environ={'HTTP_HOST': 'example.com'})


def user(world, login):
    app = webtest.TestApp(world['app'], extra_environ={'HTTP_HOST': 'example.com'})
    log_in(app, login, PASSWORD)
    return app


def verify(client, token, code, status=200):
    headers = {'Authorization': f'Bearer {token}'}
    return client.post_json(API + '/verify', {'code': code}, headers=headers, status=status)


# Unknown codes lock out the client that made them ---------------------------------------------------------
def test_one_api_token_s_unknown_codes_lock_out_that_token_only(client, world):
    first, second = world['tokens'][:2]
    for _ in range(20):
        verify(client, first, UNKNOWN)
    res = verify(client, first, world['card_a'], status=429)
    assert res.json['error'] == 'rate_limited'
    assert int(res.headers['Retry-After']) > 0
    assert verify(client, second, world['card_a']).json['status'] == 'valid'


def test_the_site_ceiling_needs_many_clients_failing(client, world):
    tokens = world['tokens']
    for token in tokens[:4]:
        for _ in range(25):  # the last five of each are refused and do not count
            verify(client, token, UNKNOWN, status=(200, 429))
    assert verify(client, tokens[4], world['card_a']).json['status'] == 'valid'
    for _ in range(20):
        verify(client, tokens[4], UNKNOWN)
    # Five clients at their limit reach the site's ceiling: now the sixth waits too.
    verify(client, tokens[5], world['card_a'], status=429)


def door_check(app, code, status=200):
    form = app.get('/registry/door').forms[2]
    form['code'] = code
    return form.submit(status=status)


def test_one_door_user_s_typos_lock_out_that_user_only(client, world):
    door1, door2 = user(world, 'door1'), user(world, 'door2')
    for _ in range(20):
        door_check(door1, UNKNOWN)
    door_check(door1, world['card_a'], status=429)
    res = door_check(door2, world['card_a'])
    assert res.html.select_one('.verdict') is not None
    assert verify(client, world['tokens'][0], world['card_a']).json['status'] == 'valid'
