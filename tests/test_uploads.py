"""Uploads: size limit (413), type checked by content, cleaned names, served safely."""

import io
import zipfile

import pytest
import webtest
from webtest import Upload

from portal.testing import add_user, log_in

pytestmark = pytest.mark.usefixtures('english_interface')


PASSWORD = 'correct horse battery staple'
PDF = b'%PDF-1.4\n' + b'0' * 200 + b'\n%%EOF\n'
PNG = b'\x89PNG\r\n\x1a\n' + b'\x00' * 100


def docx():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w') as archive:
        archive.writestr('[Content_Types].xml', '<Types/>')
        archive.writestr('word/document.xml', '<document/>')
    return buffer.getvalue()


def plain_zip():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w') as archive:
        archive.writestr('evil.exe', 'MZ')
    return buffer.getvalue()


@pytest.fixture
def editor(make_app):
    app = make_app(**{'portal.load_on_start': 'false', 'portal.max_upload_bytes': '5000'})
    add_user(app, 'editor', PASSWORD, roles=['Editor'])
    browser = webtest.TestApp(app, extra_environ={'HTTP_HOST': 'example.com'})
    log_in(browser, 'editor', PASSWORD)
    form = browser.get('/@@add', params={'type': 'Folder'}).forms['edit-form']
    form['title'] = 'Materiaalit'
    form.submit('save', status=303)
    return browser


def check(form, value):
    """Tick the first checkbox whose value is ``value`` (deform names every checkbox 'checkbox')."""
    next(box for box in form.fields['checkbox'] if box._value == value).checked = True


def add_material(browser, filename, data, status=303):
    form = browser.get('/materiaalit/@@add', params={'type': 'Material'}).forms['edit-form']
    form['title'] = 'Esite'
    form['kind'] = 'brochure'
    check(form, 'public')
    form['upload'] = Upload(filename, data)
    return form.submit('save', status=status)


@pytest.mark.parametrize(
    ('filename', 'data', 'mimetype', 'disposition'),
    [
        ('esite.pdf', PDF, 'application/pdf', 'inline'),
        ('kuva.png', PNG, 'image/png', 'inline'),
        (
            'lomake.docx',
            None,
            'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
            'attachment',
        ),
    ],
)
def test_allowed_files_are_stored_and_served(editor, filename, data, mimetype, disposition):
    add_material(editor, filename, data if data is not None else docx())
    res = editor.get('/materiaalit/esite/download')
    assert res.content_type == mimetype
    assert res.headers['Content-Disposition'].startswith(disposition)
    assert res.headers['X-Content-Type-Options'] == 'nosniff'


@pytest.mark.parametrize(
    ('filename', 'data'),
    [
        ('esite.pdf', b'<html><script>alert(1)</script></html>'),
        ('ohjelma.docx', None),
        ('kuva.png', b'GIF89a' + b'\x00' * 20),
    ],
)
def test_files_of_other_kinds_are_refused(editor, filename, data):
    res = add_material(editor, filename, data if data is not None else plain_zip(), status=400)
    assert 'This kind of file cannot be uploaded here.' in res.text
    assert res.forms['edit-form']['title'].value == 'Esite'


def test_too_large_file_is_refused_with_413(editor):
    res = add_material(editor, 'iso.pdf', PDF + b'0' * 80_000, status=413)
    assert 'at most' in res.text


def test_file_name_is_cleaned(editor):
    add_material(editor, '../../etc/Pää "lomake".pdf', PDF)
    disposition = editor.get('/materiaalit/esite/download').headers['Content-Disposition']
    assert disposition == 'inline; filename="Paa-lomake-.pdf"'


def test_picture_accepts_images_only(editor):
    form = editor.get('/materiaalit/@@add', params={'type': 'Venue'}).forms['edit-form']
    form['title'] = 'Museo'
    form['municipality'] = 'Turku'
    form['card_benefit'] = 'Ilmainen sisäänpääsy'
    check(form, 'museum')
    form['upload'] = Upload('kuva.pdf', PDF)
    res = form.submit('save', status=400)
    assert 'This kind of file cannot be uploaded here.' in res.text
    res.forms['edit-form']['upload'] = Upload('kuva.png', PNG)
    res.forms['edit-form'].submit('save', status=303)
    assert editor.get('/materiaalit/museo/picture').content_type == 'image/png'


# A file kept over a failed round ---------------------------------------------------------------------------
@pytest.fixture
def holding_editor(make_app, tmp_path):
    held = tmp_path / 'held'
    app = make_app(**{'portal.load_on_start': 'false', 'portal.held_upload_dir': str(held)})
    add_user(app, 'editor', PASSWORD, roles=['Editor'])
    browser = webtest.TestApp(app, extra_environ={'HTTP_HOST': 'example.com'})
    log_in(browser, 'editor', PASSWORD)
    form = browser.get('/@@add', params={'type': 'Folder'}).forms['edit-form']
    form['title'] = 'Materiaalit'
    form.submit('save', status=303)
    return app, browser, held


def failed_material_round(browser, filename='esite.pdf', data=PDF):
    """An add form sent with a file and without its required audience: the form comes back (400)."""
    form = browser.get('/materiaalit/@@add', params={'type': 'Material'}).forms['edit-form']
    form['title'] = 'Esite'
    form['upload'] = Upload(filename, data)
    return form.submit('save', status=400)


def test_a_file_sent_with_a_form_that_fails_is_kept_for_the_next_round(holding_editor):
    _app, editor, held = holding_editor
    res = failed_material_round(editor)
    note = res.html.select_one('.held-file')
    assert note is not None and 'esite.pdf' in note.get_text()
    assert len(list(held.iterdir())) == 1
    form = res.forms['edit-form']
    check(form, 'public')
    form.submit('save', status=303)  # no file chosen again
    download = editor.get('/materiaalit/esite/download')
    assert download.body == PDF
    assert download.content_type == 'application/pdf'
    assert list(held.iterdir()) == [], 'a saved form leaves no held file behind'


def test_the_held_file_note_is_in_the_readers_language(holding_editor, monkeypatch):
    _app, editor, _held = holding_editor
    monkeypatch.undo()  # the Finnish interface
    note = failed_material_round(editor, 'lomake.pdf').html.select_one('.held-file').get_text(' ', strip=True)
    assert note == 'Tiedosto lomake.pdf on tallessa; sitä ei tarvitse valita uudelleen.'


def test_a_refused_file_is_not_kept(holding_editor):
    _app, editor, _held = holding_editor
    form = editor.get('/materiaalit/@@add', params={'type': 'Material'}).forms['edit-form']
    form['title'] = 'Esite'
    check(form, 'public')
    form['upload'] = Upload('esite.pdf', b'<html></html>')
    res = form.submit('save', status=400)
    assert res.html.select_one('.held-file') is None
    assert not res.html.select('input[name=uid]')


def test_a_held_file_is_of_no_use_in_another_session(holding_editor):
    app, editor, _held = holding_editor
    token = failed_material_round(editor).html.select_one('input[name=uid]')['value']
    assert len(token) >= 24
    add_user(app, 'other', PASSWORD, roles=['Editor'])
    other = webtest.TestApp(app, extra_environ={'HTTP_HOST': 'example.com'})
    log_in(other, 'other', PASSWORD)
    form = other.get('/materiaalit/@@add', params={'type': 'Material'}).forms['edit-form']
    form['title'] = 'Vieras'
    check(form, 'public')
    fields = []
    for name, value in form.submit_fields('save'):
        fields.append((name, value))
        if name == 'upload':
            fields.append(('uid', token))
    other.post('/materiaalit/@@add?type=Material', fields, status=303)
    other.get('/materiaalit/vieras/download', status=404)


def test_a_file_chosen_again_after_a_failed_round_replaces_the_held_one(holding_editor):
    _app, editor, held = holding_editor
    form = failed_material_round(editor, 'vanha.pdf').forms['edit-form']
    form['upload'] = Upload('uusi.png', PNG)
    res = form.submit('save', status=400)  # still no audience
    assert 'uusi.png' in res.html.select_one('.held-file').get_text()
    assert len(list(held.iterdir())) == 1, 'the file chosen first is no longer held'
    form = res.forms['edit-form']
    check(form, 'public')
    form.submit('save', status=303)
    assert editor.get('/materiaalit/esite/download').body == PNG


def test_a_token_sent_with_a_file_names_no_file_on_the_server(holding_editor, tmp_path):
    _app, editor, held = holding_editor
    form = editor.get('/materiaalit/@@add', params={'type': 'Material'}).forms['edit-form']
    form['title'] = 'Esite'
    fields = []
    for name, value in form.submit_fields('save'):
        if name == 'upload':
            fields += [('upload', Upload('esite.pdf', PDF)), ('uid', '../outside')]
        else:
            fields.append((name, value))
    res = editor.post(
        '/materiaalit/@@add?type=Material', fields, content_type='multipart/form-data', status=400
    )
    assert not (tmp_path / 'outside').exists(), 'the token named a file beside the held ones'
    token = res.html.select_one('input[name=uid]')['value']
    assert [path.name for path in held.iterdir()] == [token]


# Zip bombs ------------------------------------------------------------------------------------------------
ODT = 'application/vnd.oasis.opendocument.text'
BOMB_BYTES = 400 * 1024 * 1024


def zip_with(member, unpacked_bytes, others=('[Content_Types].xml', 'word/document.xml')):
    """A zip whose ``member`` inflates to ``unpacked_bytes`` zeros, written a megabyte at a time, so the
    test never holds more than the packed archive (about a thousandth of it)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w', zipfile.ZIP_DEFLATED) as archive:
        for name in others:
            archive.writestr(name, '<x/>')
        chunk = bytes(1024 * 1024)
        with archive.open(member, 'w') as f:
            for _ in range(unpacked_bytes // len(chunk)):
                f.write(chunk)
    return buffer.getvalue()


@pytest.fixture(scope='module')
def odt_bomb():
    return zip_with('mimetype', BOMB_BYTES, others=())


@pytest.fixture
def roomy_editor(make_app):
    """An editor on a site with the default upload limit (20 MB), which a packed bomb fits in."""
    app = make_app(**{'portal.load_on_start': 'false'})
    add_user(app, 'editor', PASSWORD, roles=['Editor'])
    browser = webtest.TestApp(app, extra_environ={'HTTP_HOST': 'example.com'})
    log_in(browser, 'editor', PASSWORD)
    form = browser.get('/@@add', params={'type': 'Folder'}).forms['edit-form']
    form['title'] = 'Materiaalit'
    form.submit('save', status=303)
    return browser


def test_an_odt_whose_mimetype_inflates_to_400_mb_is_refused_without_inflating_it(roomy_editor, odt_bomb):
    import tracemalloc

    assert len(odt_bomb) < 1024 * 1024
    tracemalloc.start()
    try:
        res = add_material(roomy_editor, 'esite.odt', odt_bomb, status=400)
        _size, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 32 * 1024 * 1024, f'{peak / 1024 / 1024:.0f} MB'
    assert 'unpacks to far more data than a document holds' in res.text


@pytest.mark.parametrize(
    ('filename', 'member'),
    [('lomake.docx', 'word/document.xml'), ('taulukko.xlsx', 'xl/workbook.xml')],
)
def test_office_archives_are_refused_by_their_declared_sizes(roomy_editor, filename, member):
    others = ('[Content_Types].xml', 'word/document.xml', 'xl/workbook.xml')
    bomb = zip_with(member, 50 * 1024 * 1024, others=[name for name in others if name != member])
    res = add_material(roomy_editor, filename, bomb, status=400)
    assert 'unpacks to far more data than a document holds' in res.text


def test_an_archive_with_too_many_members_is_refused(roomy_editor):
    from portal.forms import ZIP_MAX_MEMBERS

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w') as archive:
        archive.writestr('[Content_Types].xml', '<Types/>')
        archive.writestr('word/document.xml', '<document/>')
        for n in range(ZIP_MAX_MEMBERS):
            archive.writestr(f'word/media/{n}.xml', '')
    res = add_material(roomy_editor, 'lomake.docx', buffer.getvalue(), status=400)
    assert 'unpacks to far more data than a document holds' in res.text


def test_a_real_odt_is_still_accepted(roomy_editor):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w', zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo('mimetype'), ODT)  # stored first, as ODF asks
        archive.writestr('content.xml', '<office:document-content/>' + ' ' * 50_000)
    add_material(roomy_editor, 'esite.odt', buffer.getvalue())
    assert roomy_editor.get('/materiaalit/esite/download').content_type == ODT
