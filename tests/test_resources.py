"""Content types, containers, texts and stored files."""

import pytest
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationConflictError


def _makeSite(app):
    return app.registry.content_types['Site'].create(state='published')


class TestContentTypes:
    def test_every_type_is_declared_once_with_its_schema(self, app):
        types = app.registry.content_types
        assert {ct.name for ct in types} >= {'Site', 'Folder', 'Page', 'Venue', 'Material', 'Guide', 'Step'}
        venue = types['Venue']
        assert venue.addable_in('Folder')
        assert not venue.addable_in('Site')
        assert venue.default_state == 'private'
        assert 'categories' in venue.field_names()

    def test_addable_types_follow_the_declarations(self, app):
        types = app.registry.content_types
        site = _makeSite(app)
        assert {ct.name for ct in types.addable_to(site)} == {
            'Folder',
            'Page',
            'Estimate',
            'DecisionBrief',
            'Workspaces',
        }
        assert [ct.name for ct in types.addable_to(types['Workspaces'].create())] == ['Workspace']
        guide = types['Guide'].create()
        assert [ct.name for ct in types.addable_to(guide)] == ['Step']
        assert types.addable_to(types['Page'].create()) == []

    def test_types_the_site_owns_are_not_offered_to_people(self, app):
        types = app.registry.content_types
        site = _makeSite(app)
        assert types['Workspaces'].addable_in('Site')
        assert not types['Workspaces'].offered_in('Site')
        assert {ct.name for ct in types.offered_in(site)} == {'Folder', 'Page', 'Estimate', 'DecisionBrief'}

    def test_declaring_a_type_twice_fails_at_start_up(self):
        from portal.resources.page import Page, PageSchema

        def declare_page_again(config):
            config.add_content_type(Page, title='Again', schema=PageSchema)

        config = Configurator()
        config.include('portal.resources')
        config.include(declare_page_again)
        with pytest.raises(ConfigurationConflictError):
            config.commit()

    def test_create_applies_values_and_default_state(self, app):
        page = app.registry.content_types['Page'].create({'title': 'Otsikko', 'body': '**hei**'})
        assert page.state == 'private'
        assert page.text('title') == 'Otsikko'
        assert page.body_html() == '<p><strong>hei</strong></p>'


class TestTexts:
    def _makeOne(self):
        from portal.resources.page import Page

        page = Page()
        page.update({'title': 'Suomeksi', 'description': 'Kuvaus', 'body': 'Runko'})
        return page

    def test_fallback_to_own_language_is_marked(self):
        page = self._makeOne()
        page.set_texts('sv', {'title': 'På svenska'})
        assert (page.text('title', 'sv'), page.text('title', 'sv').lang) == ('På svenska', 'sv')
        assert (page.text('description', 'sv'), page.text('description', 'sv').lang) == ('Kuvaus', 'fi')
        assert page.body_html('en').lang == 'fi'

    def test_update_reports_changed_fields_and_moves_modified(self):
        page = self._makeOne()
        before = page.modified
        assert page.update({'title': 'Suomeksi', 'description': 'Uusi'}) == ['description']
        assert page.modified > before
        stamp = page.modified
        assert page.update({'title': 'Suomeksi'}) == []
        assert page.modified == stamp


class TestSanitising:
    @pytest.mark.parametrize(
        'source',
        [
            '<script>alert(1)</script>',
            '<img src=x onerror=alert(1)>',
            '[x](javascript:alert(1))',
            '<a href="#" onclick="alert(1)">x</a>',
            '<p style="color:red">x</p>',
            '<iframe src="https://example.com"></iframe>',
        ],
    )
    def test_markup_that_could_run_script_is_removed(self, source):
        from portal.resources.base import render_markdown

        html = render_markdown(source)
        for marker in ('<script', 'onerror', 'javascript:', 'onclick', 'style=', '<iframe'):
            assert marker not in html

    def test_links_get_noopener_and_tables_survive(self):
        from portal.resources.base import render_markdown

        html = render_markdown('[a](https://example.com)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n')
        assert 'rel="noopener noreferrer"' in html
        assert '<table>' in html


class TestContainer:
    def _makeOne(self):
        from portal.resources.folder import Folder

        return Folder()

    def _page(self):
        from portal.resources.page import Page

        return Page()

    def test_order_explicit_then_by_name(self):
        folder = self._makeOne()
        for name in ('c', 'a', 'b'):
            folder.add(name, self._page(), send_events=False)
        assert folder.keys() == ['a', 'b', 'c']
        folder.set_order(['c', 'a'])
        assert folder.keys() == ['c', 'a', 'b']
        assert folder.order == ('c', 'a', 'b')
        folder.add('d', self._page(), send_events=False)
        assert folder.keys() == ['c', 'a', 'b', 'd']
        folder.remove('a', send_events=False)
        assert folder.keys() == ['c', 'b', 'd']
        assert folder.order == ('c', 'b', 'd')
        assert len(folder) == 3

    @pytest.mark.parametrize('name', ['', 'A', '../x', 'a/b', '@@view', '_x', 'x.', 'ä', 'a' * 101])
    def test_bad_names_are_refused(self, name):
        folder = self._makeOne()
        with pytest.raises(ValueError):
            folder.add(name, self._page(), send_events=False)
        assert len(folder) == 0

    def test_a_name_in_use_is_refused(self):
        folder = self._makeOne()
        folder.add('a', self._page(), send_events=False)
        with pytest.raises(KeyError):
            folder.add('a', self._page(), send_events=False)
        with pytest.raises(KeyError):
            folder.set_order(['a', 'zz'])

    def test_add_and_remove_send_events_for_the_whole_subtree(self, config):
        from portal.events import ObjectAdded, ObjectRemoved

        seen = []
        config.add_subscriber(lambda e: seen.append(('added', e.item.__name__)), ObjectAdded)
        config.add_subscriber(lambda e: seen.append(('removed', e.item.__name__)), ObjectRemoved)
        outer, inner = self._makeOne(), self._makeOne()
        inner.add('leaf', self._page(), send_events=False)
        outer.add('inner', inner, registry=config.registry)
        outer.remove('inner', registry=config.registry)
        assert seen == [('added', 'inner'), ('added', 'leaf'), ('removed', 'inner'), ('removed', 'leaf')]


class TestStoredFile:
    @pytest.mark.parametrize(
        ('head', 'name', 'expected'),
        [
            (b'%PDF-1.4', 'x.pdf', 'application/pdf'),
            (b'\x89PNG\r\n\x1a\n', 'x.jpg', 'image/png'),
            (b'\xff\xd8\xff\xe0', 'x', 'image/jpeg'),
            (b'RIFF\x00\x00\x00\x00WEBPVP8 ', 'x.webp', 'image/webp'),
            (
                b'PK\x03\x04',
                'x.docx',
                'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
            ),
            (b'PK\x03\x04', 'x.zip', None),
            (b'<html>', 'x.pdf', None),
            (b'MZ\x90\x00', 'x.exe', None),
        ],
    )
    def test_type_comes_from_the_bytes(self, head, name, expected):
        from portal.resources.files import sniff_type

        assert sniff_type(head, name) == expected

    @pytest.mark.parametrize(
        ('given', 'expected'),
        [
            ('../../etc/passwd', 'passwd'),
            ('C:\\Users\\x\\Esite 2025.pdf', 'Esite-2025.pdf'),
            ('Käyttöohje.pdf', 'Kayttoohje.pdf'),
            ('\x00\x1f.pdf', 'pdf'),
            ('', 'file'),
            ('a' * 300 + '.pdf', 'a' * 96 + '.pdf'),
        ],
    )
    def test_file_names_are_cleaned(self, given, expected):
        from portal.resources.files import clean_filename

        assert clean_filename(given) == expected


def test_markdown_conversions_share_no_state():
    """The converter is reused between conversions: a link reference defined in one text must not
    resolve in the next."""
    from portal.resources.base import render_markdown

    assert 'href="https://example.fi"' in render_markdown('[museo][m]\n\n[m]: https://example.fi')
    assert 'href' not in render_markdown('[museo][m]')
