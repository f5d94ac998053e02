"""The registry's JSON API: every endpoint's success and error answers, checked against its OpenAPI
document."""

import datetime

import jsonschema
import pytest
import webtest

from portal.testing import edit_site

API = '/registry/api/v1'


@pytest.fixture(scope='module')
def world(tmp_path_factory):
    """A site with an issuer, two venues, cards and tokens, committed."""
    from kaiku_registry import today
    from portal.testing import build_app, close_app

    app = build_app(str(tmp_path_factory.mktemp('api')))
    with edit_site(app) as site:
        registry = site['registry']
        city = registry.add_partner('Kaupunki', 'municipality', 'Nokia', 'Pirkanmaa')
        issuer = registry.add_site(city, 'Sosiaalitoimi', 'issuer')
        venue = registry.add_site(city, 'Uimahalli', 'venue')
        other = registry.add_site(city, 'Museo', 'venue')
        card = registry.issue_card(issuer, today(), 1980, '37100', 2)
        expired = registry.issue_card(issuer, today() - datetime.timedelta(days=400), 1980, '37100', 0)
        closed = registry.issue_card(issuer, today(), 1985, '37100', 0)
        registry.close_card(closed, 'lost')
        community = registry.issue_card(issuer, today(), None, None, 0, community=True)
        world = {
            'app': app,
            'token': registry.new_token(venue),
            'other_token': registry.new_token(other),
            'issuer_token': registry.new_token(issuer),
            'card': card.code,
            'expired': expired.code,
            'closed': closed.code,
            'community': community.code,
        }
    yield world
    close_app(app)


@pytest.fixture
def client(world):
    world['app'].registry.lookup_throttle.clear()
    return webtest.TestApp(world['app'], extra_environ={'HTTP_HOST': 'example.com'})


@pytest.fixture(scope='module')
def spec(world):
    res = webtest.TestApp(world['app']).get(f'{API}/openapi.json', status=200)
    return res.json


def check(spec, res, path, method):
    """Validate a response body against the schema the document gives for its status."""
    responses = spec['paths'][path][method]['responses']
    assert str(res.status_int) in responses, f'{res.status_int} is not documented for {method} {path}'
    ref = responses[str(res.status_int)]['content']['application/json']['schema']['$ref']
    schema = {'$ref': ref, 'components': spec['components']}
    jsonschema.validate(res.json, schema)
    return res.json


def post(client, world, path, body, status, token='token'):
    headers = {'Authorization': f'Bearer {world[token]}'} if token else {}
    return client.post_json(API + path, body, headers=headers, status=status)


def test_openapi_document_is_valid_openapi_31(spec):
    assert spec['openapi'].startswith('3.1')
    for path in ('/verify', '/visits', '/visits/undo', '/statistics'):
        assert path in spec['paths']
    jsonschema.Draft202012Validator.check_schema(spec['components']['schemas']['Verification'])


@pytest.mark.parametrize(
    ('card', 'status', 'children'), [('card', 'valid', 2), ('expired', 'expired', 0), ('closed', 'closed', 0)]
)
def test_verify_answers_each_status(client, world, spec, card, status, children):
    code = world[card].lower()
    body = check(
        spec, post(client, world, '/verify', {'code': f'{code[:4]}-{code[4:]}'}, 200), '/verify', 'post'
    )
    assert (body['status'], body['children_allowed']) == (status, children)


def test_verify_says_why_a_closed_card_was_closed_and_keeps_the_old_fields(client, world, spec):
    """A replaced card is told apart from a lost one (the holder has a new card), in a field of its own:
    the status stays ``closed`` for clients written before the field."""
    from kaiku_registry import today

    with edit_site(world['app']) as site:
        registry = site['registry']
        issuer = next(s for s in registry.sites.values() if s.kind == 'issuer')
        old = registry.issue_card(issuer, today(), 1980, '37100', 1)
        new = registry.replace_card(old, issuer, today())
        old_code, new_code = old.code, new.code
    answers = {
        name: check(spec, post(client, world, '/verify', {'code': code}, 200), '/verify', 'post')
        for name, code in [('old', old_code), ('new', new_code), ('lost', world['closed'])]
    }
    answers['unknown'] = post(client, world, '/verify', {'code': '23456789AB'}, 200).json
    assert {name: (a['status'], a['closed_reason']) for name, a in answers.items()} == {
        'old': ('closed', 'replaced'),
        'new': ('valid', None),
        'lost': ('closed', 'lost'),
        'unknown': ('unknown', None),
    }
    assert set(answers['old']) >= {'status', 'children_allowed', 'valid_until', 'community'}
    documented = spec['components']['schemas']['Verification']['properties']['closed_reason']
    assert documented['enum'] == ['lost', 'returned', 'replaced', None]


def test_verify_unknown_and_malformed(client, world, spec):
    body = check(spec, post(client, world, '/verify', {'code': '23456789AB'}, 200), '/verify', 'post')
    assert body['status'] == 'unknown'
    for bad in ({}, {'code': ''}, {'code': 'x' * 500}, ['list'], 'text'):
        res = post(client, world, '/verify', bad, 400)
        assert check(spec, res, '/verify', 'post')['error'] == 'bad_request'
    res = client.post(
        f'{API}/verify',
        b'{not json',
        headers={'Authorization': f'Bearer {world["token"]}', 'Content-Type': 'application/json'},
        status=400,
    )
    assert check(spec, res, '/verify', 'post')['error'] == 'bad_request'


def test_no_or_bad_token_is_401(client, world, spec):
    res = post(client, world, '/verify', {'code': world['card']}, 401, token=None)
    assert check(spec, res, '/verify', 'post')['error'] == 'unauthorized'
    assert res.headers['WWW-Authenticate'] == 'Bearer'
    res = client.post_json(
        f'{API}/verify', {'code': world['card']}, headers={'Authorization': 'Bearer kk_nope'}, status=401
    )
    check(spec, res, '/verify', 'post')
    check(spec, client.get(f'{API}/statistics', status=401), '/statistics', 'get')


def test_unknown_codes_are_rate_limited_per_site(client, world, spec):
    for _ in range(20):
        post(client, world, '/verify', {'code': '23456789AB'}, 200)
    res = post(client, world, '/verify', {'code': world['card']}, 429)
    assert check(spec, res, '/verify', 'post')['error'] == 'rate_limited'
    assert int(res.headers['Retry-After']) > 0
    body = post(client, world, '/verify', {'code': world['card']}, 200, token='other_token').json
    assert body['status'] == 'valid'


def test_the_fast_lane_answers_ordinary_verifications_as_the_view_does(client, world, spec, monkeypatch):
    """An ordinary verification is answered by the tween, without the view's body parsing; its answer is
    the view's own."""
    from pyramid.testing import DummyRequest

    from kaiku_registry import api

    calls = {'verification_json': 0, 'json_body': 0}
    for name in calls:
        original = getattr(api, name)

        def counted(*args, _name=name, _original=original):
            calls[_name] += 1
            return _original(*args)

        monkeypatch.setattr(api, name, counted)
    headers = {'Authorization': f'Bearer {world["token"]}'}
    for name in ('card', 'expired', 'closed'):
        fast = check(spec, post(client, world, '/verify', {'code': world[name]}, 200), '/verify', 'post')
        with edit_site(world['app']) as site:
            request = DummyRequest(headers=headers, json_body={'code': world[name]})
            request.registry = world['app'].registry
            request.context = site['registry']
            assert api.verify(site['registry'], request) == fast
    assert calls == {'verification_json': 6, 'json_body': 3}  # the view parsed the body only when called
    # anything out of the ordinary goes the ordinary way: a number is not a code (the document says text)
    body = check(spec, post(client, world, '/verify', {'code': 23456789}, 400), '/verify', 'post')
    assert body['error'] == 'bad_request'
    assert calls['json_body'] == 4


def test_the_fast_lane_sees_what_other_transactions_commit(client, world):
    from kaiku_registry import today

    with edit_site(world['app']) as site:
        registry = site['registry']
        issuer = next(s for s in registry.sites.values() if s.kind == 'issuer')
        code = registry.issue_card(issuer, today(), 1980, '37100', 1).code
    for _ in range(3):  # through the connections the fast lane keeps
        assert post(client, world, '/verify', {'code': code}, 200).json['status'] == 'valid'
    with edit_site(world['app']) as site:
        registry = site['registry']
        registry.close_card(registry.card_by_code(code), 'lost')
    for _ in range(3):
        assert post(client, world, '/verify', {'code': code}, 200).json['status'] == 'closed'


def test_a_failed_fast_read_is_answered_the_ordinary_way(client, world, spec, monkeypatch):
    from kaiku_registry import api

    original, calls = api.verification_json, []

    def flaky(*args):
        calls.append(args)
        if len(calls) == 1:
            raise RuntimeError('the storage server went away')
        return original(*args)

    monkeypatch.setattr(api, 'verification_json', flaky)
    body = check(spec, post(client, world, '/verify', {'code': world['card']}, 200), '/verify', 'post')
    assert body['status'] == 'valid'
    assert len(calls) == 2  # the fast lane's read failed, the view answered


def test_read_connections_are_kept_and_a_failed_one_is_closed(world):
    from kaiku_registry.api import ReadConnections

    connections = ReadConnections(world['app'].registry._zodb_databases[''], keep=1)
    with connections.reading() as first, connections.reading() as second:
        assert first is not second
    assert connections.idle == [second]  # the first one back is kept, only one
    assert first.opened is None
    with connections.reading() as again:
        assert again is second
    with pytest.raises(KeyError), connections.reading() as failed:
        raise KeyError('boom')
    assert failed is second and failed.opened is None and connections.idle == []


def test_record_and_undo_a_visit(client, world, spec):
    res = post(client, world, '/visits', {'code': world['card'], 'sector': 'sport', 'children': 2}, 201)
    visit = check(spec, res, '/visits', 'post')
    assert (visit['adults'], visit['children'], visit['undone']) == (1, 2, False)
    res = post(client, world, '/visits/undo', {'visit_id': visit['visit_id']}, 404, token='other_token')
    assert check(spec, res, '/visits/undo', 'post')['error'] == 'not_found'
    res = post(client, world, '/visits/undo', {'visit_id': visit['visit_id']}, 200)
    assert check(spec, res, '/visits/undo', 'post')['undone'] is True
    res = post(client, world, '/visits/undo', {'visit_id': visit['visit_id']}, 409)
    assert check(spec, res, '/visits/undo', 'post')['error'] == 'undone'
    for bad in ({}, {'visit_id': 'abc'}, {'visit_id': '-1'}, []):
        check(spec, post(client, world, '/visits/undo', bad, 400), '/visits/undo', 'post')


@pytest.mark.parametrize(
    ('body', 'status', 'error'),
    [
        ({'code': 'closed', 'sector': 'culture'}, 409, 'closed'),
        ({'code': 'expired', 'sector': 'culture'}, 409, 'expired'),
        ({'code': 'card', 'sector': 'culture', 'children': 3}, 409, 'too_many_children'),
        (
            {'code': 'card', 'sector': 'education', 'children': 1, 'course': True},
            409,
            'no_children_on_courses',
        ),
        ({'code': 'card', 'sector': 'cooking'}, 400, 'bad_request'),
        ({'code': 'card', 'sector': 'sport', 'event': 'Hetu 131052-308T'}, 400, 'bad_request'),
        ({'code': 'card', 'sector': 'sport', 'children': 'two'}, 400, 'bad_request'),
        ({'code': '23456789AB', 'sector': 'sport'}, 409, 'unknown'),
        ({'code': 'community', 'sector': 'culture'}, 400, 'bad_group'),
        ({'code': 'community', 'sector': 'culture', 'group': 41}, 400, 'bad_request'),
        ({'code': 'card', 'sector': 'culture', 'group': 3}, 400, 'not_community'),
    ],
)
def test_visit_rules_answer_with_stable_codes(client, world, spec, body, status, error):
    body = dict(body, code=world.get(body['code'], body['code']))
    res = post(client, world, '/visits', body, status)
    assert check(spec, res, '/visits', 'post')['error'] == error


def test_a_community_card_records_its_group(client, world, spec):
    res = post(client, world, '/visits', {'code': world['community'], 'sector': 'culture', 'group': 9}, 201)
    visit = check(spec, res, '/visits', 'post')
    assert (visit['adults'], visit['children'], visit['group']) == (1, 0, 9)


def test_issuer_token_cannot_record_visits(client, world, spec):
    res = post(
        client, world, '/visits', {'code': world['card'], 'sector': 'sport'}, 409, token='issuer_token'
    )
    assert check(spec, res, '/visits', 'post')['error'] == 'not_venue'


def test_statistics_of_the_site(client, world, spec):
    post(client, world, '/visits', {'code': world['card'], 'sector': 'culture', 'children': 1}, 201)
    res = client.get(f'{API}/statistics', headers={'Authorization': f'Bearer {world["token"]}'}, status=200)
    body = check(spec, res, '/statistics', 'get')
    assert body['site'] == 'Uimahalli'
    assert sum(month['adult_uses'].get('culture', 0) for month in body['months']) >= 1


def test_codes_never_go_in_urls(spec):
    assert not any('{' in path for path in spec['paths'])
    assert all(set(ops) <= {'post'} for path, ops in spec['paths'].items() if path != '/statistics')


def _audit_entries(app):
    from portal.audit import LOG_KEY, deferred_audit

    deferred_audit(app.registry).flush()
    conn = app.registry._zodb_databases['audit'].open()
    try:
        log = conn.root().get(LOG_KEY)
        return list(log.entries.values()) if log is not None else []
    finally:
        conn.close()


def test_verify_writes_the_card_read_to_the_audit_log_by_internal_id_only(client, world):
    """A ticketing system's check reads a card as the door does: audited by internal id, never the code."""
    before = [e for e in _audit_entries(world['app']) if e['detail'].get('why') == 'api-verify']
    post(client, world, '/verify', {'code': world['card']}, 200)
    post(client, world, '/verify', {'code': world['expired']}, 200)
    post(client, world, '/verify', {'code': '23456789AB'}, 200)  # unknown: no card was read
    reads = [e for e in _audit_entries(world['app']) if e['detail'].get('why') == 'api-verify']
    new = reads[len(before) :]
    assert len(new) == 2
    assert {e['action'] for e in new} == {'registry.card.read'}
    with edit_site(world['app']) as site:
        registry = site['registry']
        ids = {str(registry.card_by_code(world[name]).id) for name in ('card', 'expired')}
        venue = registry.site_for_token(world['token'])
        assert {e['detail']['card'] for e in new} == ids
        assert {e['actor'] for e in new} == {f'api:{venue.id}'}
    for entry in new:
        assert world['card'] not in repr(entry) and world['expired'] not in repr(entry)


def test_deferred_audit_keeps_entries_when_a_write_fails():
    """Entries whose batch could not be written stay queued and go in with the next batch."""
    import ZODB

    from portal.audit import LOG_KEY, DeferredAudit

    db = ZODB.DB(None)
    deferred = DeferredAudit(db, interval=3600)
    deferred.thread = 'not started in this test'
    deferred.record('registry.card.read', 'api:1', '10.0.0.1', {'card': 7, 'token': 'secret'})
    real_open, calls = db.open, []

    def failing_open(**kw):
        calls.append(kw)
        raise OSError('storage unreachable')

    db.open = failing_open
    with pytest.raises(OSError):
        deferred.flush()
    assert len(deferred.pending) == 1
    db.open = real_open
    deferred.record('registry.card.read', 'api:1', '10.0.0.1', {'card': 8})
    assert deferred.flush() == 2 and deferred.pending == []
    conn = db.open()
    entries = list(conn.root()[LOG_KEY].entries.values())
    assert [e['detail']['card'] for e in entries] == ['7', '8']
    assert all('token' not in e['detail'] for e in entries), 'secret-named details are dropped'
    conn.close()
    db.close()


def test_deferred_audit_thread_writes_by_itself_and_stops_when_the_database_closes():
    import time

    import ZODB

    from portal.audit import LOG_KEY, DeferredAudit

    db = ZODB.DB(None)
    deferred = DeferredAudit(db, interval=0.01)
    deferred.record('registry.card.read', 'api:1', '', {'card': 1})
    for _ in range(500):
        if not deferred.pending:
            break
        time.sleep(0.01)
    conn = db.open()
    assert len(conn.root()[LOG_KEY]) == 1, 'the thread wrote the entry without a flush'
    conn.close()
    db.close()
    deferred.record('registry.card.read', 'api:1', '', {'card': 2})
    deferred.thread.join(timeout=5)
    assert not deferred.thread.is_alive(), 'the thread ends once its database is closed'
