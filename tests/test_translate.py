"""Translating on the web: the Swedish and English texts beside the Finnish original (``@@translate``),
``@@edit?lang=sv`` leading there instead of editing the original, the original's changes since a
translation was saved marked, and the list of translations missing or older than the original."""

import pytest

from portal.testing import TEST_PASSWORD, add_user, browser, edit_site

pytestmark = pytest.mark.usefixtures('english_interface')


@pytest.fixture
def app(make_app):
    app = make_app(**{'portal.load_on_start': 'false'})
    add_user(app, 'editor', TEST_PASSWORD, roles=['Editor'])
    add_user(app, 'member', TEST_PASSWORD, roles=[])
    editor = browser(app, 'editor')
    form = editor.get('/@@add', params={'type': 'Page'}).forms['edit-form']
    form['title'] = 'Aukioloajat'
    form['description'] = 'Milloin olemme auki.'
    form['body'] = 'Avoinna arkisin kello 9-17.'
    form.submit('save', status=303)
    return app


@pytest.fixture
def editor(app):
    return browser(app, 'editor')


def texts(app, lang):
    with edit_site(app) as site:
        return dict(site['aukioloajat'].texts.get(lang, {}))


def translate_swedish(editor, title='Öppettider', body='Öppet vardagar klockan 9-17.'):
    form = editor.get('/aukioloajat/@@translate', params={'to': 'sv'}).forms['edit-form']
    form['title'] = title
    form['body'] = body
    return form.submit('save', status='*')


def needed(editor, lang='sv'):
    """The titles on the translations page, by list."""
    res = editor.get('/@@translations', params={'to': lang})
    return {
        section['aria-labelledby'].removeprefix('list-'): [
            a.text for a in section.select('li > a:first-child')
        ]
        for section in res.html.select('section.translation-list')
    }


def test_the_swedish_text_is_written_beside_the_finnish_original(app, editor):
    res = editor.get('/aukioloajat/@@translate', params={'to': 'sv'})
    originals = [div.text.strip() for div in res.html.select('.translation-original .original-text')]
    assert originals == ['Aukioloajat', 'Milloin olemme auki.', 'Avoinna arkisin kello 9-17.']
    assert all(div['lang'] == 'fi' for div in res.html.select('.original-text'))
    assert res.html.select_one('textarea[name=body]')['lang'] == 'sv'
    assert res.forms['edit-form']['title'].value == ''  # not translated yet
    res = translate_swedish(editor)
    assert res.status_int == 303
    assert texts(app, 'sv')['title'] == 'Öppettider'
    assert texts(app, 'sv')['body_html'] == '<p>Öppet vardagar klockan 9-17.</p>'
    assert texts(app, 'fi')['title'] == 'Aukioloajat'  # the original is untouched
    assert 'Öppettider' in editor.get('/aukioloajat', params={'lang': 'sv'}).text
    assert 'Aukioloajat' in editor.get('/aukioloajat', params={'lang': 'fi'}).text
    history = editor.get('/aukioloajat/@@history').html.select('table.history tbody tr')
    assert '(translation: sv)' in history[0].text


def test_edit_with_lang_sv_leads_to_the_swedish_texts_not_the_finnish_original(app, editor):
    res = editor.get('/aukioloajat/@@edit', params={'lang': 'sv'}, status=303)
    assert res.location.endswith('/aukioloajat/@@translate?to=sv')
    form = res.follow().forms['edit-form']
    assert form.action.endswith('/aukioloajat/@@translate?to=sv')
    form['title'] = 'Öppettider'
    form.submit('save', status=303)
    assert texts(app, 'fi')['title'] == 'Aukioloajat'
    assert texts(app, 'sv')['title'] == 'Öppettider'
    # The original's own language still edits the original.
    form = editor.get('/aukioloajat/@@edit', params={'lang': 'fi'}).forms['edit-form']
    assert form['title'].value == 'Aukioloajat'


def test_a_change_of_the_original_marks_the_translation_outdated_until_it_is_saved_again(app, editor):
    translate_swedish(editor)
    assert needed(editor) == {'outdated': [], 'missing': []}
    assert needed(editor, 'en') == {'outdated': [], 'missing': ['Aukioloajat']}
    form = editor.get('/aukioloajat/@@edit').forms['edit-form']
    form['body'] = 'Avoinna joka päivä kello 9-17.'
    form.submit('save', status=303)
    assert needed(editor) == {'outdated': ['Aukioloajat'], 'missing': []}
    res = editor.get('/aukioloajat/@@translate', params={'to': 'sv'})
    body = res.html.select('.translation-original')[2]
    assert [d.text for d in body.select('del')] == ['arkisin']
    assert [i.text for i in body.select('ins')] == ['joka päivä']
    assert 'Changed since the translation was saved.' in body.text
    assert not res.html.select('.translation-original')[0].select('ins, del, .original-changed')
    form = res.forms['edit-form']
    form['body'] = 'Öppet varje dag klockan 9-17.'
    form.submit('save', status=303)
    assert needed(editor) == {'outdated': [], 'missing': []}
    assert not editor.get('/aukioloajat/@@translate', params={'to': 'sv'}).html.select('.original-text ins')


def test_a_translation_read_from_the_content_files_becomes_outdated_when_the_original_changes(app, editor):
    with edit_site(app) as site:  # as the loader reads name.sv.md: texts only, no copy of the original
        site['aukioloajat'].set_texts('sv', {'title': 'Öppettider'})
        assert site['aukioloajat'].translation_sources is None
    form = editor.get('/aukioloajat/@@edit').forms['edit-form']
    form['title'] = 'Aukioloajat kesällä'
    form.submit('save', status=303)
    res = editor.get('/aukioloajat/@@translate', params={'to': 'sv'})
    title = res.html.select('.translation-original')[0]
    assert [i.text for i in title.select('ins')] == ['kesällä']


def test_bad_requests_are_refused_and_write_nothing(app, editor):
    editor.get('/aukioloajat/@@translate', params={'to': 'fi'}, status=404)  # the original is not one
    editor.get('/aukioloajat/@@translate', params={'to': 'de'}, status=404)
    editor.get('/aukioloajat/@@translate', status=404)
    editor.get('/@@translations', params={'to': 'xx'}, status=404)
    res = translate_swedish(editor, title='x' * 201)
    assert res.status_int == 400
    assert 'Longer than maximum length 200' in res.text
    res = translate_swedish(editor, title='Öppet\u202etider')
    assert res.status_int == 400
    assert texts(app, 'sv') == {}
    form = editor.get('/aukioloajat/@@translate', params={'to': 'sv'}).forms['edit-form']
    form['title'] = 'Öppettider'
    form['csrf_token'] = 'forged'
    form.submit('save', status=400)
    assert texts(app, 'sv') == {}
    # A page offset that is not a number is the first page.
    assert editor.get('/@@translations', params={'to': 'en', 'missing': '٣'}).status_int == 200


def test_only_editors_translate_and_see_the_list(app):
    anonymous, member = browser(app), browser(app, 'member')
    for client in (anonymous, member):
        res = client.get('/aukioloajat/@@translate', params={'to': 'sv'}, expect_errors=True)
        assert res.status_int in (302, 303, 403, 404)
        res = client.get('/@@translations', expect_errors=True)
        assert res.status_int in (302, 303, 403, 404)
        assert 'Translations to do' not in res.text


def test_someone_elses_translation_saved_in_between_is_shown_and_not_overwritten(app, editor):
    other = browser(app, 'editor')
    mine = editor.get('/aukioloajat/@@translate', params={'to': 'sv'}).forms['edit-form']
    translate_swedish(other, title='Öppethållande')
    mine['title'] = 'Öppettider'
    res = mine.submit('save', status=409)
    assert 'Öppethållande' in res.html.select_one('.saved-version').text
    assert texts(app, 'sv')['title'] == 'Öppethållande'


def test_the_dump_writes_the_translation_and_nothing_of_its_source(app, editor, tmp_path):
    from portal.loader import Dumper

    translate_swedish(editor)
    with edit_site(app) as site:
        Dumper(app.registry).dump(site, str(tmp_path))
    assert (tmp_path / 'aukioloajat.sv.md').read_text(encoding='utf-8') == (
        '---\ntitle: Öppettider\n---\nÖppet vardagar klockan 9-17.\n'
    )
