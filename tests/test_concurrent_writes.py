"""Writes that commute: two requests that change the same records at the same moment both succeed.

Each test holds two real requests (WebTest, committing, on one FileStorage) at a barrier after their
model call, so both change what they read from the same state before either commits; the app allows one
attempt only (``retry.attempts = 1``), so a conflict that ZODB cannot resolve shows as an error answer
instead of being hidden by a retry.
"""

import datetime
import threading

import pytest
import webtest

from portal.testing import TEST_PASSWORD, add_user, edit_site, form_with

API = '/registry/api/v1'


@pytest.fixture
def one_attempt(make_app):
    return make_app(**{'retry.attempts': '1'})


def at_once(monkeypatch, cls, name, requests):
    """Run ``requests`` (callables) in threads; each waits after ``cls.name`` until all have called it."""
    barrier = threading.Barrier(len(requests), timeout=10)
    original = getattr(cls, name)

    def waiting(*args, **kw):
        result = original(*args, **kw)
        barrier.wait()
        return result

    monkeypatch.setattr(cls, name, waiting)
    answers = [None] * len(requests)

    def run(i):
        try:
            answers[i] = requests[i]()
        except Exception as e:  # an error answer: kept for the assertion
            answers[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return answers


def _registry_world(app, cards=2):
    from kaiku_registry import today

    with edit_site(app) as site:
        registry = site['registry']
        city = registry.add_partner('Kaupunki', 'municipality', 'Nokia', 'Pirkanmaa')
        issuer = registry.add_site(city, 'Sosiaalitoimi', 'issuer')
        venue = registry.add_site(city, 'Uimahalli', 'venue')
        codes = [registry.issue_card(issuer, today(), 1980, '37100', 2).code for _ in range(cards)]
        return registry.new_token(venue), codes


def _post_visit(app, token, code):
    client = webtest.TestApp(app, extra_environ={'HTTP_HOST': 'example.com'})
    headers = {'Authorization': f'Bearer {token}'}
    return lambda: client.post_json(API + '/visits', {'code': code, 'sector': 'culture'}, headers=headers)


def _registry_of(app):
    import transaction

    conn = app.registry._zodb_databases[''].open(transaction_manager=transaction.TransactionManager())
    return conn, conn.root()['site']['registry']


def test_two_visits_of_different_cards_at_once_both_count(one_attempt, monkeypatch):
    """The site's first visit of the month makes its tallies (two such at once conflict, once a month
    and site, and are run again); after it, visits of different cards change only what merges."""
    from kaiku_registry.models import CardRegistry

    token, codes = _registry_world(one_attempt, cards=3)
    assert _post_visit(one_attempt, token, codes[0])().status_int == 201
    requests = [_post_visit(one_attempt, token, code) for code in codes[1:]]
    answers = at_once(monkeypatch, CardRegistry, 'record_visit', requests)
    assert [getattr(answer, 'status_int', answer) for answer in answers] == [201, 201]
    conn, registry = _registry_of(one_attempt)
    try:
        assert len(registry.visits) == 3 and registry.visit_count() == 3
        assert len(registry.visits_by_site_time) == 3
        assert registry.totals('adult_uses') == 3 and registry.totals('activated') == 3
    finally:
        conn.close()


def test_two_visits_of_one_used_card_at_once_both_count(one_attempt, monkeypatch):
    from kaiku_registry.models import CardRegistry

    token, (code, _other) = _registry_world(one_attempt)
    webtest_answer = _post_visit(one_attempt, token, code)()  # the card's first use, alone
    assert webtest_answer.status_int == 201
    requests = [_post_visit(one_attempt, token, code) for _ in range(2)]
    answers = at_once(monkeypatch, CardRegistry, 'record_visit', requests)
    assert [getattr(answer, 'status_int', answer) for answer in answers] == [201, 201]
    conn, registry = _registry_of(one_attempt)
    try:
        assert registry.card_by_code(code).uses == 3
        assert registry.totals('adult_uses') == 3 and registry.totals('activated') == 1
    finally:
        conn.close()


def test_first_uses_of_one_card_at_once_are_not_both_counted(one_attempt, monkeypatch):
    """The first use also counts the card as activated: those two may not both commit as they are."""
    from kaiku_registry.models import CardRegistry

    token, (code, _other) = _registry_world(one_attempt)
    requests = [_post_visit(one_attempt, token, code) for _ in range(2)]
    at_once(monkeypatch, CardRegistry, 'record_visit', requests)
    conn, registry = _registry_of(one_attempt)
    try:
        assert registry.card_by_code(code).uses == 1
        assert registry.totals('activated') == 1 and registry.totals('adult_uses') == 1
    finally:
        conn.close()


def test_logins_of_one_user_at_once_all_succeed(one_attempt, monkeypatch):
    from portal.security.principals import User

    add_user(one_attempt, 'ovi', TEST_PASSWORD)
    requests = []
    for i in range(4):
        client = webtest.TestApp(
            one_attempt, extra_environ={'HTTP_HOST': 'example.com', 'REMOTE_ADDR': f'198.51.100.{i + 1}'}
        )
        form = form_with(client.get('/login'), 'login')
        form['login'] = 'ovi'
        form['password'] = TEST_PASSWORD
        requests.append(form.submit)
    answers = at_once(monkeypatch, User, 'start_session', requests)
    assert [getattr(answer, 'status_int', answer) for answer in answers] == [303] * 4
    conn, _registry = _registry_of(one_attempt)
    try:
        assert len(conn.root()['principals'].get_user('ovi').sessions) == 4
    finally:
        conn.close()


def test_evolve_step_moves_sessions_into_a_btree():
    from BTrees.OOBTree import OOBTree
    from persistent.mapping import PersistentMapping

    from portal.evolve import step0005_session_trees
    from portal.security.principals import Principals

    principals = Principals()
    user = principals.add_user('vanha')
    user.sessions = PersistentMapping({'sid-1': 1.0, 'sid-2': 2.0})
    step0005_session_trees.evolve({'principals': principals}, None)
    assert isinstance(user.sessions, OOBTree)
    assert dict(user.sessions) == {'sid-1': 1.0, 'sid-2': 2.0}
    assert user.has_session('sid-2')


def test_deferred_audit_writes_each_entry_once_after_a_failed_attempt(tmp_path, monkeypatch):
    """The batch writer keeps plain values and makes its entries anew for each attempt."""
    from ZODB import DB
    from ZODB.FileStorage import FileStorage
    from ZODB.POSException import ConflictError

    from portal.audit import LOG_KEY, AuditLog, DeferredAudit, Entry

    db = DB(FileStorage(str(tmp_path / 'Audit.fs')))
    try:
        deferred = DeferredAudit(db)
        now = datetime.datetime.now(datetime.UTC)
        plain = {'time': now, 'actor': 'api:1', 'action': 'read', 'path': '', 'address': ''}
        deferred.pending.extend({**plain, 'detail': {'card': str(n)}} for n in range(3))
        original, calls = AuditLog.add, []

        def add_failing_once(self, entry):
            calls.append(entry)
            if len(calls) == 2:
                raise ConflictError('the first attempt conflicts half way')
            return original(self, entry)

        monkeypatch.setattr(AuditLog, 'add', add_failing_once)
        assert deferred.flush() == 3
        conn = db.open()
        entries = list(conn.root()[LOG_KEY].entries.values())
        assert sorted(entry['detail']['card'] for entry in entries) == ['0', '1', '2']
        assert all(type(entry) is Entry for entry in entries)
        assert len(conn.root()[LOG_KEY]) == 3
        conn.close()
    finally:
        db.close()


@pytest.mark.parametrize(('tree_class', 'conflicts'), [('LOBTree', True), ('VisitTree', False)])
def test_a_bucket_split_conflicts_only_with_writes_near_it(tmp_path, tree_class, conflicts):
    """Adding a key marks every inner node on its way as read; a split changes its parent node.  In a
    tree of the registry's visits, the parent is one of many small nodes, so a split at one end does not
    fail a visit added at the other (in a plain LOBTree it is the root that every writer read)."""
    import random

    import transaction
    from BTrees.LOBTree import LOBTree
    from ZODB import DB
    from ZODB.FileStorage import FileStorage
    from ZODB.POSException import ConflictError

    from kaiku_registry.models import VisitTree

    cls = {'LOBTree': LOBTree, 'VisitTree': VisitTree}[tree_class]
    rng = random.Random(20)
    db = DB(FileStorage(str(tmp_path / 'Data.fs')))
    try:
        with db.transaction() as conn:
            tree = conn.root()['visits'] = cls()
            for _ in range(5000):
                tree[rng.randrange(1, 2**60)] = 'visit'
        first, second = transaction.TransactionManager(), transaction.TransactionManager()
        splitting, elsewhere = db.open(transaction_manager=first), db.open(transaction_manager=second)
        first.begin()
        second.begin()
        low = splitting.root()['visits'].minKey()
        for key in range(low + 1, low + 41):  # splits the first bucket
            splitting.root()['visits'][key] = 'visit'
        elsewhere.root()['visits'][2**60 + 1] = 'visit'  # a key after every other
        first.commit()
        if conflicts:
            with pytest.raises(ConflictError):
                second.commit()
        else:
            second.commit()
    finally:
        db.close()
