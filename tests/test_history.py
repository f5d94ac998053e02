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


def diff_of(browser, revision):
    """(op, text) of the marked segments of a revision's diff, ``del`` and ``ins`` only."""
    diff = browser.get('/tiedote/@@history', params={'rev': str(revision)}).html.select_one('.diff')
    return [(tag.name, tag.text) for tag in diff.select('del, ins')]


def test_a_one_sentence_edit_marks_that_sentence_whatever_the_line_endings(editor):
    edit(
        editor,
        body='## Ohje\r\n\r\nEnsimmäinen lause.\r\nToinen lause on tässä.\r\n\r\n'
        '- kohta yksi\r\n- kohta kaksi\r\n',
    )
    edit(
        editor,
        body='## Ohje\n\nEnsimmäinen lause.\nToinen lause on\nmuutettu.\n\n- kohta yksi\n- kohta kaksi\n',
    )
    assert diff_of(editor, 3) == [('del', 'tässä.'), ('ins', 'muutettu.')]
    # The reader's text is compared, not the Markdown: no heading or list marks in the diff.
    shown = editor.get('/tiedote/@@history', params={'rev': '2'}).html.select_one('.diff').text
    assert 'Ohje' in shown
    assert '##' not in shown
    assert '- kohta' not in shown


def test_an_edit_of_line_endings_alone_changes_no_word(editor):
    edit(editor, body='Ensimmäinen\r\nversio tekstistä.')
    assert diff_of(editor, 2) == []


def test_a_change_of_markup_alone_shows_in_the_source(editor):
    edit(editor, body='Lue [ohje](https://example.com/a).')
    edit(editor, body='Lue [ohje](https://example.com/b).')
    assert diff_of(editor, 3) == [
        ('del', '[ohje](https://example.com/a).'),
        ('ins', '[ohje](https://example.com/b).'),
    ]


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
    edit(editor, title='Tiedote <script>alert(1)</script>')
    res = editor.get('/tiedote/@@history', params={'rev': '2'})
    diff = res.html.select_one('.diff')
    assert diff.select('ins')[0].text == '<script>alert(1)</script>'
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
    assert '(palautettu versioon 1)' in rows[0].text  # the note in the reader's language
    assert '(luotu)' in rows[2].text


def test_history_is_closed_to_anonymous(editor):
    anonymous = webtest.TestApp(editor.app, extra_environ={'HTTP_HOST': 'example.com'})
    anonymous.get('/tiedote/@@history', status=403)


def test_diff_values_unit():
    from portal.history import diff_values

    changes = diff_values({'title': 'a b c', 'same': 'x'}, {'title': 'a d c', 'same': 'x'})
    assert changes == [('title', [('same', 'a'), ('del', 'b'), ('ins', 'd'), ('same', 'c')])]


def test_the_portals_own_notes_are_translation_strings_and_others_stay_as_written():
    from portal.history import note_message

    assert note_message('initial') == 'first saved version'
    assert note_message('initial').domain == 'kaiku'
    assert note_message('import') == 'imported from a file'
    assert note_message('revert to 12').mapping == {'n': '12'}
    assert note_message('vaihe 03-tyopari') == 'vaihe 03-tyopari'
