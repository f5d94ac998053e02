"""The content loader and dumper: files ⇄ ZODB."""

import filecmp
import os

import pytest
import webtest

from portal.testing import CONTENT_DIR, build_app, close_app, edit_site, write_ini


def _callFUT_parse(text):
    from portal.loader import parse

    return parse(text)


def _write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        f.write(text)


@pytest.fixture
def registry(app):
    return app.registry


@pytest.fixture
def new_site(registry):
    return registry.content_types['Site'].create(state='published')


def _load(registry, site, directory):
    from portal.loader import Loader

    return Loader(registry).load(site, str(directory))


class TestParse:
    def test_header_and_body(self):
        header, body = _callFUT_parse('---\ntype: Page\ntitle: Otsikko\n---\n\nTeksti.\n')
        assert header == {'type': 'Page', 'title': 'Otsikko'}
        assert body == 'Teksti.'

    def test_windows_line_ends(self):
        header, body = _callFUT_parse('---\r\ntype: Page\r\n---\r\nA\r\n')
        assert header == {'type': 'Page'}
        assert body == 'A'

    @pytest.mark.parametrize(
        'text', ['no header', '---\ntitle: [unclosed\n---\n', '---\n- a list\n---\n', '---\ntype: x\n']
    )
    def test_damaged_header_raises(self, text):
        from portal.loader import ContentError

        with pytest.raises(ContentError):
            _callFUT_parse(text)

    def test_format_is_the_inverse(self):
        from portal.loader import format_file

        header = {'type': 'Venue', 'title': 'Ä', 'categories': ['museum', 'sport'], 'postcode': '00100'}
        text = format_file(header, 'Body\n\nMore')
        assert _callFUT_parse(text) == (header, 'Body\n\nMore')


class TestLoader:
    def test_loads_pages_folders_translations(self, registry, new_site, tmp_path):
        _write(tmp_path / '_index.md', '---\ntype: Site\ntitle: Koti\norder: [b, a]\n---\nTervetuloa\n')
        _write(tmp_path / 'a.md', '---\ntype: Page\ntitle: A-sivu\n---\nSisältö\n')
        _write(tmp_path / 'a.sv.md', '---\ntitle: A-sida\n---\nInnehåll\n')
        _write(tmp_path / 'b' / '_index.md', '---\ntype: Folder\ntitle: Kansio\n---\n')
        _write(tmp_path / 'b' / 'c.md', '---\ntype: Page\ntitle: C\nstate: private\n---\n')
        report = _load(registry, new_site, tmp_path)
        assert report.problems == []
        assert new_site.keys() == ['b', 'a']
        assert new_site.text('title') == 'Koti'
        assert new_site['a'].text('title', 'sv') == 'A-sida'
        assert new_site['a'].text('title', 'sv').lang == 'sv'
        assert new_site['a'].text('title', 'en').lang == 'fi'
        assert '<p>Innehåll</p>' in new_site['a'].body_html('sv')
        assert new_site['b']['c'].state == 'private'
        assert new_site['a'].state == 'published'

    def test_damaged_files_are_reported_and_the_rest_loads(self, registry, new_site, tmp_path):
        _write(tmp_path / 'good.md', '---\ntype: Page\ntitle: Hyvä\n---\n')
        _write(tmp_path / 'nohead.md', 'just text\n')
        _write(tmp_path / 'badyaml.md', '---\ntitle: [x\n---\n')
        _write(tmp_path / 'badtype.md', '---\ntype: Spaceship\ntitle: X\n---\n')
        _write(tmp_path / 'notitle.md', '---\ntype: Page\n---\n')
        _write(tmp_path / 'unknown.md', '---\ntype: Page\ntitle: X\ncolour: red\n---\n')
        _write(tmp_path / 'venue.md', '---\ntype: Venue\ntitle: X\npostcode: abc\n---\n')
        _write(tmp_path / 'Bad Name.md', '---\ntype: Page\ntitle: X\n---\n')
        (tmp_path / 'binary.md').write_bytes(b'---\n\xff\xfe\n---\n')
        (tmp_path / 'nodir').mkdir()
        report = _load(registry, new_site, tmp_path)
        assert list(new_site.keys()) == ['good']
        problems = '\n'.join(report.problems)
        for name in ('nohead', 'badyaml', 'badtype', 'notitle', 'unknown', 'venue', 'Bad Name', 'binary'):
            assert f'{name}.md' in problems
        assert 'nodir' in problems
        assert 'Spaceship' in problems
        assert 'colour' in problems
        assert len(report.problems) == 9

    def test_type_not_addable_here_is_refused(self, registry, new_site, tmp_path):
        _write(tmp_path / 'v.md', '---\ntype: Step\ntitle: X\nwho: [culture]\n---\n')
        report = _load(registry, new_site, tmp_path)
        assert 'v' not in new_site
        assert 'cannot be added' in report.problems[0]

    def test_file_field_must_be_a_bare_name(self, registry, new_site, tmp_path):
        _write(tmp_path / 'm' / '_index.md', '---\ntype: Folder\ntitle: M\n---\n')
        body = '---\ntype: Material\ntitle: X\naudience: [public]\nkind: form\nfile: ../../etc/passwd\n---\n'
        _write(tmp_path / 'm' / 'x.md', body)
        report = _load(registry, new_site, tmp_path)
        assert 'x' not in new_site['m']
        assert 'bare name' in report.problems[0]

    def test_loading_again_adds_only_what_is_missing(self, registry, new_site, tmp_path):
        _write(tmp_path / 'a.md', '---\ntype: Page\ntitle: Alkuperäinen\n---\n')
        _load(registry, new_site, tmp_path)
        new_site['a'].update({'title': 'Muokattu'})
        _write(tmp_path / 'a.md', '---\ntype: Page\ntitle: Tiedostossa muutettu\n---\n')
        _write(tmp_path / 'b.md', '---\ntype: Page\ntitle: Uusi\n---\n')
        report = _load(registry, new_site, tmp_path)
        assert new_site['a'].text('title') == 'Muokattu'
        assert new_site['b'].text('title') == 'Uusi'
        assert [os.path.basename(p) for p in report.added] == ['b.md']
        assert len(new_site) == 2


def _content_files(directory):
    found = set()
    for root, _dirs, files in os.walk(directory):
        for name in files:
            if name != 'README.md':
                found.add(os.path.relpath(os.path.join(root, name), directory))
    return found


def test_initial_content_round_trips_byte_for_byte(app, tmp_path):
    """Loading content/ and dumping the site gives back the very same files."""
    from portal.loader import Dumper

    with edit_site(app) as site:
        Dumper(app.registry).dump(site, str(tmp_path))
    expected = _content_files(CONTENT_DIR)
    assert _content_files(tmp_path) == expected
    _match, mismatch, errors = filecmp.cmpfiles(CONTENT_DIR, tmp_path, sorted(expected), shallow=False)
    assert mismatch == []
    assert errors == []


def test_initial_content_loads_without_problems(app, tmp_path):
    from portal.loader import Loader

    site = app.registry.content_types['Site'].create(state='published')
    report = Loader(app.registry).load(site, CONTENT_DIR)
    assert report.problems == []
    venues = site['venues']
    assert len(venues) >= 40
    assert len({venue.municipality for venue in venues.values()}) >= 6
    categories = {category for venue in venues.values() for category in venue.categories}
    from portal.resources.venue import CATEGORIES

    assert categories == {value for value, _title in CATEGORIES}
    assert all(venue.sample for venue in venues.values())
    assert len(site['guides']['kaikukortti-jyvaskyla'].steps()) >= 10


def test_second_start_neither_duplicates_nor_overwrites(tmp_path):
    app = build_app(str(tmp_path))
    try:
        with edit_site(app) as site:
            count = sum(1 for _ in site.values())
            site['kaikukortti'].update({'title': 'Editorin otsikko'})
    finally:
        close_app(app)
    app = build_app(str(tmp_path))
    try:
        with edit_site(app) as site:
            assert sum(1 for _ in site.values()) == count
            assert site['kaikukortti'].text('title') == 'Editorin otsikko'
        res = webtest.TestApp(app).get('/kaikukortti/')
        assert 'Editorin otsikko' in res.text
    finally:
        close_app(app)


def test_load_script_adds_missing_items_to_an_existing_database(tmp_path, capsys):
    from portal.scripts import load

    ini = write_ini(tmp_path, **{'portal.load_on_start': 'false'})
    assert load.main([str(ini)]) == 0
    out = capsys.readouterr().out
    assert ' 0 problems' in out
    assert load.main([str(ini)]) == 0
    assert '0 added' in capsys.readouterr().out


def test_dump_script_writes_files(tmp_path, capsys):
    from portal.scripts import dump

    ini = write_ini(tmp_path)
    assert dump.main([str(ini), str(tmp_path / 'out')]) == 0
    assert (tmp_path / 'out' / '_index.md').exists()
    assert (tmp_path / 'out' / 'venues' / '_index.md').exists()
