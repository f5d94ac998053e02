"""Revisions: every edit keeps one; the history shows the differences and reverts (as a new revision)."""

import pytest
import webtest

from portal.testing import add_user, log_in

PASSWORD = 'correct horse battery staple'


@pytest.fixture
def editor(make_app):
    app = make_app(**{'portal.load_on_start': 'false'})
    add_user(app, 'editor', PASSWORD, roles=['Editor'])
    browser = webtest.TestApp(app, extra_environ={'HTTP_HOST': 'example.com'})
    log_in(browser, 'editor', PASSWORD)
    form = browser.get('/@@add', params={'type': 'Page'}).forms['edit-form']
    form['title'] = 'Tiedote'
    form['body'] = 'Ensimmäinen versio tekstistä.'
    form.submit('save', status=303)
    return browser


def edit(browser, **fields):
    form = browser.get('/tiedote/@@edit').forms['edit-form']
    for name, value in fields.items():
        form[name] = value
    return form.submit('save', status=303)


def test_each_edit_keeps_a_revision(editor):
    edit(editor, body='Toinen versio tekstistä.')
    edit(editor, title='Tiedote 2')
    page = editor.get('/tiedote/@@history')
    rows = page.html.select('table.history tbody tr')
    assert len(rows) == 3
    # Fields by their titles in the reader's language, never the internal names; times in Finnish time.
    assert 'Otsikko' in rows[0].text and 'title' not in rows[0].text
    assert 'body' not in rows[1].text
    assert 'editor' in rows[0].text
    import datetime

    from portal.clock import HELSINKI

    shown = rows[0].select_one('time')
    stored = datetime.datetime.fromisoformat(shown['datetime']).astimezone(HELSINKI)
    assert shown.text == f'{stored.day}.{stored.month}.{stored.year} {stored.hour}.{stored.minute:02d}'


def test_diff_shows_what_changed_escaped(editor):
    edit(editor, body='Toinen <script>alert(1)</script> versio tekstistä.')
    res = editor.get('/tiedote/@@history', params={'rev': '2'})
    diff = res.html.select_one('.diff')
    assert diff.select('del')[0].text == 'Ensimmäinen'
    assert 'Toinen' in diff.select('ins')[0].text
    assert '<script>alert(1)</script>' not in res.text
    assert '&lt;script&gt;' in res.text
    editor.get('/tiedote/@@history', params={'rev': '99'}, status=404)
    editor.get('/tiedote/@@history', params={'rev': 'x'}, status=404)
    editor.get('/tiedote/@@history', params={'rev': '²'}, status=404)


def test_revert_is_itself_a_revision(editor):
    edit(editor, body='Toinen versio.')
    form = editor.get('/tiedote/@@history').forms['history-form']
    form.submit('revision', value='1', status=303)
    assert 'Ensimmäinen versio tekstistä.' in editor.get('/tiedote/').text
    rows = editor.get('/tiedote/@@history').html.select('table.history tbody tr')
    assert len(rows) == 3
    assert '(palautettu versioon 1)' in rows[0].text  # the stored note 'revert to 1', in Finnish


def test_history_is_closed_to_anonymous(editor):
    anonymous = webtest.TestApp(editor.app, extra_environ={'HTTP_HOST': 'example.com'})
    anonymous.get('/tiedote/@@history', status=403)


def test_diff_values_unit():
    from portal.history import diff_values

    changes = diff_values({'title': 'a b c', 'same': 'x'}, {'title': 'a d c', 'same': 'x'})
    assert changes == [('title', [('same', 'a'), ('del', 'b'), ('ins', 'd'), ('same', 'c')])]
