"""Limits an attacker cannot turn against the registry: unknown codes lock out the API token or the user
that made them (with a site-wide ceiling one client cannot reach), API bodies are capped in size and
depth before they are read, and an issuer's search answers another site's card as an unknown code."""

import pytest
import webtest

from kaiku_registry.codes import check_character
from portal.testing import add_user, edit_site, log_in

API = '/registry/api/v1'
PASSWORD = 'kaiku registry test passphrase 42'
#: A well-formed code (its check character is right) that no card has: a typo the check character missed.
UNKNOWN = '23456789A' + check_character('23456789A')


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


def test_a_visit_reads_the_throttle_in_its_own_transaction(client, world, monkeypatch):
    """The visit's view reads the lookup throttle through the request's connection (no transaction of
    the throttle's own, which on ZEO is a round trip more), and a token locked out by its unknown codes
    is refused a visit as a verification."""
    from portal.security.throttle import Throttle

    token, locked = world['tokens'][:2]
    visit = {'code': world['card_a'], 'sector': 'sport'}
    original, opened = Throttle._connection, []
    monkeypatch.setattr(Throttle, '_connection', lambda self: opened.append(self.name) or original(self))
    res = client.post_json(API + '/visits', visit, headers={'Authorization': f'Bearer {token}'})
    assert res.status_int == 201 and opened == []
    for _ in range(20):
        verify(client, locked, UNKNOWN)
    res = client.post_json(API + '/visits', visit, headers={'Authorization': f'Bearer {locked}'}, status=429)
    assert res.json['error'] == 'rate_limited'


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


# Bodies: the token first, then the size, then the depth -------------------------------------------------
class CountingInput:
    """A request body of ``size`` bytes made on demand, counting how many were read."""

    def __init__(self, size, fill=b' '):
        self.size = size
        self.fill = fill
        self.read_bytes = 0

    def read(self, n=-1):
        n = self.size - self.read_bytes if n is None or n < 0 else min(n, self.size - self.read_bytes)
        self.read_bytes += n
        return self.fill * n

    def readline(self, *args):
        return self.read(*args)


def huge_post(world, path, token=None, size=150 * 1024 * 1024, chunked=False):
    from webob import Request

    body = CountingInput(size)
    environ = {
        'REQUEST_METHOD': 'POST',
        'HTTP_HOST': 'example.com',
        'CONTENT_TYPE': 'application/json',
        'wsgi.input': body,
    }
    if chunked:
        environ.update({'HTTP_TRANSFER_ENCODING': 'chunked', 'wsgi.input_terminated': True})
    else:
        environ['CONTENT_LENGTH'] = str(size)
    if token:
        environ['HTTP_AUTHORIZATION'] = f'Bearer {token}'
    request = Request.blank(API + path, environ)
    if chunked:
        request.environ.pop('CONTENT_LENGTH', None)
    return request.get_response(world['app']), body


@pytest.mark.parametrize('path', ['/verify', '/visits', '/visits/undo'])
def test_a_huge_body_with_a_valid_token_is_413_without_being_read(world, path):
    res, body = huge_post(world, path, token=world['tokens'][0])
    assert res.status_int == 413
    assert res.json['error'] == 'too_large'
    assert body.read_bytes == 0
    assert res.headers['X-Content-Type-Options'] == 'nosniff'


@pytest.mark.parametrize('path', ['/verify', '/visits', '/visits/undo'])
def test_a_huge_chunked_body_is_413_after_reading_only_past_the_limit(world, path):
    from kaiku_registry.api import MAX_BODY

    res, body = huge_post(world, path, token=world['tokens'][0], chunked=True)
    assert res.status_int == 413
    assert body.read_bytes <= MAX_BODY + 1


@pytest.mark.parametrize('path', ['/verify', '/visits', '/visits/undo', '/statistics'])
def test_no_token_and_a_huge_body_is_401_without_reading(world, path):
    for token in (None, 'kk_not-a-token'):
        res, body = huge_post(world, path, token=token)
        assert res.status_int == 401
        assert res.json['error'] == 'unauthorized'
        assert res.headers['WWW-Authenticate'] == 'Bearer'
        assert body.read_bytes == 0


@pytest.mark.parametrize('path', ['/verify', '/visits', '/visits/undo'])
def test_deep_json_is_400_with_a_json_error(client, world, path):
    headers = {'Authorization': f'Bearer {world["tokens"][0]}', 'Content-Type': 'application/json'}
    deep = b'[' * 1500 + b']' * 1500
    res = client.post(API + path, deep, headers=headers, status=400)
    assert res.json['error'] == 'bad_request'
    assert 'deep' in res.json['message'] or 'syv' in res.json['message']
    nested_in_code = b'{"code": ' + b'[' * 20 + b']' * 20 + b'}'
    assert client.post(API + path, nested_in_code, headers=headers, status=400).json['error'] == 'bad_request'
    # The 50,000-deep array of the security test is refused for its size.
    res = client.post(API + path, b'[' * 50_000 + b']' * 50_000, headers=headers, status=413)
    assert res.json['error'] == 'too_large'


def test_brackets_inside_strings_do_not_count_as_depth(client, world):
    code = '[' * 50 + '{' * 50 + '\\"' + world['card_a']
    res = verify(client, world['tokens'][0], code)
    assert res.json['status'] == 'unknown'  # read as a code, not refused as too deep


# An issuer's search: another site's card answers as an unknown code ---------------------------------------
def card_reads(world):
    """The card ids of the registry's card reads in the audit log (the door's and the search's)."""
    from portal.audit import LOG_KEY

    conn = world['app'].registry._zodb_databases['audit'].open()
    try:
        log = conn.root().get(LOG_KEY)
        entries = [] if log is None else log.newest()
        return [str(e['detail'].get('card')) for e in entries if e['action'] == 'registry.card.read']
    finally:
        conn.close()


def search(app, code, status=200):
    form = app.get('/registry/cards').forms[2]
    form['code'] = code
    return form.submit(status=status)


def card_id(world, code):
    with edit_site(world['app']) as site:
        return str(site['registry'].card_by_code(code).id)


def answer(res):
    return ' '.join(res.html.select_one('main').get_text().split())


def test_another_site_s_card_answers_counts_and_audits_as_an_unknown_code(client, world):
    from kaiku_registry.codes import new_code

    issuer = user(world, 'issuer_a')
    unknown, other = search(issuer, new_code()), search(issuer, world['card_b'])
    assert other.status_int == unknown.status_int
    assert answer(other) == answer(unknown)
    assert card_id(world, world['card_b']) not in card_reads(world)
    # Each counts towards the user's limit alike: 18 more of the other site's codes reach it.
    for _ in range(18):
        search(issuer, world['card_b'])
    search(issuer, world['card_a'], status=429)
    # The card's own issuer finds it, and that read is recorded.
    own = user(world, 'issuer_b')
    assert answer(search(own, world['card_b'])) != answer(search(own, new_code()))
    assert card_id(world, world['card_b']) in card_reads(world)
