"""The portal's extension points: a plugin (``tests/sample_plugin.py``) adds a catalog index and its index
view, an evolve step and an audit action through Configurator directives, without touching the portal,
and a second declaration of any of them fails at start-up."""

import pytest
import transaction
from pyramid.authorization import Everyone

from portal.testing import TEST_PASSWORD, add_user, browser, build_app, close_app, edit_site

PLUGINS = 'kaiku_registry\nsample_plugin'


def _search(site, **kw):
    from portal.catalog import Query, search

    result = search(site.catalog, [Everyone], Query(limit=1000, **kw))
    return sorted(site.catalog.paths[docid] for docid in result.docids)


def _root_value(app, key):
    db = app.registry._zodb_databases['']
    conn = db.open(transaction_manager=transaction.TransactionManager())
    try:
        return conn.root().get(key)
    finally:
        conn.close()


@pytest.fixture
def plugin_app(make_app):
    return make_app(**{'pyramid.includes': PLUGINS})


class TestCatalogIndex:
    def test_the_plugins_index_is_created_filled_and_queried(self, plugin_app):
        from sample_plugin import INDEX

        from portal.catalog import fold

        assert plugin_app.registry.catalog_indexes[INDEX].kind == 'field'
        with edit_site(plugin_app) as site:
            catalog = site.catalog
            pages = list(catalog['content_type'].applyEq('Page'))
            assert pages and catalog[INDEX].indexed_count() == len(pages)
            public = [
                catalog.item_for(docid) for docid in pages if Everyone in catalog['allowed']._rev_index[docid]
            ]
            initial = fold(public[0].text('title'))[:1]
            expected = sorted(_path(page) for page in public if fold(page.text('title'))[:1] == initial)
            assert _search(site, filters={INDEX: [initial]}) == expected
            assert _search(site, filters={INDEX: ['#']}) == []

    def test_an_existing_catalog_gets_the_new_index_filled_alone_at_start(self, tmp_path, monkeypatch):
        from sample_plugin import INDEX

        from portal.catalog import fold
        from portal.catalog.indexes import IndexView

        directory = str(tmp_path)
        app = build_app(directory)
        with edit_site(app) as site:
            assert INDEX not in site.catalog
        close_app(app)
        asked = set()
        view = IndexView.__call__

        def recording(self, item, default):
            asked.add(self.index_name)
            return view(self, item, default)

        monkeypatch.setattr(IndexView, '__call__', recording)
        app = build_app(directory, **{'pyramid.includes': PLUGINS})
        try:
            assert asked == {INDEX}  # only the new index was filled at start
            with edit_site(app) as site:
                catalog = site.catalog
                pages = list(catalog['content_type'].applyEq('Page'))
                assert catalog[INDEX].indexed_count() == len(pages)
                first = fold(catalog.item_for(pages[0]).text('title'))[:1]
                assert pages[0] in catalog[INDEX].applyEq(first)
        finally:
            close_app(app)

    def test_the_portal_runs_without_the_plugin_and_its_index(self, make_app):
        app = make_app()
        assert 'sample_initial' not in app.registry.catalog_indexes
        with edit_site(app) as site:
            assert 'sample_initial' not in site.catalog


def _path(item):
    from pyramid.traversal import resource_path

    return resource_path(item)


class TestEvolveStep:
    def test_the_step_runs_once_on_an_existing_database(self, tmp_path):
        from sample_plugin import RUNS_KEY, STEP

        from portal.evolve import steps

        directory = str(tmp_path)
        close_app(build_app(directory))
        app = build_app(directory, **{'pyramid.includes': PLUGINS})
        assert _root_value(app, RUNS_KEY) == 1
        assert STEP in [step.name for step in steps(app.registry)]
        close_app(app)
        app = build_app(directory, **{'pyramid.includes': PLUGINS})
        try:
            assert _root_value(app, RUNS_KEY) == 1
        finally:
            close_app(app)

    def test_a_new_database_has_had_the_step(self, plugin_app):
        from sample_plugin import RUNS_KEY

        assert _root_value(plugin_app, RUNS_KEY) is None

    def test_steps_run_after_what_they_name(self, plugin_app):
        from portal.evolve import steps

        names = [step.name for step in steps(plugin_app.registry)]
        assert names.index('sample_plugin.count_runs') > names.index('portal.step0004_workspaces')


class TestAuditAction:
    def test_the_plugins_action_is_recorded_filtered_and_titled(self, plugin_app):
        from sample_plugin import ACTION

        add_user(plugin_app, 'admin', TEST_PASSWORD, roles=['Administrator'])
        admin = browser(plugin_app, 'admin')
        form = admin.get('/@@add', params={'type': 'Page'}).forms['edit-form']
        form['title'] = 'Tiedote'
        form.submit('save', status=303)
        page = admin.get('/@@audit', params={'action': ACTION}, headers={'Accept-Language': 'en'})
        options = {o['value']: o.text for o in page.html.select('#f-action option')}
        assert options[ACTION] == 'Sample plugin noted a page'
        rows = page.html.select('table.audit tbody tr')
        assert len(rows) == 1
        assert 'Sample plugin noted a page' in rows[0].text and '/tiedote' in rows[0].text

    def test_the_registry_plugin_declares_its_own(self, app):
        actions = app.registry.audit_actions
        assert 'registry.card.issue' in actions and 'login' in actions


class TestSearchSection:
    def test_a_plugins_type_is_found_in_its_own_site_search_section(self, plugin_app):
        from portal.testing import DoomedTestApp

        with edit_site(plugin_app) as site:
            note = plugin_app.registry.content_types['SampleNote'].create(
                {'title': 'Kokousmuistio kirjastosta'}, state='published'
            )
            note.set_texts('fi', {'minutes': 'Päätettiin hankkia lumikenkiä'})
            folder = next(item for item in site.values() if item.type_name == 'Folder')
            folder.add('muistio', note, registry=plugin_app.registry)
            path = _path(folder['muistio'])
        client = DoomedTestApp(plugin_app, extra_environ={'HTTP_HOST': 'example.com'})
        res = client.get('/search', params={'q': 'kokousmuistio', 'type': 'note'})
        assert [box['value'] for box in res.html.select('input[name=type]')] == [
            'page',
            'venue',
            'material',
            'guide',
            'note',
        ]
        assert [a['href'] for a in res.html.select('main a[href$="muistio/"]')] == [
            f'http://example.com{path}/'
        ]
        res = client.get('/search', params={'q': 'kokousmuistio', 'type': 'page'})
        assert not res.html.select('main a[href$="muistio/"]')
        res = client.get('/search', params={'q': 'lumikenkiä'})  # a word of the type's own text field
        assert [a['href'] for a in res.html.select('main a[href$="muistio/"]')] == [
            f'http://example.com{path}/'
        ]

    def test_without_the_plugin_its_section_is_unknown(self, testapp):
        testapp.get('/search', params={'q': 'x', 'type': 'note'}, status=400)


def _duplicate_index(config):
    config.add_catalog_index('sample_initial', 'keyword')


def _duplicate_index_view(config):
    from sample_plugin import initial_view

    config.add_index_view('sample_initial', 'Page', initial_view)


def _duplicate_step(config):
    config.add_evolve_step('sample_plugin.count_runs', lambda root, registry: None)


def _duplicate_action(config):
    config.add_audit_action('sample.page-noted', 'Another title')


@pytest.mark.parametrize(
    'duplicate', [_duplicate_index, _duplicate_index_view, _duplicate_step, _duplicate_action]
)
def test_a_second_declaration_is_a_conflict(duplicate, tmp_path):
    from pyramid.config import Configurator
    from pyramid.exceptions import ConfigurationConflictError

    from portal import includeme
    from portal.testing import app_settings

    with Configurator(settings=app_settings(str(tmp_path), **{'pyramid.includes': ''})) as config:
        config.include(includeme)
        config.include('sample_plugin')
        config.include(duplicate)
        with pytest.raises(ConfigurationConflictError):
            config.commit()


def test_a_step_that_needs_an_undeclared_step_fails_the_start(tmp_path):
    from pyramid.config import Configurator
    from pyramid.exceptions import ConfigurationError

    from portal import includeme
    from portal.testing import app_settings

    with Configurator(settings=app_settings(str(tmp_path), **{'pyramid.includes': ''})) as config:
        config.include(includeme)
        config.add_evolve_step('needy', lambda root, registry: None, needs=('nobody.declared.this',))
        with pytest.raises(ConfigurationError, match=r'nobody\.declared\.this'):
            config.commit()


class TestRegistryShapeStep:
    def test_a_registry_at_the_current_shape_is_left_as_it_is(self, tmp_path):
        """A database whose registry is at shape 2 but that never recorded the plugin's step (made before
        the step existed) runs it once, and the step changes nothing there."""
        from kaiku_registry.models import SHAPE
        from portal.evolve import DONE_KEY, done_steps

        directory = str(tmp_path)
        app = build_app(directory, **{'portal.load_on_start': 'false'})
        with edit_site(app) as site:
            site._p_jar.root()[DONE_KEY].remove('kaiku_registry.shape0002')
            tallies = site['registry'].tallies._p_oid
        close_app(app)
        app = build_app(directory, **{'portal.load_on_start': 'false'})
        try:
            with edit_site(app) as site:
                assert 'kaiku_registry.shape0002' in done_steps(site._p_jar.root())
                assert site['registry'].shape == SHAPE
                assert site['registry'].tallies._p_oid == tallies
        finally:
            close_app(app)
