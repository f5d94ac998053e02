"""The accessibility feedback form: anyone sends, the message is kept in ZODB, administrators see its age."""

import datetime

import pytest

from portal.testing import TEST_PASSWORD, add_user, browser, form_with

pytestmark = pytest.mark.usefixtures('english_interface')


PASSWORD = TEST_PASSWORD
FORM = '/@@accessibility-feedback'


@pytest.fixture
def fresh_app(make_app):
    app = make_app(**{'portal.load_on_start': 'false'})
    add_user(app, 'admin', PASSWORD, roles=['Administrator'])
    add_user(app, 'editor', PASSWORD, roles=['Editor'])
    return app


client = browser


def stored(app):
    """The messages in the feedback box, newest first, read straight from the database."""
    conn = app.registry._zodb_databases[''].open()
    try:
        box = conn.root().get('feedback')
        return None if box is None else [(m.name, m.email, m.message) for m in box.newest()]
    finally:
        conn.close()


def audit_actions(app):
    conn = app.registry._zodb_databases['audit'].open()
    try:
        log = conn.root().get('audit_log')
        return [] if log is None else [e for e in log.newest() if e['action'].startswith('feedback.')]
    finally:
        conn.close()


def send(browser, status=303, **fields):
    form = form_with(browser.get(FORM), 'message')
    for name, value in fields.items():
        form[name] = value
    return form.submit(status=status)


def _makeBox():
    from portal.feedback import FeedbackBox

    return FeedbackBox()


def test_the_statement_links_to_the_form(testapp):
    page = testapp.get('/saavutettavuusseloste/')
    assert page.html.select_one(f'main a[href$="{FORM}"]') is not None
    assert page.html.select_one('main a[href$="@@accessibility-feedback"]') is not None
    other = testapp.get('/kaikukortti/')
    assert 'Give feedback on accessibility' not in other.text


def test_form_has_labels_and_csrf_token(testapp):
    res = testapp.get(FORM)
    form = res.forms['feedback-form']
    assert form['csrf_token'].value
    assert 'novalidate' in form.html.form.attrs
    for field in ('name', 'email', 'message'):
        assert res.html.select_one(f'label[for="feedback-{field}"]') is not None


def test_valid_feedback_is_stored_and_shown_to_the_admin(fresh_app):
    assert stored(fresh_app) is None
    browser = client(fresh_app)
    res = send(browser, name='Anna', email='anna@example.fi', message='Kontrasti on liian heikko.')
    thanks = res.follow()
    assert '14' in thanks.text
    assert thanks.html.select_one('[role=status]') is not None
    assert stored(fresh_app) == [('Anna', 'anna@example.fi', 'Kontrasti on liian heikko.')]
    (entry,) = audit_actions(fresh_app)
    assert entry['action'] == 'feedback.sent'
    assert 'anna@example.fi' not in repr(entry)
    admin = client(fresh_app, 'admin')
    listing = admin.get('/@@feedback')
    item = listing.html.select_one('.feedback-item')
    assert 'Kontrasti on liian heikko.' in item.text
    assert 'age 0 days' in ' '.join(item.text.split())
    assert 'overdue' not in item['class']


def test_admin_marks_feedback_answered(fresh_app):
    send(client(fresh_app), message='Linkit eivät erotu.')
    admin = client(fresh_app, 'admin')
    listing = admin.get('/@@feedback')
    form = form_with(listing, 'key')
    form.submit(status=303)
    listing = admin.get('/@@feedback')
    assert not any('key' in f.fields for f in listing.forms.values())
    assert 'Answered' in listing.html.select_one('.feedback-item').text
    assert [e['action'] for e in audit_actions(fresh_app)] == ['feedback.answered', 'feedback.sent']


def test_empty_message_is_refused_beside_the_field(fresh_app):
    browser = client(fresh_app)
    res = send(browser, status=400, name='Anna <b>', email='anna@example.fi', message='   ')
    assert res.html.select_one('#feedback-message-error') is not None
    summary = res.html.select_one('.error-summary')
    assert summary.has_attr('autofocus') and summary['tabindex'] == '-1'
    assert summary.select_one('a[href="#feedback-message"]') is not None
    form = form_with(res, 'message')
    assert form['name'].value == 'Anna <b>'
    assert form['email'].value == 'anna@example.fi'
    assert stored(fresh_app) is None


def test_bad_email_is_refused_and_the_message_kept(fresh_app):
    browser = client(fresh_app)
    res = send(browser, status=400, email='not an address', message='Teksti on pientä.')
    assert res.html.select_one('#feedback-email-error') is not None
    assert res.html.select_one('.error-summary a[href="#feedback-email"]') is not None
    assert form_with(res, 'message')['message'].value == 'Teksti on pientä.'
    assert stored(fresh_app) is None


def test_too_long_message_is_refused(fresh_app):
    res = send(client(fresh_app), status=400, message='x' * 5001)
    assert res.html.select_one('#feedback-message-error') is not None
    assert stored(fresh_app) is None


def test_post_without_csrf_token_is_refused(testapp):
    testapp.post(FORM, {'message': 'hei'}, status=400)


def test_only_administrators_see_the_feedback(fresh_app):
    client(fresh_app).get('/@@feedback', status=403)
    client(fresh_app, 'editor').get('/@@feedback', status=403)
    client(fresh_app, 'admin').get('/@@feedback', status=200)


def test_sending_is_limited_per_address(fresh_app):
    browser = client(fresh_app, addr='203.0.113.9')
    for n in range(5):
        send(browser, message=f'Viesti {n}')
    res = send(browser, status=429, message='Vielä yksi')
    assert 'Wait' in res.text
    assert res.headers['Retry-After']
    assert len(stored(fresh_app)) == 5
    send(client(fresh_app, addr='203.0.113.10'), message='Toisesta osoitteesta')


def test_get_does_not_create_the_box(fresh_app):
    client(fresh_app).get(FORM)
    client(fresh_app, 'admin').get('/@@feedback')
    assert stored(fresh_app) is None


def test_age_and_overdue():
    from portal.feedback import utcnow

    box = _makeBox()
    now = utcnow()
    old = box.add('', '', 'vanha', sent=now - datetime.timedelta(days=20))
    new = box.add('', '', 'uusi', sent=now - datetime.timedelta(days=2))
    assert [m.message for m in box.newest()] == ['uusi', 'vanha']
    assert len(box) == 2
    assert old.age_days(now) == 20 and old.overdue(now)
    assert new.age_days(now) == 2 and not new.overdue(now)
    box.mark_answered(old.key, 'admin', now)
    assert not old.overdue(now) and old.answered_by == 'admin'
    assert box.mark_answered(12345, 'admin') is None


def test_overdue_feedback_is_highlighted(fresh_app):
    import transaction

    from portal.feedback import FeedbackBox, utcnow

    db = fresh_app.registry._zodb_databases['']
    tm = transaction.TransactionManager()
    with tm:
        conn = db.open(transaction_manager=tm)
        conn.root()['feedback'] = box = FeedbackBox()
        box.add('', '', 'Unohtunut viesti', sent=utcnow() - datetime.timedelta(days=15))
        tm.get().addAfterCommitHook(lambda ok: conn.close())
    item = client(fresh_app, 'admin').get('/@@feedback').html.select_one('.feedback-item')
    assert 'overdue' in item['class']
    assert 'age 15 days' in ' '.join(item.text.split())
