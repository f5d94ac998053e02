"""The error path: conflicts are run again on every route, one that survives every attempt answers 503 with
``Retry-After`` (JSON on the API), and no error page fails, whatever the root and the context.

The application here includes this module (``pyramid.includes``): :func:`includeme` adds test-only routes
whose views raise a conflict a given number of times, in the view or at commit, and routes whose root is
not the site.
"""

import pytest
import webtest
from pyramid.response import Response
from ZODB.POSException import ConflictError, ReadConflictError

from portal.testing import edit_site

ATTEMPTS = 3
API = '/registry/api/v1'
#: How many more times the test views raise, and how many times they were called.
STATE = {'left': 0, 'calls': 0}


def _conflict_left():
    STATE['calls'] += 1
    if STATE['left'] > 0:
        STATE['left'] -= 1
        return True
    return False


def raise_in_view(request):
    if _conflict_left():
        raise ReadConflictError()
    return Response('ok')


class ConflictAtVote:
    """A data manager whose vote fails with a conflict while :data:`STATE` says so."""

    transaction_manager = None

    def sortKey(self):
        return 'test-conflict-at-vote'

    def abort(self, txn):
        pass

    def tpc_begin(self, txn):
        pass

    def commit(self, txn):
        pass

    def tpc_vote(self, txn):
        if _conflict_left():
            raise ConflictError()

    def tpc_finish(self, txn):
        pass

    def tpc_abort(self, txn):
        pass


def raise_at_commit(request):
    request.tm.get().join(ConflictAtVote())
    return Response('ok')


class Elsewhere:
    """A root that is not the site and knows nothing of it."""

    __parent__ = None
    __name__ = ''


def registry_root(request):
    from portal import root_factory

    return root_factory(request)['registry']


def lock_timeout(request):
    from relstorage.adapters.interfaces import UnableToAcquireCommitLockError

    STATE['calls'] += 1
    raise UnableToAcquireCommitLockError('commit lock timed out')


def fail(request):
    if request.params.get('conflict'):
        STATE['calls'] += 1
        raise ConflictError()
    raise RuntimeError('a view that fails')


def includeme(config):
    from pyramid.security import NO_PERMISSION_REQUIRED

    for name, view, factory in (
        ('in_view', raise_in_view, None),
        ('at_commit', raise_at_commit, None),
        ('lock_timeout', lock_timeout, None),
        ('elsewhere', fail, lambda request: Elsewhere()),
        ('in_registry', fail, registry_root),
    ):
        config.add_route(f'test_{name}', f'/__test__/{name}', factory=factory)
        config.add_view(
            view, route_name=f'test_{name}', permission=NO_PERMISSION_REQUIRED, require_csrf=False
        )


@pytest.fixture(scope='module')
def app(tmp_path_factory):
    from portal.testing import build_app, close_app

    app = build_app(
        str(tmp_path_factory.mktemp('conflicts')),
        **{
            'pyramid.includes': f'kaiku_registry {__name__}',
            'retry.attempts': str(ATTEMPTS),
            'portal.retry_backoff': '0',
        },
    )
    yield app
    close_app(app)


@pytest.fixture
def client(app):
    STATE.update(left=0, calls=0)
    return webtest.TestApp(app, extra_environ={'HTTP_HOST': 'example.com'})


@pytest.fixture(scope='module')
def token(app):
    with edit_site(app) as site:
        registry = site['registry']
        city = registry.add_partner('Kaupunki', 'municipality', 'Nokia', 'Pirkanmaa')
        return registry.new_token(registry.add_site(city, 'Uimahalli', 'venue'))


def assert_busy_page(res):
    assert res.status_int == 503
    assert int(res.headers['Retry-After']) > 0
    assert "default-src 'self'" in res.headers['Content-Security-Policy']
    assert res.headers['X-Content-Type-Options'] == 'nosniff'
    assert 'Traceback' not in res.text


@pytest.mark.parametrize('path', ['/__test__/in_view', '/__test__/at_commit'])
def test_a_conflict_is_run_again_until_it_passes(client, path):
    STATE['left'] = ATTEMPTS - 1
    assert client.get(path, status=200).text == 'ok'
    assert STATE['calls'] == ATTEMPTS


@pytest.mark.parametrize('path', ['/__test__/in_view', '/__test__/at_commit'])
def test_a_conflict_that_survives_every_attempt_is_a_503_page(client, path, english_interface):
    STATE['left'] = 1000
    res = client.get(path, status=503)
    assert_busy_page(res)
    assert STATE['calls'] == ATTEMPTS
    assert '<main id="main"' in res.text
    assert 'Nothing was saved' in res.text


def test_a_lock_timeout_is_a_503_at_once(client):
    """RelStorage's commit lock timeout is not retried (it waited long already) but is no 500 either."""
    pytest.importorskip('relstorage')
    assert_busy_page(client.get('/__test__/lock_timeout', status=503))
    assert STATE['calls'] == 1


@pytest.mark.parametrize('path', ['/__test__/elsewhere', '/__test__/in_registry'])
def test_error_pages_render_when_the_root_is_not_the_site(client, path):
    res = client.get(path, status=500)
    assert '<main id="main"' in res.text and 'Traceback' not in res.text
    assert 'Content-Security-Policy' in res.headers
    res = client.get(path, params={'conflict': '1'}, status=503)
    assert_busy_page(res)
    assert '<main id="main"' in res.text
    assert STATE['calls'] == ATTEMPTS


class FlakyTokens:
    """``CardRegistry.site_for_token`` raising a conflict while :data:`STATE` says so."""

    def __init__(self, original):
        self.original = original

    def __get__(self, registry, owner):
        def site_for_token(token):
            if _conflict_left():
                raise ReadConflictError()
            return self.original(registry, token)

        return site_for_token


@pytest.fixture
def flaky_tokens(monkeypatch):
    from kaiku_registry.models import CardRegistry

    monkeypatch.setattr(CardRegistry, 'site_for_token', FlakyTokens(CardRegistry.site_for_token))


def test_api_conflicts_are_run_again(client, token, flaky_tokens):
    STATE['left'] = ATTEMPTS - 1
    res = client.get(f'{API}/statistics', headers={'Authorization': f'Bearer {token}'}, status=200)
    assert res.json['site'] == 'Uimahalli'
    # every attempt met the conflict at the token check; the last one checked the token twice (the API's
    # tween, then the view)
    assert STATE['calls'] == ATTEMPTS + 1
    assert res.headers['Cache-Control'] == 'no-store'


def test_api_answers_are_not_stored(client, token):
    headers = {'Authorization': f'Bearer {token}'}
    res = client.post_json(f'{API}/verify', {'code': 'ABCD-EFGH-JKLM'}, headers=headers, status=200)
    assert res.json['status'] == 'unknown'  # the fast path's answer
    assert res.headers['Cache-Control'] == 'no-store'
    assert client.get(f'{API}/openapi.json').headers['Cache-Control'] == 'no-store'


@pytest.mark.parametrize(
    ('method', 'path', 'body'),
    [
        ('GET', '/statistics', None),
        ('POST', '/verify', {'code': 'ABCD-EFGH'}),
        ('POST', '/visits/undo', {'visit_id': 1}),
    ],
)
def test_api_conflict_that_survives_every_attempt_is_json_503(
    client, token, flaky_tokens, method, path, body
):
    STATE['left'] = 1000
    headers = {'Authorization': f'Bearer {token}'}
    if method == 'GET':
        res = client.get(API + path, headers=headers, status=503)
    else:
        res = client.post_json(API + path, body, headers=headers, status=503)
    assert_busy_page(res)
    assert res.content_type == 'application/json'
    assert res.json['error'] == 'busy' and res.json['message']
    assert res.headers['Cache-Control'] == 'no-store'


def test_an_api_error_is_json_with_headers_not_a_failing_page(client, token, monkeypatch):
    """The undo's error page crashed on the registry root ('Registry' object has no attribute 'items')."""
    from kaiku_registry.models import CardRegistry

    def broken(self, token):
        raise RuntimeError('broken')

    monkeypatch.setattr(CardRegistry, 'site_for_token', broken)
    res = client.post_json(
        f'{API}/visits/undo', {'visit_id': 1}, headers={'Authorization': f'Bearer {token}'}, status=500
    )
    assert res.json['error'] == 'server_error'
    assert 'Content-Security-Policy' in res.headers and res.headers['Cache-Control'] == 'no-store'


@pytest.mark.parametrize('path', ['/visits', '/nowhere'])
def test_api_http_errors_are_json(client, path):
    # the token is checked before anything else on the API's routes (401), then the method (405)
    res = client.get(API + path, status=(401, 404, 405))
    assert res.content_type == 'application/json'
    assert res.json['error'] in ('not_found', 'bad_request', 'unauthorized')
    assert 'Content-Security-Policy' in res.headers and res.headers['Cache-Control'] == 'no-store'


def test_a_deeply_nested_body_gets_an_answer_with_the_headers(client, token):
    """A 50,000-deep JSON array made waitress answer a 500 of its own, without any security header."""
    res = client.post(
        f'{API}/verify',
        b'[' * 50_000,
        headers={'Authorization': f'Bearer {token}', 'Content-Type': 'application/json'},
        expect_errors=True,
    )
    assert res.content_type == 'application/json' and res.json['error']
    assert 'Content-Security-Policy' in res.headers and res.headers['Cache-Control'] == 'no-store'


def test_whatever_escapes_is_a_plain_500_with_the_headers(app, caplog):
    from portal.security.tweens import guarded_execution_policy

    def broken_policy(environ, router):
        raise RuntimeError('escaped')

    class Router:
        registry = app.registry

    policy = guarded_execution_policy(broken_policy)
    response = policy({'REQUEST_METHOD': 'GET', 'PATH_INFO': '/x'}, Router())
    assert response.status_int == 500
    assert 'Content-Security-Policy' in response.headers
    assert response.cache_control.no_store
    assert response.text.strip()
    assert len([r for r in caplog.records if r.exc_info]) == 1


def test_an_error_view_that_fails_gives_the_plain_500_with_headers(client, monkeypatch):
    """The top tween answers when the error page itself cannot be made."""

    def no_page(*args, **kw):
        raise RuntimeError('no page')

    monkeypatch.setattr('portal.views.errors._render', no_page)
    res = client.get('/__test__/elsewhere', status=500)
    assert res.content_type == 'text/plain'
    assert 'Content-Security-Policy' in res.headers
