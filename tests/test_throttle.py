"""The login throttle: kept in the database, per (login, address) with higher ceilings, never evicting a
lock in force, shared by processes on one ZEO server, and written only by failures."""

import pytest
import webtest

from portal.testing import add_user, log_in

pytestmark = pytest.mark.usefixtures('english_interface')

PASSWORD = 'correct horse battery staple'
WRONG = 'wrong password here'


def _browser(app, addr):
    return webtest.TestApp(app, extra_environ={'HTTP_HOST': 'example.com', 'REMOTE_ADDR': addr})


@pytest.fixture
def site(make_app):
    """An empty site with an administrator and an editor, and 2 failures allowed per login and address
    (so the ceilings, ten times that, are 20)."""
    app = make_app(**{'portal.load_on_start': 'false', 'portal.login_max_failures': '2'})
    add_user(app, 'admin', PASSWORD, roles=['Administrator'])
    add_user(app, 'editor', PASSWORD, roles=['Editor'])
    return app


def _fail(browser, login, times):
    for _ in range(times):
        log_in(browser, login, WRONG, status=400)


def test_failures_from_one_address_lock_only_that_address_at_that_login(site):
    attacker = _browser(site, '203.0.113.5')
    _fail(attacker, 'admin', 2)
    assert 'Too many failed logins' in log_in(attacker, 'admin', PASSWORD, status=429).text
    # The administrator at the office is not locked out by someone else's failures ...
    log_in(_browser(site, '198.51.100.20'), 'admin', PASSWORD, status=303)
    # ... nor is a colleague behind the same address who logs in as someone else.
    log_in(attacker, 'editor', PASSWORD, status=303)


def test_a_distributed_guess_at_one_login_meets_the_ceiling(site):
    for n in range(10):
        _fail(_browser(site, f'10.0.0.{n + 1}'), 'admin', 2)
    res = log_in(_browser(site, '10.0.1.1'), 'admin', PASSWORD, status=429)
    assert int(res.headers['Retry-After']) > 0
    log_in(_browser(site, '10.0.1.1'), 'editor', PASSWORD, status=303)


def test_one_address_spraying_many_logins_meets_the_ceiling(site):
    sprayer = _browser(site, '203.0.113.7')
    for n in range(20):
        log_in(sprayer, f'user{n}', WRONG, status=400)
    log_in(sprayer, 'editor', PASSWORD, status=429)
    log_in(_browser(site, '203.0.113.8'), 'editor', PASSWORD, status=303)


def test_an_ipv6_host_counts_as_its_64_network(site):
    _fail(_browser(site, '2001:db8:1:2::1'), 'admin', 2)
    log_in(_browser(site, '2001:db8:1:2:ffff::9'), 'admin', PASSWORD, status=429)
    log_in(_browser(site, '2001:db8:1:3::1'), 'admin', PASSWORD, status=303)


def test_a_lock_in_force_is_never_evicted_by_junk_failures(app):
    """The old throttle dropped its oldest keys past 100,000: junk failures lifted ``login:admin``."""
    from portal.security import Throttle

    throttle = Throttle(app.registry, 'test-eviction', 600)
    throttle.clear()
    for _ in range(10):
        throttle.failed([('login:admin', 10)])
    assert throttle.retry_after([('login:admin', 10)]) > 0
    throttle.failed([(f'login:junk{n}', 10) for n in range(100_001)])
    for _ in range(30):
        throttle.failed([('login:more-junk', 10)])  # each write sweeps a few entries
    assert throttle.retry_after([('login:admin', 10)]) > 0
    assert throttle.size() >= 100_002


def test_expired_entries_are_swept_and_locked_ones_kept(app):
    from portal.security import Throttle

    now = [1000.0]
    throttle = Throttle(app.registry, 'test-sweep', 60, clock=lambda: now[0])
    throttle.clear()
    throttle.failed([(f'old{n}', 3) for n in range(50)])
    for _ in range(3):
        throttle.failed([('locked', 3)])
    now[0] += 61
    for _ in range(3):
        throttle.failed([('locked-now', 3)])
        throttle.failed([('other', 3)])
    assert throttle.size() == 2  # the 50 expired entries are gone, and 'locked', whose lock has passed
    assert throttle.retry_after([('locked-now', 3)]) > 0


def test_a_successful_login_writes_nothing_to_the_throttle_unless_it_clears_a_failure(make_app, tmp_path):
    app = make_app(**{'portal.load_on_start': 'false', 'zodbconn.uri.throttle': f'file://{tmp_path}/T.fs'})
    add_user(app, 'admin', PASSWORD, roles=['Administrator'])
    db = app.registry._zodb_databases['throttle']
    before = db.lastTransaction()
    browser = _browser(app, '198.51.100.1')
    log_in(browser, 'admin', PASSWORD, status=303)
    assert db.lastTransaction() == before
    log_in(_browser(app, '198.51.100.2'), 'admin', WRONG, status=400)
    after_failure = db.lastTransaction()
    assert after_failure != before
    log_in(_browser(app, '198.51.100.2'), 'admin', PASSWORD, status=303)  # clears that address's failure
    assert db.lastTransaction() != after_failure
    assert app.registry.login_throttle.size() == 2  # the login's and the address's ceilings remain


def test_the_counts_are_shared_by_processes_on_one_zeo_server(make_app, tmp_path):
    """Two applications on one ZEO server (two processes' worth of storage clients) share the counts,
    so each process does not give its own ten tries."""
    import servers

    zeo, port = servers.start_zeo(str(tmp_path / 'zeo'))
    apps = []
    try:
        for n in range(2):
            uri = servers.zeo_uri(port, tmp_path / f'blobs{n}')
            settings = {'portal.load_on_start': 'false', 'portal.login_max_failures': '2'}
            apps.append(make_app(**settings, **{'zodbconn.uri': uri}))
        first, second = apps
        add_user(first, 'admin', PASSWORD, roles=['Administrator'])
        _fail(_browser(first, '203.0.113.5'), 'admin', 1)
        _fail(_browser(second, '203.0.113.5'), 'admin', 1)
        log_in(_browser(first, '203.0.113.5'), 'admin', PASSWORD, status=429)
        log_in(_browser(second, '203.0.113.5'), 'admin', PASSWORD, status=429)
    finally:
        for app in apps:
            for db in app.registry._zodb_databases.values():
                db.close()
        servers.stop(zeo)
