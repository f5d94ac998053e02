"""Unit tests of the catalog: text analysis, index views, queries, facets and event-driven reindexing."""

import pytest
from pyramid.authorization import Everyone


def _make_site():
    from portal.catalog import SiteCatalog
    from portal.resources.site import Site

    site = Site()
    site.catalog = SiteCatalog()
    return site


def _folder(name, parent, state='published'):
    from portal.resources.folder import Folder

    folder = Folder()
    folder.state = state
    parent.add(name, folder)
    return folder


def _venue(folder, name, title, state='published', sv=None, **values):
    from portal.resources.venue import Venue

    venue = Venue()
    venue.state = state
    defaults = {
        'title': title,
        'description': '',
        'body': '',
        'card_benefit': '',
        'categories': ('other',),
        'municipality': 'Jyväskylä',
        'region': 'Keski-Suomi',
    }
    venue.update({**defaults, **values})
    if sv:
        venue.set_texts('sv', sv)
    folder.add(name, venue)
    return venue


def _search(site, principals=(Everyone,), **kw):
    from portal.catalog import Query, search

    result = search(site.catalog, list(principals), Query(**kw))
    return [site.catalog.paths[docid] for docid in result.docids], result


@pytest.fixture
def site(config):
    config.include('portal.catalog')
    site = _make_site()
    venues = _folder('venues', site)
    _venue(
        venues, 'uimahalli', 'Hietasarkan uimahalli', categories=('swimming',), accessibility=('step_free',)
    )
    _venue(
        venues, 'museo', 'Tervaväylän museo', categories=('museum',), municipality='Kajaani', region='Kainuu'
    )
    _venue(
        venues,
        'simhall',
        'Strandens badhus',
        description='Kaupungin uimala.',
        sv={'title': 'Strandens simhall', 'description': 'En simhall vid stranden.'},
        categories=('swimming', 'sport'),
        accessibility=('step_free', 'induction_loop'),
    )
    _venue(venues, 'sali', 'Hiekkarannan konserttisali', categories=('music',))
    _venue(venues, 'luonnos', 'Salainen uimahalli', state='private', categories=('swimming',))
    return site


class TestFold:
    def _callFUT(self, text):
        from portal.catalog import fold

        return fold(text)

    def test_lower_cases_and_keeps_finnish_and_swedish_letters(self):
        assert self._callFUT('ÄÄNEKOSKI Åbo Öljy') == 'äänekoski åbo öljy'

    def test_removes_other_accents(self):
        assert self._callFUT('Café Müller Señor') == 'cafe muller senor'


class TestStemming:
    def _words(self, language, text):
        from portal.catalog import make_lexicon

        return make_lexicon(language).parseTerms(text)

    def test_finnish_inflections_share_a_stem(self):
        forms = ('uimahalliin', 'uimahallit', 'uimahalli', 'Uimahallissa')
        stems = {self._words('fi', word)[0] for word in forms}
        assert len(stems) == 1

    def test_finnish_plural_illative_is_museum(self):
        assert self._words('fi', 'museoihin') == self._words('fi', 'museo')

    def test_swedish_definite_form(self):
        assert self._words('sv', 'simhallen') == self._words('sv', 'simhall')

    def test_lexicon_pickles_without_a_stemmer(self):
        import pickle

        from portal.catalog import make_lexicon

        lexicon = make_lexicon('fi')
        lexicon.parseTerms('uimahalli')
        data = pickle.dumps(lexicon)
        assert b'snowball' not in data
        assert pickle.loads(data).parseTerms('museoihin') == ['museo']


class TestSearch:
    def test_finnish_inflected_queries_find_the_same_venue(self, site):
        for q in ('uimahalliin', 'uimahallit', 'uimahalli', 'UIMAHALLISSA'):
            paths, _ = _search(site, text=q)
            assert paths == ['/venues/uimahalli'], q

    def test_museoihin_finds_the_museum(self, site):
        assert _search(site, text='museoihin')[0] == ['/venues/museo']

    def test_swedish_definite_form_finds_swedish_text(self, site):
        assert _search(site, text='simhallen')[0] == ['/venues/simhall']

    def test_compound_matches_on_its_written_form(self, site):
        assert _search(site, text='konserttisali')[0] == ['/venues/sali']
        assert _search(site, text='konserttisaliin')[0] == ['/venues/sali']

    def test_all_words_must_match(self, site):
        assert _search(site, text='hietasarkan uimahalli')[0] == ['/venues/uimahalli']
        assert _search(site, text='hietasarkan museo')[0] == []

    def test_private_venue_is_hidden_from_everyone_but_shown_to_staff(self, site):
        assert '/venues/luonnos' not in _search(site, text='uimahalli')[0]
        assert '/venues/luonnos' in _search(site, principals=[Everyone, 'role:Editor'], text='uimahalli')[0]

    def test_without_text_sorts_by_name(self, site):
        paths, result = _search(site, types=('Venue',))
        assert result.total == 4
        assert paths == ['/venues/sali', '/venues/uimahalli', '/venues/simhall', '/venues/museo']

    def test_relevance_ties_broken_by_title(self, site):
        from portal.resources.venue import Venue

        venues = site['venues']
        for name, title in (('b', 'Beta uimala'), ('a', 'Alfa uimala')):
            venue = Venue()
            venue.state = 'published'
            venue.update({'title': title})
            venues.add(name, venue)
        assert _search(site, text='uimala', types=('Venue',))[0][:2] == ['/venues/a', '/venues/b']

    def test_filters_keyword_values_must_all_match(self, site):
        paths, _ = _search(site, filters={'accessibility': ['step_free', 'induction_loop']})
        assert paths == ['/venues/simhall']

    def test_window(self, site):
        all_paths, _ = _search(site, types=('Venue',))
        paths, result = _search(site, types=('Venue',), start=2, limit=2)
        assert paths == all_paths[2:4]
        assert result.total == 4

    def test_query_words_are_limited(self):
        from portal.catalog import MAX_QUERY_WORDS, query_words

        assert len(query_words('sana ' * 50)) == MAX_QUERY_WORDS

    def test_punctuation_only_is_no_text(self, site):
        result = _search(site, text='"()*!', types=('Venue',))[1]
        assert result.total == 4


class TestFacets:
    def test_counts_agree_with_filtered_results(self, site):
        from portal.catalog import facet_counts

        _, result = _search(site, types=('Venue',))
        for index in ('categories', 'accessibility', 'region', 'municipality'):
            for value, count in facet_counts(site.catalog, index, result.hits).items():
                _, narrowed = _search(site, types=('Venue',), filters={index: [value]})
                assert narrowed.total == count, (index, value)

    def test_large_results_count_by_intersection(self, site, monkeypatch):
        from portal import catalog

        _, result = _search(site, types=('Venue',))
        scanned = catalog.facet_counts(site.catalog, 'categories', result.hits)
        monkeypatch.setattr(catalog, 'FACET_SCAN_LIMIT', 0)
        assert catalog.facet_counts(site.catalog, 'categories', result.hits) == scanned


class TestReindexing:
    def test_edit_reindexes(self, site):
        from portal.events import ObjectModified, notify

        venue = site['venues']['museo']
        changed = venue.update({'title': 'Kalastajakylän kotiseututalo'})
        notify(ObjectModified(venue, changed))
        assert _search(site, text='museo')[0] == []
        assert _search(site, text='kotiseututalo')[0] == ['/venues/museo']

    def test_state_change_reindexes_who_may_view(self, site):
        from portal.events import StateChanged, notify

        venue = site['venues']['museo']
        venue.state = 'private'
        notify(StateChanged(venue, 'published', 'private'))
        assert _search(site, text='museo')[0] == []
        assert _search(site, principals=[Everyone, 'role:Publisher'], text='museo')[0] == ['/venues/museo']

    def test_move_reindexes_the_path(self, site):
        other = _folder('archive', site)
        venue = site['venues'].remove('museo')
        other.add('museo', venue)
        assert _search(site, text='museo')[0] == ['/archive/museo']
        assert _search(site, text='museo', path='/venues')[0] == []

    def test_delete_unindexes_the_subtree(self, site):
        before = len(site.catalog.objects)
        site.remove('venues')
        assert _search(site, text='uimahalli')[0] == []
        assert len(site.catalog.objects) == before - 6

    def test_rebuild_matches_the_tree(self, site):
        from portal.catalog import install_catalog

        del site.catalog
        catalog = install_catalog(site)
        assert len(catalog.objects) == 6
        assert _search(site, text='museoihin')[0] == ['/venues/museo']

    def test_detached_items_are_not_indexed(self, config):
        from portal.resources.folder import Folder

        config.include('portal.catalog')
        loose = Folder()
        _venue(loose, 'x', 'Irrallinen museo')  # no site, no catalog: nothing to do, no error
        assert 'x' in loose


class TestAllowedIndex:
    def test_principals_come_from_the_acl_lineage(self, site):
        from portal.catalog import allowed_view

        published = allowed_view(site['venues']['museo'], None)
        private = allowed_view(site['venues']['luonnos'], None)
        assert Everyone in published
        assert Everyone not in private
        assert {'role:Administrator', 'role:Editor', 'role:Publisher'} <= set(private)


class TestFacetLimits:
    def test_many_valued_facet_is_not_counted_over_the_scan_limit(self, site, monkeypatch):
        from portal import catalog

        _, result = _search(site, types=('Venue',))
        monkeypatch.setattr(catalog, 'FACET_SCAN_LIMIT', 1)
        monkeypatch.setattr(catalog, 'FACET_INTERSECT_MAX_VALUES', 1)
        assert catalog.facet_counts(site.catalog, 'municipality', result.hits) is None
        monkeypatch.setattr(catalog, 'FACET_SCAN_LIMIT', 100)
        counts = catalog.facet_counts(site.catalog, 'municipality', result.hits)
        assert counts == {'Jyväskylä': 3, 'Kajaani': 1}
