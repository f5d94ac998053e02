"""Unit tests of the catalog: text analysis, index views, queries, facets and event-driven reindexing."""

import pytest
from pyramid.authorization import Everyone


def _include_catalog(config):
    """The catalog, and the content types that declare indexes of their own (the venue's facets)."""
    config.include('portal.resources')
    config.include('portal.catalog')


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
    _include_catalog(config)
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
            # the swimming hall by its title first, the Swedish-only one by its category's Finnish words
            assert paths == ['/venues/uimahalli', '/venues/simhall'], q

    def test_museoihin_finds_the_museum(self, site):
        assert _search(site, text='museoihin')[0] == ['/venues/museo']

    def test_swedish_definite_form_finds_swedish_text(self, site):
        assert _search(site, text='simhallen')[0] == ['/venues/simhall', '/venues/uimahalli']

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
        from portal.catalog import facets as catalog

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
        assert _search(site, text='tervaväylän')[0] == []
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

        _include_catalog(config)
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


class TestFacetPaths:
    def test_value_sets_probing_and_reverse_map_count_alike(self, site, monkeypatch):
        from portal.catalog import facets as catalog

        _, result = _search(site, types=('Venue',))
        expected = {name: catalog._count_facet(site.catalog[name], result.hits) for name in FACET_INDEXES}
        monkeypatch.setattr(catalog, 'FACET_INTERSECT_MAX_VALUES', 0)  # every index counted by reverse map
        assert {
            name: catalog._count_facet(site.catalog[name], result.hits) for name in FACET_INDEXES
        } == expected
        monkeypatch.setattr(catalog, 'FACET_INTERSECT_MAX_VALUES', 40)
        monkeypatch.setattr(catalog, 'PROBE_RATIO', 0)  # value sets merged instead of probed
        assert {
            name: catalog._count_facet(site.catalog[name], result.hits) for name in FACET_INDEXES
        } == expected
        assert expected['categories'] == {'swimming': 2, 'museum': 1, 'sport': 1, 'music': 1}


class TestFacetLimits:
    def test_many_valued_facet_is_not_counted_over_the_scan_limit(self, site, monkeypatch):
        from portal.catalog import facets as catalog

        _, result = _search(site, types=('Venue',))
        monkeypatch.setattr(catalog, 'FACET_SCAN_LIMIT', 1)
        monkeypatch.setattr(catalog, 'FACET_INTERSECT_MAX_VALUES', 1)
        assert catalog.facet_counts(site.catalog, 'municipality', result.hits) is None
        monkeypatch.setattr(catalog, 'FACET_SCAN_LIMIT', 100)
        counts = catalog.facet_counts(site.catalog, 'municipality', result.hits)
        assert counts == {'Jyväskylä': 3, 'Kajaani': 1}


class TestPublicIndex:
    """The ``public`` index that anonymous queries for content types read instead of intersecting
    ``allowed``, ``content_type`` and ``path``: its answer must always equal the general one."""

    def test_anonymous_venue_query_reads_the_public_index(self, site, monkeypatch):
        from portal.catalog import query as catalog

        sets = catalog._filter_sets(site.catalog, [Everyone], catalog.Query(types=('Venue',), path='/venues'))
        assert sets == [site.catalog['public']._fwd_index['Venue:/venues']]
        editor = catalog._filter_sets(
            site.catalog, [Everyone, 'role:Editor'], catalog.Query(types=('Venue',), path='/venues')
        )
        assert len(editor) == 3

    def test_private_venue_is_not_public(self, site):
        public = site.catalog['public']
        docid = site.catalog.docids['/venues/luonnos']
        assert public._rev_index.get(docid) is None
        assert set(public._rev_index[site.catalog.docids['/venues/museo']]) == {'Venue', 'Venue:/venues'}

    def test_state_and_acl_changes_reindex_it(self, site):
        from pyramid.authorization import Allow

        from portal.events import ObjectModified, StateChanged, notify

        venue = site['venues']['museo']
        assert '/venues/museo' in _search(site, types=('Venue',), path='/venues')[0]
        venue.state = 'draft'
        notify(StateChanged(venue, 'published', 'draft'))
        assert '/venues/museo' not in _search(site, types=('Venue',), path='/venues')[0]
        assert _search(site, types=('Venue',), path='/venues')[1].total == 3
        venue.local_acl = ((Allow, Everyone, 'view'),)
        notify(ObjectModified(venue, ['local_acl']))
        assert '/venues/museo' in _search(site, types=('Venue',), path='/venues')[0]
        venue.local_acl = ()
        notify(ObjectModified(venue, ['local_acl']))
        assert '/venues/museo' not in _search(site, types=('Venue',), path='/venues')[0]
        venue.state = 'published'
        notify(StateChanged(venue, 'draft', 'published'))
        assert _search(site, types=('Venue',), path='/venues')[1].total == 4

    def test_a_catalog_without_it_answers_through_the_general_indexes(self, site):
        expected = _search(site, types=('Venue',), path='/venues')[0]
        del site.catalog['public']
        assert _search(site, types=('Venue',), path='/venues')[0] == expected


def _anonymous_truth(site, types, path):
    """Paths of the items of ``types`` below ``path`` that an anonymous visitor may view, from the tree."""
    from pyramid.authorization import ACLHelper
    from pyramid.traversal import resource_path

    from portal.resources.base import walk

    helper = ACLHelper()
    found = set()
    for item in walk(site):
        item_path = resource_path(item)
        if item is site or item.type_name not in types:
            continue
        if path and not (item_path == path or item_path.startswith(path + '/')):
            continue
        if Everyone in helper.principals_allowed_by_permission(item, 'view'):
            found.add(item_path)
    return found


FACET_INDEXES = ('categories', 'accessibility', 'region', 'municipality')
STATES = ('published', 'private', 'draft')
TITLES = ('Alfa uimahalli', 'Beta museo', 'Gamma teatteri', 'Delta uimahalli museo')


class TestPublicIndexProperty:
    """After any sequence of adds, edits, state and ACL changes, moves and deletes, the anonymous answer
    through the ``public`` index equals the general query's and what the tree says."""

    OPS = ('add_venue', 'add_page', 'add_folder', 'state', 'edit', 'acl', 'move', 'delete')

    def _apply(self, site, op, a, b):
        from pyramid.authorization import Allow
        from pyramid.traversal import resource_path

        from portal.events import ObjectModified, StateChanged, notify
        from portal.resources.base import walk
        from portal.resources.page import Page

        folders = sorted((item for item in walk(site) if item.is_container), key=resource_path)
        items = sorted((item for item in walk(site) if item is not site), key=resource_path)
        folder = folders[a % len(folders)]
        site.made = made = getattr(site, 'made', 0) + 1  # a name never used before
        if op == 'add_venue':
            _venue(folder, f'v{made}', TITLES[b % len(TITLES)], state=STATES[b % 3])
        elif op == 'add_page':
            page = Page()
            page.state = STATES[b % 3]
            page.update({'title': TITLES[b % len(TITLES)]})
            folder.add(f'p{made}', page)
        elif op == 'add_folder':
            _folder(f'f{made}', folder, state=STATES[b % 3])
        elif not items:
            return
        else:
            item = items[b % len(items)]
            if op == 'state':
                old, item.state = item.state, STATES[a % 3]
                notify(StateChanged(item, old, item.state))
            elif op == 'edit':
                changed = item.update({'title': TITLES[a % len(TITLES)]})
                notify(ObjectModified(item, changed))
            elif op == 'acl' and item.is_container:
                item.local_acl = ((Allow, Everyone, 'view'),) if a % 2 else ()
                notify(ObjectModified(item, ['local_acl']))
            elif op == 'move':
                target = folders[a % len(folders)]
                below = target
                while below is not None and below is not item:
                    below = below.__parent__
                if below is None and target is not item.__parent__ and item.__name__ not in target:
                    name = item.__name__
                    target.add(name, item.__parent__.remove(name))
            elif op == 'delete':
                item.__parent__.remove(item.__name__)

    def test_public_answers_equal_general_answers(self, config):
        from hypothesis import HealthCheck, given, settings
        from hypothesis import strategies as st

        _include_catalog(config)
        ops = st.lists(
            st.tuples(st.sampled_from(self.OPS), st.integers(0, 50), st.integers(0, 50)), max_size=30
        )

        @settings(
            max_examples=60,
            derandomize=True,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture],
        )
        @given(ops)
        def check(steps):
            site = _make_site()
            _folder('venues', site)
            _folder('archive', site, state='private')
            for op, a, b in steps:
                self._apply(site, op, a, b)
                for types, path in (
                    (('Venue',), '/venues'),
                    (('Venue',), ''),
                    (('Page', 'Folder'), ''),
                    (('Venue', 'Page'), '/archive'),
                    (('Venue',), '/venues/' + 'x'),
                ):
                    public = _search(site, types=types, path=path, limit=1000)
                    general = _search(
                        site, principals=[Everyone, 'nobody:general'], types=types, path=path, limit=1000
                    )
                    assert public[0] == general[0], (op, types, path)
                    assert list(public[1].hits) == list(general[1].hits), (op, types, path)
                    found = {site.catalog.paths[docid] for docid in public[1].hits}
                    assert found == _anonymous_truth(site, types, path), (op, types, path)
                    for text in ('uimahalli', 'museo teatteri'):
                        with_text = _search(site, types=types, path=path, text=text, limit=1000)[0]
                        assert (
                            with_text
                            == _search(
                                site,
                                principals=[Everyone, 'nobody:general'],
                                types=types,
                                path=path,
                                text=text,
                                limit=1000,
                            )[0]
                        )

        check()


class TestFilterFirst:
    def test_relevance_ranking_equals_scoring_every_hit(self, site):
        """The scores of the hits left after filtering are those that scoring every document gives, and
        a word's whole-word tokens are scored as hypatia's own Okapi index scores them."""
        from BTrees import family64

        from portal.catalog.query import Query, _postings, _text_scores, candidates

        IF = family64.IF
        catalog = site.catalog
        everything = IF.Set(catalog.objects.keys())
        for text in ('uimahalli', 'uimala', 'hietasarkan uimahalli', 'stranden simhall'):
            postings = [_postings(catalog, word) for word in text.split()]
            allowed = candidates(catalog, [Everyone], Query(types=('Venue',)))
            expected = IF.weightedIntersection(_text_scores(postings, everything), allowed, 1, 0)[1]
            scores = _text_scores(postings, allowed)
            assert dict(scores.items()) == pytest.approx(dict(expected.items())), text
        index = catalog['text_fi'].index
        (whole,) = [p for p in _postings(catalog, 'hietasarkan') if p.weight == 1 and p[0] is index]
        assert dict(_text_scores([[whole]], everything).items()) == pytest.approx(
            dict(index.search('hietasarkan').items())
        )

    def test_probing_and_merging_intersect_alike(self, site, monkeypatch):
        from portal.catalog import query as catalog

        merged = _search(site, types=('Venue',), filters={'categories': ['swimming']}, text='uimahalli')
        monkeypatch.setattr(catalog, 'PROBE_RATIO', 0)
        probed = _search(site, types=('Venue',), filters={'categories': ['swimming']}, text='uimahalli')
        assert merged[0] == probed[0] and merged[1].total == probed[1].total

    def test_title_scan_sorts_as_hypatia_does(self, site, monkeypatch):
        from portal.catalog import query as catalog

        for name, title in (('x', 'Hietasarkan uimahalli'), ('y', 'Aakkoset')):  # a tie and a first
            _venue(site['venues'], name, title)
        expected = _search(site, types=('Venue',), sort='name', limit=10)[0]
        monkeypatch.setattr(catalog, 'TITLE_SCAN_MIN', 0)
        assert _search(site, types=('Venue',), sort='name', limit=10)[0] == expected
        assert _search(site, types=('Venue',), sort='name', start=2, limit=3)[0] == expected[2:5]


class TestFacetCache:
    def test_counts_are_remembered_until_the_catalog_changes(self, site, config):
        from portal.catalog import facet_cache, facet_counts
        from portal.events import ObjectModified, notify

        cache = facet_cache(config.registry)
        _, result = _search(site, types=('Venue',))
        assert result.facet_key is not None
        first = facet_counts(site.catalog, 'categories', result.hits, result.facet_key, cache)
        assert facet_counts(site.catalog, 'categories', result.hits, result.facet_key, cache) is first
        venue = site['venues']['museo']
        notify(ObjectModified(venue, venue.update({'categories': ('music',)})))
        _, changed = _search(site, types=('Venue',))
        assert changed.facet_key != result.facet_key
        counts = facet_counts(site.catalog, 'categories', changed.hits, changed.facet_key, cache)
        assert counts['music'] == first['music'] + 1 and 'museum' not in counts

    def test_the_cache_belongs_to_the_application_not_the_process(self, site, config):
        from pyramid.registry import Registry

        from portal.catalog import facet_cache, facet_counts

        _, result = _search(site, types=('Venue',))
        mine, other = facet_cache(config.registry), facet_cache(Registry('other'))
        assert facet_cache(config.registry) is mine and other is not mine
        facet_counts(site.catalog, 'categories', result.hits, result.facet_key, mine)
        assert mine.get((result.facet_key, 'categories')) is not None
        assert other.get((result.facet_key, 'categories')) is None

    def test_text_queries_and_other_principals_get_their_own_key(self, site):
        assert _search(site, types=('Venue',), text='uimahalli')[1].facet_key is None
        anonymous = _search(site, types=('Venue',))[1].facet_key
        assert _search(site, principals=[Everyone, 'role:Editor'], types=('Venue',))[1].facet_key != anonymous
        assert _search(site, types=('Venue',), filters={'region': ['Kainuu']})[1].facet_key != anonymous

    def test_a_change_in_this_transaction_or_an_aborted_one_is_never_cached(self, config):
        import transaction
        from ZODB import DB
        from ZODB.MappingStorage import MappingStorage

        _include_catalog(config)
        db = DB(MappingStorage())
        tm = transaction.TransactionManager()
        conn = db.open(tm)
        try:
            site = conn.root()['site'] = _make_site()
            _folder('venues', site)
            tm.commit()
            committed = site.catalog.generation()
            assert committed is not None
            _venue(site['venues'], 'uusi', 'Uusi museo')
            assert site.catalog.generation() is None  # changed here and not yet committed
            tm.abort()
            assert site.catalog.generation() == committed
            _venue(site['venues'], 'uusi', 'Uusi museo')
            tm.commit()
            assert site.catalog.generation() not in (None, committed)
        finally:
            conn.close()
            db.close()


class TestNewestScan:
    def test_reading_times_in_order_sorts_as_hypatia_does(self, site, monkeypatch):
        import datetime

        from portal.catalog import query as catalog
        from portal.events import ObjectModified, notify

        base = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
        for n in range(8):
            _venue(site['venues'], f'uusi-{n}', f'Uusi {n}')
        for n, name in enumerate(sorted(site['venues'].keys())):
            venue = site['venues'][name]
            venue.modified = base + datetime.timedelta(days=n // 2)  # pairs share a time: ties
            notify(ObjectModified(venue, ['modified']))
        expected = _search(site, types=('Venue',), sort='newest', limit=10)[0]
        assert len(expected) == 10
        monkeypatch.setattr(catalog, 'TITLE_SCAN_MIN', 0)
        assert _search(site, types=('Venue',), sort='newest', limit=10)[0] == expected
        assert _search(site, types=('Venue',), sort='newest', start=3, limit=4)[0] == expected[3:7]
        assert _search(site, types=('Venue',), sort='newest', limit=100)[1].total == 12
        assert len(_search(site, types=('Venue',), sort='newest', limit=100)[0]) == 12
