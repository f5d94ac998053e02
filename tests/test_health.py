"""``/healthz``: 200 while the database answers, 503 when it does not, never cached, no write."""

import webtest


def test_healthz_answers_ok(testapp):
    res = testapp.get('/healthz', status=200)
    assert res.text == 'ok\n'
    assert res.content_type == 'text/plain'
    assert 'no-store' in res.headers['Cache-Control']


def test_healthz_head(testapp):
    testapp.head('/healthz', status=200)


def test_healthz_refuses_post(testapp):
    res = testapp.post('/healthz', status=405)
    assert res.headers['Allow'] == 'GET, HEAD'


def test_healthz_writes_nothing(make_app):
    app = make_app(**{'portal.load_on_start': 'false'})
    db = app.registry._zodb_databases['']
    before = db.lastTransaction()
    webtest.TestApp(app).get('/healthz', status=200)
    assert db.lastTransaction() == before


def test_healthz_503_when_the_database_is_gone(make_app):
    app = make_app(**{'portal.load_on_start': 'false'})
    app.registry._zodb_databases[''].close()
    res = webtest.TestApp(app).get('/healthz', status=503)
    assert res.text == 'database unavailable\n'
    assert 'no-store' in res.headers['Cache-Control']
