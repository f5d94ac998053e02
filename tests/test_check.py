"""``kaiku-registry <ini> check [--repair]`` and ``portal-reindex <ini> --check [--repair]``: each derived
structure, corrupted in a test database, is found by the check, fixed by the repair, and a second check
is clean."""

import datetime
import os
import shutil

import pytest

from portal.testing import build_app, close_app, edit_site, write_ini

SETTINGS = {'portal.load_on_start': 'true', 'zodbconn.uri.audit': 'memory://'}


def _registry_main(argv):
    from kaiku_registry.scripts import main

    return main(argv)


def _reindex_main(argv):
    from portal.scripts.reindex import main

    return main(argv)


@pytest.fixture(scope='module')
def database(tmp_path_factory):
    """A database with demo partners, sites, cards and visits (one undone), made once for the module."""
    from kaiku_registry import today
    from kaiku_registry.scripts import fill_demo

    directory = tmp_path_factory.mktemp('check')
    app = build_app(str(directory), **SETTINGS)
    try:
        with edit_site(app) as site:
            registry = fill_demo(site['registry'], today(), cards_per_issuer=4)
            visit = next(iter(registry.visits.values()))
            site_of_visit = registry.sites[visit.site_id]
            registry.undo_visit(visit, site_of_visit, now=visit.recorded_at + datetime.timedelta(minutes=1))
    finally:
        close_app(app)
    return directory / 'Data.fs'


@pytest.fixture
def ini(database, tmp_path):
    """A copy of the module's database for one test, and an ini for the scripts."""
    shutil.copy(database, tmp_path / 'Data.fs')
    return write_ini(tmp_path, **SETTINGS)


def _corrupt(ini, change):
    """Run ``change(site)`` on the test's database and commit (without an app: no start-up to wait for)."""
    import transaction
    from ZODB import DB
    from ZODB.FileStorage import FileStorage

    db = DB(FileStorage(os.path.join(os.path.dirname(ini), 'Data.fs')))
    try:
        tm = transaction.TransactionManager()
        conn = db.open(transaction_manager=tm)
        with tm:
            return change(conn.root()['site'])
    finally:
        db.close()


def _first(tree):
    return next(iter(tree.keys()))


def _drop_code(site):
    del site['registry'].card_ids_by_code[_first(site['registry'].card_ids_by_code)]


def _drop_card_of_site(site):
    ids = site['registry'].card_ids_by_site[_first(site['registry'].card_ids_by_site)]
    ids.remove(_first(ids))


def _miscount_cards(site):
    site['registry'].card_count.change(3)


def _drop_visit_of_card(site):
    ids = next(ids for ids in site['registry'].visit_ids_by_card.values() if ids)  # a used card's
    ids.remove(_first(ids))


def _drop_site_time(site):
    """What the fault test of issue 20 found: a visit missing from the door's undo list."""
    keys = site['registry'].visits_by_site_time
    keys.remove(_first(keys))


def _miscount_visits(site):
    site['registry'].visit_count.change(-1)


def _miscount_uses(site):
    registry = site['registry']
    card = registry.cards[registry.visits[_first(registry.visits)].card_id]
    card.uses += 1


def _miscount_finest_tally(site):
    tallies = site['registry'].tallies
    key = next(iter(tallies.keys(('site-month',), ('site-month', '\uffff'))))
    tallies[key].add(('adult_uses', 'sport'), 5)


def _miscount_region_tally(site):
    tallies = site['registry'].tallies
    key = next(iter(tallies.keys(('region',), ('region', '\uffff'))))
    tallies[key].add(('cards', ''), -1)


def _miscount_open_cards(site):
    from kaiku_registry.models import Tally

    tally = site['registry'].open_tallies[('all', '1999-01')] = Tally()
    tally.add(datetime.date(1999, 1, 31), 2)


CORRUPTIONS = {
    'card_ids_by_code': _drop_code,
    'card_ids_by_site': _drop_card_of_site,
    'card_count': _miscount_cards,
    'visit_ids_by_card': _drop_visit_of_card,
    'visits_by_site_time': _drop_site_time,
    'visit_count': _miscount_visits,
    'card.uses': _miscount_uses,
    'tallies ': _miscount_finest_tally,
    "tallies ('region'": _miscount_region_tally,
    'open_tallies': _miscount_open_cards,
}


def _statistics(ini):
    def read(site):
        registry = site['registry']
        measures = ('cards', 'activated', 'adult_uses', 'child_uses')
        return {measure: registry.totals(measure) for measure in measures}, registry.open_cards(
            datetime.date(2000, 1, 1)
        )

    return _corrupt(ini, read)


def test_a_sound_registry_checks_clean(ini, capsys):
    assert _registry_main([ini, 'check']) == 0
    out = capsys.readouterr().out
    assert 'registry check: 0 differences found' in out


@pytest.mark.parametrize('structure', sorted(CORRUPTIONS))
def test_check_finds_each_corruption_and_repair_fixes_it(ini, capsys, structure):
    before = _statistics(ini)
    _corrupt(ini, CORRUPTIONS[structure])
    assert _registry_main([ini, 'check']) == 1
    out = capsys.readouterr().out
    assert structure in out
    assert 'registry check: 0 differences' not in out
    assert _registry_main([ini, 'check', '--repair']) == 0
    assert 'differences repaired' in capsys.readouterr().out
    assert _registry_main([ini, 'check']) == 0
    assert 'registry check: 0 differences found' in capsys.readouterr().out
    assert _statistics(ini) == before


def _retitle_without_reindex(site):
    """A change that sent no event, so the catalog still holds the old title."""
    item = site['guides']
    item.texts[item.language] = {**item.texts[item.language], 'title': 'Muutettu otsikko'}


def _unindex(site):
    site.catalog.unindex_path('/guides')


def _stale_docid(site):
    index = site.catalog['title']
    declared = index.discriminator  # its index view needs an application's registry: none here
    index.discriminator = lambda item, default: 'Vanha otsikko'
    try:
        index.index_doc(12345, site['guides'])
    finally:
        index.discriminator = declared


CATALOG_CORRUPTIONS = {
    '/guides: text_fi, title differ': _retitle_without_reindex,
    '/guides: not indexed': _unindex,
    'index title: 1 document ids': _stale_docid,
}


@pytest.mark.parametrize('message', sorted(CATALOG_CORRUPTIONS))
def test_catalog_check_finds_and_repairs(ini, capsys, message):
    assert _reindex_main([ini, '--check']) == 0
    assert 'catalog check: 0 differences found' in capsys.readouterr().out
    _corrupt(ini, CATALOG_CORRUPTIONS[message])
    assert _reindex_main([ini, '--check']) == 1
    assert message in capsys.readouterr().out
    assert _reindex_main([ini, '--check', '--repair']) == 0
    capsys.readouterr()
    assert _reindex_main([ini, '--check']) == 0
    assert 'catalog check: 0 differences found' in capsys.readouterr().out


def test_a_registry_of_shape_3_is_upgraded_and_checks_clean(ini, capsys):
    """Shape 3 kept visits_by_site_time keyed by time, and registries older than it held only later visits."""
    from BTrees.OOBTree import OOTreeSet

    from kaiku_registry.models import SHAPE
    from portal.evolve import DONE_KEY

    def make_shape_3(site):
        registry = site['registry']
        visits = list(registry.visits.values())
        registry.visits_by_site_time = OOTreeSet(
            (visit.site_id, visit.recorded_at, visit.id) for visit in visits[len(visits) // 2 :]
        )
        registry.shape = 3
        site._p_jar.root()[DONE_KEY].remove('kaiku_registry.shape0004')  # a database from before the step

    _corrupt(ini, make_shape_3)
    assert _registry_main([ini, 'check']) == 0  # the app's start-up upgrades the registry first
    assert 'registry check: 0 differences found' in capsys.readouterr().out
    assert _corrupt(ini, lambda site: site['registry'].shape) == SHAPE


def test_a_registry_of_shape_4_opens_and_gets_its_card_stock(ini, capsys):
    """A database stored before the card stock existed upgrades on start (evolve step shape0005)."""
    from kaiku_registry.models import SHAPE
    from portal.evolve import DONE_KEY

    def make_shape_4(site):
        registry = site['registry']
        for name in ('stock_batches', 'stock_codes', 'stock_marks'):
            delattr(registry, name)
        registry.shape = 4
        site._p_jar.root()[DONE_KEY].remove('kaiku_registry.shape0005')

    _corrupt(ini, make_shape_4)
    assert _corrupt(ini, lambda site: site['registry'].stock_codes) is None
    assert _registry_main([ini, 'check']) == 0  # the app's start-up upgrades the registry first
    assert 'registry check: 0 differences found' in capsys.readouterr().out
    stored = _corrupt(ini, lambda site: (site['registry'].shape, len(site['registry'].stock_batches)))
    assert stored == (SHAPE, 0)


def test_a_registry_of_shape_5_gets_sharded_counts_and_checks_clean(ini, capsys):
    """A database stored before shape 6 (one Tally per slice, one Length of visits, the door's list as one
    tree of keys) upgrades on start (evolve step shape0006) to the same figures, and checks clean."""
    from BTrees.Length import Length

    from kaiku_registry.models import SHAPE, SiteTimeSet, Tally
    from kaiku_registry.site_days import SiteDays
    from kaiku_registry.statistics import ShardedLength, ShardedTally
    from portal.evolve import DONE_KEY

    def figures(site):
        registry = site['registry']
        tallies = {key: dict(tally.items()) for key, tally in registry.tallies.items()}
        return tallies, registry.visit_count(), sorted(registry.visits_by_site_time)

    def make_shape_5(site):
        registry = site['registry']
        for key, tally in list(registry.tallies.items()):
            plain = registry.tallies[key] = Tally()
            plain.set_counts(dict(tally.items()))
        registry.visit_count = Length(registry.visit_count())
        registry.visits_by_site_time = SiteTimeSet(registry.visits_by_site_time)
        registry.shape = 5
        site._p_jar.root()[DONE_KEY].remove('kaiku_registry.shape0006')
        return figures(site)

    before = _corrupt(ini, make_shape_5)
    assert before[1] > 0 and before[2]
    assert _registry_main([ini, 'check']) == 0  # the app's start-up upgrades the registry first
    assert 'registry check: 0 differences found' in capsys.readouterr().out

    def stored(site):
        registry = site['registry']
        kinds = {type(tally) for tally in registry.tallies.values()}
        kinds |= {type(registry.visit_count), type(registry.visits_by_site_time)}
        return registry.shape, kinds, figures(site)

    assert _corrupt(ini, stored) == (SHAPE, {ShardedTally, ShardedLength, SiteDays}, before)
