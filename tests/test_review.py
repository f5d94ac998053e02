"""The review queue and the comments of state changes (portal.views.manage.review, portal.workflow)."""

import pytest

from portal.testing import add_user
from portal.testing import browser as portal_browser

pytestmark = pytest.mark.usefixtures('english_interface')

PASSWORD = 'correct horse battery staple'


@pytest.fixture
def app(make_app):
    app = make_app(**{'portal.load_on_start': 'false'})
    add_user(app, 'editor', PASSWORD, roles=['Editor'])
    add_user(app, 'publisher', PASSWORD, roles=['Publisher'])
    editor = browser(app, 'editor')
    for title in ('Tiedote', 'Uutinen'):
        form = editor.get('/@@add', params={'type': 'Page'}).forms['edit-form']
        form['title'] = title
        form.submit('save', status=303)
    return app


def browser(app, login=None, addr='192.0.2.1'):
    return portal_browser(app, login, PASSWORD, addr)


def submit(client, path, comment=''):
    form = client.get(f'{path}@@state').forms['state-form']
    form['comment'] = comment
    return form.submit('transition', value='submit', status=303)


def queue_rows(client):
    """(title, type, submitter, time) of each item in the queue."""
    return [
        [item.select_one('h2').get_text(strip=True)]
        + [dd.get_text(' ', strip=True) for dd in item.select('.review-facts dd')]
        for item in client.get('/@@review').html.select('.review-queue li')
    ]


def history_cells(client, path):
    """The 'fields changed' cell of each revision, newest first."""
    rows = client.get(f'{path}@@history').html.select('table.history tbody tr')
    return [row.select('td')[3].get_text(' ', strip=True) for row in rows]


def test_the_queue_lists_what_is_pending_with_who_submitted_and_when(app):
    editor = browser(app, 'editor')
    submit(editor, '/tiedote/', 'Valmis tarkastettavaksi')
    rows = queue_rows(editor)
    assert len(rows) == 1
    title, kind, who, when = rows[0]
    assert (title, kind, who) == ('Tiedote', 'Page', 'editor')
    assert when  # the time of the submission, in Finnish time
    assert history_cells(editor, '/tiedote/')[0] == 'Submit for review Valmis tarkastettavaksi'
    # An editor sees the queue but may not decide.
    assert editor.get('/@@review').html.select('form.review-form') == []
    browser(app).get('/@@review', status=403)


def test_a_publisher_publishes_from_the_queue_with_a_comment(app):
    submit(browser(app, 'editor'), '/tiedote/')
    submit(browser(app, 'editor'), '/uutinen/')
    publisher = browser(app, 'publisher', addr='192.0.2.2')
    res = publisher.get('/@@review')
    form = next(f for f in res.forms.values() if 'path' in f.fields and f['path'].value == '/tiedote')
    form['comment'] = 'Hyvä, julkaistu.'
    res = form.submit('transition', value='publish', status=303).follow()
    assert 'Tiedote: Publish.' in res.text
    assert [row[0] for row in queue_rows(publisher)] == ['Uutinen']
    browser(app).get('/tiedote/', status=200)
    assert history_cells(publisher, '/tiedote/')[0] == 'Publish Hyvä, julkaistu.'


def test_a_publisher_sends_back_from_the_queue(app):
    submit(browser(app, 'editor'), '/tiedote/')
    publisher = browser(app, 'publisher', addr='192.0.2.2')
    form = publisher.get('/@@review').forms['review-1']
    form['comment'] = 'Lisää yhteystiedot.'
    form.submit('transition', value='reject', status=303)
    assert queue_rows(publisher) == []
    browser(app).get('/tiedote/', status=403)
    assert history_cells(publisher, '/tiedote/')[0] == 'Send back Lisää yhteystiedot.'


def test_decisions_that_may_not_be_made_are_refused(app):
    editor = browser(app, 'editor')
    submit(editor, '/tiedote/')
    token = editor.get('/@@review').html.select_one('input[name=csrf_token]')
    token = (
        token['value'] if token else editor.get('/tiedote/@@state').forms['state-form']['csrf_token'].value
    )
    editor.post('/@@review', {'csrf_token': token, 'path': '/tiedote', 'transition': 'publish'}, status=403)
    publisher = browser(app, 'publisher', addr='192.0.2.2')
    form = publisher.get('/@@review').forms['review-1']
    form['comment'] = 'x' * 2001
    res = form.submit('transition', value='publish', status=400)
    assert 'A comment may be at most 2000 characters long.' in res.text
    form['comment'] = ''
    form.submit('transition', value='publish', status=303)
    # The same form again, once the item has left the queue.
    res = form.submit('transition', value='reject', status=400)
    assert 'That item is no longer waiting for review.' in res.text
    form['path'] = '/no-such-item'
    form.submit('transition', value='publish', status=400)


def test_bulk_state_changes_keep_working_and_keep_their_comment(app):
    editor = browser(app, 'editor')
    form = editor.get('/@@contents').forms['contents-form']
    for field in form.fields['names']:
        field.checked = field._value in ('tiedote', 'uutinen')
    form['action'] = 'submit'
    form['comment'] = 'Molemmat valmiita'
    res = form.submit('apply', status=303).follow()
    assert 'State changed for 2 of 2 items.' in res.text
    assert [row[0] for row in queue_rows(editor)] == ['Tiedote', 'Uutinen']
    assert history_cells(editor, '/uutinen/')[0] == 'Submit for review Molemmat valmiita'
