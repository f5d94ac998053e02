"""Search as people type it: every example of issue #15's first paragraph, on the initial content.

The site is built from ``content/`` (its sample venues and pages), as a new user meets it.  The catalogue
is read through its page and its open data, site search through its page.
"""

import pytest

# ``app`` and ``testapp`` are the shared fixtures of portal.testing: the site built from content/, read
# through requests that never commit.


def found(testapp, q, **params):
    """The names of the venues a catalogue search finds, in order, and the whole answer."""
    data = testapp.get('/venues/search.json', params={'q': q, **params}).json
    return [item['name'] for item in data['items']], data


def venues_with(app, **facts):
    """The names of the venues whose attribute holds each given value (a fact, not a text match)."""
    conn = app.registry._zodb_databases[''].open()
    try:
        venues = conn.root()['site']['venues']
        names = set()
        for name, venue in venues.items():
            if all(value in (getattr(venue, key) if key != 'municipality' else [venue.municipality])
                   for key, value in facts.items()):  # fmt: skip
                names.add(name)
        return names
    finally:
        conn.close()


class TestFinnishCompoundsAndInflection:
    def test_museo_finds_the_art_museum(self, testapp):
        assert 'tuulensuun-taidemuseo' in found(testapp, 'museo')[0]

    def test_sirkus_finds_the_summer_circus_and_so_does_its_inflected_form(self, testapp):
        assert found(testapp, 'sirkus')[0] == ['kuutamorannan-kesasirkus']
        assert found(testapp, 'sirkukseen')[0] == ['kuutamorannan-kesasirkus']

    def test_tanssi_finds_the_dance_theatre(self, testapp):
        assert 'tahtikummun-tanssiteatteri' in found(testapp, 'tanssi')[0]

    def test_a_whole_word_ranks_above_a_compound_part(self, testapp):
        names = found(testapp, 'taidemuseo')[0]
        assert names[0] == 'tuulensuun-taidemuseo'

    def test_esteeton_finds_every_step_free_venue(self, app, testapp):
        step_free = venues_with(app, accessibility='step_free')
        assert len(step_free) >= 45
        _names, data = found(testapp, 'esteetön', page=1)
        assert data['total'] >= len(step_free)
        everything = set()
        for page in range(1, data['pages'] + 1):
            everything |= set(found(testapp, 'esteettömät', page=page)[0])
        assert step_free <= everything


class TestPlaces:
    @pytest.mark.parametrize(
        ('q', 'municipality'),
        [
            ('uimahalli kajaanissa', 'Kajaani'),
            ('forssassa', 'Forssa'),
            ('nokialla', 'Nokia'),
            ('Tampereen museot', 'Tampere'),
            ('teater i Tammerfors', 'Tampere'),
            ('Kajanas bibliotek', 'Kajaani'),
            ('Esbo', 'Espoo'),
        ],
    )
    def test_an_inflected_place_name_becomes_the_filter(self, app, testapp, q, municipality):
        names, data = found(testapp, q)
        assert names, q
        assert set(names) <= venues_with(app, municipality=municipality)
        assert [entry['value'] for entry in data['facets']['municipality']] == [municipality]

    def test_swimming_hall_in_kajaani_is_that_one(self, app, testapp):
        expected = venues_with(app, municipality='Kajaani', categories='swimming')
        assert set(found(testapp, 'uimahalli kajaanissa')[0]) == expected == {'lumikorven-uimahalli'}

    def test_a_chosen_municipality_is_kept_and_the_word_stays_text(self, testapp):
        data = found(testapp, 'kajaanissa', municipality='Forssa')[1]
        assert data['total'] == 0

    def test_a_place_without_venues_says_so_by_name_and_links_to_joining(self, testapp):
        res = testapp.get('/venues/', params={'q': 'uimahalli jyväskylässä', 'lang': 'fi'})
        notice = res.html.select_one('.no-place')
        assert 'Jyväskylä' in notice.get_text()
        assert 'ei ole vielä Kaikukortin kohteita' in notice.get_text()
        assert any(a['href'].endswith('/kunnille/') for a in notice.select('a'))
        testapp.get(notice.select('a')[-1]['href'], status=200)

    def test_a_place_with_venues_has_no_such_notice(self, testapp):
        res = testapp.get('/venues/', params={'q': 'uimahalli kajaanissa', 'lang': 'fi'})
        assert res.html.select_one('.no-place') is None

    def test_municipality_facet_and_rows_show_the_swedish_name_on_swedish_pages(self, testapp):
        res = testapp.get('/venues/', params={'municipality': 'Kajaani', 'lang': 'sv'})
        facet = res.html.select_one('#facet-municipality').find_parent('nav')
        assert 'Kajana' in facet.get_text() and 'Kajaani' not in facet.get_text()
        assert all(meta.get_text().startswith('Kajana') for meta in res.html.select('.results .meta'))
        res = testapp.get('/venues/', params={'municipality': 'Kajaani', 'lang': 'fi'})
        assert 'Kajaani' in res.html.select_one('#facet-municipality').find_parent('nav').get_text()


class TestSwedishAndEnglishWords:
    @pytest.mark.parametrize(
        ('q', 'category'),
        [
            ('simhall', 'swimming'),
            ('teater', 'theatre'),
            ('bibliotek', 'library'),
            ('museum', 'museum'),
            ('swimming', 'swimming'),
            ('swimming pool', 'swimming'),
            ('theatre', 'theatre'),
        ],
    )
    def test_finnish_only_venues_are_found_by_their_category_words(self, app, testapp, q, category):
        names = found(testapp, q)[0]
        assert set(names) == venues_with(app, categories=category), q

    def test_accessible_in_swedish_and_english(self, app, testapp):
        step_free = venues_with(app, accessibility='step_free')
        for q in ('tillgänglig', 'accessible'):
            assert found(testapp, q)[1]['total'] >= len(step_free), q

    def test_the_swedish_hint_finds_what_it_suggests(self, testapp):
        assert found(testapp, 'simhall', lang='sv')[1]['total'] > 0


class TestSpelling:
    def test_one_edit_is_corrected_and_the_correction_is_shown(self, app, testapp):
        names, _data = found(testapp, 'uimahali')
        assert set(names) == venues_with(app, categories='swimming')
        res = testapp.get('/venues/', params={'q': 'uimahali', 'lang': 'fi'})
        assert 'Näytetään tulokset haulle uimahalli' in ' '.join(
            res.html.select_one('.corrected').get_text().split()
        )
        res = testapp.get('/venues/', params={'q': 'uimahali', 'lang': 'sv'})
        assert 'Visar resultat för uimahalli' in ' '.join(
            res.html.select_one('.corrected').get_text().split()
        )

    @pytest.mark.parametrize(
        ('q', 'category'), [('tetaer', 'theatre'), ('swiming', 'swimming'), ('musem', 'museum')]
    )
    def test_swedish_and_english_misspellings_are_corrected_by_their_stems(self, app, testapp, q, category):
        names = found(testapp, q)[0]
        assert set(names) == venues_with(app, categories=category), q

    @pytest.mark.parametrize(
        ('q', 'meant'),
        [
            ('teaterissa', 'teatterissa'),
            ('kansalaisopsitoon', 'kansalaisopistoon'),
            ('uimahallisa', 'uimahallissa'),
        ],
    )
    def test_a_misspelt_inflected_finnish_word_is_corrected_by_voikkos_speller(self, testapp, q, meant):
        """No indexed word is one edit away from a misspelt inflected form: Voikko's speller gives its
        spellings, and the first that finds anything is searched for and shown."""
        names = found(testapp, q)[0]
        assert names and set(names) == set(found(testapp, meant)[0]), q
        res = testapp.get('/venues/', params={'q': q, 'lang': 'fi'})
        assert res.html.select_one('.corrected').get_text().split()[-1] != q

    def test_a_known_word_is_not_corrected(self, testapp):
        res = testapp.get('/venues/', params={'q': 'uimahalli', 'lang': 'fi'})
        assert res.html.select_one('.corrected') is None

    def test_two_edits_away_is_not_guessed(self, testapp):
        assert found(testapp, 'uimhali')[1]['total'] == 0


class TestSiteSearch:
    def _paths(self, testapp, q):
        res = testapp.get('/search', params={'q': q})
        return [a['href'].split('example.com', 1)[1].rstrip('/') for a in res.html.select('.listing-title a')]

    def test_lapset_ranks_the_card_holders_page_above_any_venue(self, testapp):
        paths = self._paths(testapp, 'lapset')
        assert paths[0] == '/kortinhaltijalle'

    def test_a_question_finds_the_pages_that_answer_it(self, testapp):
        paths = self._paths(testapp, 'saako lapsi ilmaisen lipun')
        assert {'/kortinhaltijalle', '/kaikukortti'} <= set(paths[:5])
        assert not paths[0].startswith('/venues/')

    @pytest.mark.parametrize(
        ('q', 'page'),
        [
            ('lippu', '/kortinhaltijalle'),
            ('liput', '/kortinhaltijalle'),
            ('kortinjakaja', '/kortinjakajille'),
            ('miten kunta liittyy', '/kunnille'),
            ('kohteet', '/kohteille'),
        ],
    )
    def test_the_rules_pages_are_never_outranked_by_a_venue(self, testapp, q, page):
        paths = self._paths(testapp, q)
        assert page in paths
        first_venue = next((i for i, path in enumerate(paths) if path.startswith('/venues/')), len(paths))
        assert paths.index(page) < first_venue, paths

    def test_only_question_words_still_search(self, testapp):
        testapp.get('/search', params={'q': 'miten'}, status=200)


class TestOpenData:
    def test_every_facet_is_named_by_the_parameter_that_filters_by_it(self, testapp):
        data = found(testapp, 'museo')[1]
        assert set(data['facets']) == {'region', 'municipality', 'category', 'access'}
        for name, values in data['facets'].items():
            entry = values[0]
            assert found(testapp, 'museo', **{name: entry['value']})[1]['total'] == entry['count'], name

    def test_a_place_in_the_text_and_its_filter_give_the_same_open_data(self, testapp):
        assert found(testapp, 'museo tampereella')[0] == found(testapp, 'museo', municipality='Tampere')[0]


class TestAnalysis:
    def test_finnish_lemma_and_compound_parts(self):
        from portal.catalog.text import tokens

        assert tokens('fi', 'taidemuseoon')[:3] == ('taidemuseo', '#taide', '#museo')
        assert set(tokens('fi', 'sirkukseen')) >= {'sirkus'}
        assert tokens('fi', 'lahdessa') == ('lahti',)
        assert '#tietosuoja' in tokens('fi', 'tietosuojaselosteen')

    def test_swedish_compound_head(self):
        from portal.catalog.text import tokens

        assert tokens('sv', 'simhallen') == tokens('sv', 'simhall') == ('simhall', '#hall', '#sim')

    def test_without_voikko_finnish_falls_back_to_the_stemmer(self, monkeypatch):
        from portal.catalog import morphology, text

        def missing():
            raise ImportError('no voikko here')

        monkeypatch.setattr(morphology, 'IMPLEMENTATIONS', (('missing', missing),))
        for cached in (morphology.analyser, morphology.analyse, text.tokens):
            cached.cache_clear()
        try:
            assert morphology.analyser() == (None, None)
            assert text.tokens('fi', 'uimahalliin') == (text.stem('fi', 'uimahalliin'),)
            assert text.tokens('fi', 'uimahalliin') == text.tokens('fi', 'uimahallit')
        finally:
            monkeypatch.undo()
            for cached in (morphology.analyser, morphology.analyse, text.tokens):
                cached.cache_clear()
        assert text.tokens('fi', 'uimahalliin')[0] == 'uimahalli'

    def test_swedish_words_are_not_places_without_their_a_ring(self):
        from portal.catalog.placenames import find_places, place_of_word

        assert place_of_word('inga') is None and place_of_word('stora') is None
        assert place_of_word('Ingå')[1].name_fi == 'Inkoo'
        assert place_of_word('jyvaskylassa')[1].name_fi == 'Jyväskylä'
        found = find_places('museo Etelä-Pohjanmaalla')
        assert (found.text, found.municipality, found.region.name_fi) == ('museo', None, 'Etelä-Pohjanmaa')


class OldStemmer:
    """What the Snowball-only lexicon of older databases did: one stem a word."""

    def process(self, lst):
        from portal.catalog.text import stem

        return [stem('fi', word) for word in lst]


def test_evolve_step_rebuilds_text_indexes_made_by_the_old_analysis(app):
    import transaction
    from hypatia.text import TextIndex
    from hypatia.text.lexicon import Lexicon
    from pyramid.authorization import Everyone
    from pyramid.threadlocal import manager

    from portal.catalog import FoldingSplitter, IndexView, Query, search
    from portal.evolve.step0007_search_language import evolve

    def dance(catalog):
        result = search(catalog, [Everyone], Query(text='tanssi', types=('Venue',), limit=50))
        return {catalog.paths[docid] for docid in result.docids}

    conn = app.registry._zodb_databases[''].open()
    manager.push({'registry': app.registry, 'request': None})
    try:
        root = conn.root()
        catalog = root['site'].catalog
        old = catalog['text_fi'] = TextIndex(
            IndexView('text_fi'), lexicon=Lexicon(FoldingSplitter(), OldStemmer())
        )
        for docid, item in catalog.objects.items():
            old.index_doc(docid, item)
        assert '/venues/tahtikummun-tanssiteatteri' not in dance(catalog)
        evolve(root, app.registry)
        assert catalog['text_fi'] is not old
        assert '/venues/tahtikummun-tanssiteatteri' in dance(catalog)
    finally:
        transaction.abort()
        manager.pop()
        conn.close()


def test_the_venue_page_shows_its_place_in_the_readers_language(testapp):
    text = (
        testapp.get('/venues/lumikorven-uimahalli/', params={'lang': 'sv'})
        .html.select_one('dl.facts')
        .get_text()
    )
    assert 'Kajana' in text and 'Kajanaland' in text and 'Kajanalands välfärdsområde' in text
    assert 'Kainuun hyvinvointialue' not in text
    text = (
        testapp.get('/venues/lumikorven-uimahalli/', params={'lang': 'fi'})
        .html.select_one('dl.facts')
        .get_text()
    )
    assert 'Kajaani' in text and 'Kainuun hyvinvointialue' in text


def test_a_preposition_before_a_place_goes_with_it():
    from portal.catalog.placenames import find_places

    assert find_places('simhall i Esbo').text == 'simhall'
    assert find_places('museum in Tampere').text == 'museum'
    assert find_places('i').text == 'i'


def test_a_municipality_with_a_published_workspace_links_to_it(app, testapp):
    import transaction
    from pyramid.threadlocal import manager

    def publish(state):
        conn = app.registry._zodb_databases[''].open()
        manager.push({'registry': app.registry, 'request': None})
        try:
            site = conn.root()['site']
            workspace = site['tyotilat']['jyvaskyla']
            previous, workspace.state = workspace.state, state
            site.catalog.index(workspace)
            transaction.commit()
            return previous
        finally:
            manager.pop()
            conn.close()

    def links():
        res = testapp.get('/venues/', params={'q': 'uimahalli jyväskylässä', 'lang': 'fi'})
        return [a['href'] for a in res.html.select('.no-place a')]

    assert not any('/tyotilat/' in href for href in links())  # private: not even named
    previous = publish('published')
    try:
        assert links()[0].endswith('/tyotilat/jyvaskyla/')
        testapp.get(links()[0], status=200)
    finally:
        publish(previous)


def test_voikko_is_never_used_by_two_threads_at_once(monkeypatch):
    """libvoikko: "one instance should not be used simultaneously from multiple threads"; the site
    analyses words in every thread that searches or saves."""
    import threading
    import time

    from portal.catalog import morphology

    inside, most, lock = [0], [0], threading.Lock()

    def slow_analysis(word):
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        time.sleep(0.01)
        with lock:
            inside[0] -= 1
        return []

    monkeypatch.setattr(morphology, 'analyser', lambda: ('slow', slow_analysis))
    morphology.analyse.cache_clear()
    try:
        threads = [threading.Thread(target=morphology.analyse, args=(f'sana{n}',)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        morphology.analyse.cache_clear()
    assert most[0] == 1


def test_threads_stemming_at_once_get_the_stems_one_thread_gets():
    """A snowballstemmer stemmer keeps the word it works on in itself: threads sharing one got each
    other's stems now and then (wrong index terms, a query that misses).  Each thread has its own."""
    import sys
    import threading

    from portal.catalog import text

    words = [f'{stem}{ending}' for stem in ('simhall', 'teater', 'museum', 'bibliotek') for ending in
             ('', 'en', 'ar', 'arna', 'ens', 'et', 'ernas')] * 40  # fmt: skip
    expected = {word: text.stem.__wrapped__('sv', word) for word in words}
    wrong = []

    def work():
        for word in words:
            if text.stem.__wrapped__('sv', word) != expected[word]:
                wrong.append(word)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as the interpreter can
    try:
        threads = [threading.Thread(target=work) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert wrong == []
