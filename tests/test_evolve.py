"""Evolve steps: a database made by the previous release's code upgrades without losing anything."""

import transaction
from persistent.mapping import PersistentMapping

from portal.resources.base import walk


def _open(app):
    db = app.registry._zodb_databases['']
    tm = transaction.TransactionManager()
    conn = db.open(transaction_manager=tm)
    return db, tm, conn


def _state(item):
    """Everything an item stores, with persistent sub-objects turned into plain values."""
    item._p_activate()
    state = {}
    for key, value in item.__dict__.items():
        if key in ('__parent__', 'data', '_num_items'):
            continue
        if isinstance(value, PersistentMapping):
            value = {k: dict(v) if isinstance(v, dict) else v for k, v in value.items()}
        state[key] = value
    return state


def _snapshot(site):
    return {_path(item): _state(item) for item in walk(site)}


def _path(item):
    names = []
    while item is not None and item.__name__ is not None:
        names.append(item.__name__)
        item = item.__parent__
    return '/'.join(reversed(names))


def _make_previous_release(app):
    """Turn a fresh database into one the previous release would have made: no stored ``creator`` or
    ``exclude_from_nav`` on items and no generation mark in the root."""
    from portal.evolve import GENERATION_KEY

    db, tm, conn = _open(app)
    with tm:
        root = conn.root()
        del root[GENERATION_KEY]
        for item in walk(root['site']):
            item._p_activate()
            item.__dict__.pop('creator', None)
            item.__dict__.pop('exclude_from_nav', None)
            item._p_changed = True
        snapshot = _snapshot(root['site'])
    conn.close()
    return db, snapshot


def test_the_numbered_steps_keep_their_order_and_say_what_they_do(make_app):
    from portal.evolve import NUMBERED_STEPS, steps

    declared = [step.name for step in steps(make_app().registry)]
    assert [name for name in declared if name in NUMBERED_STEPS] == list(NUMBERED_STEPS)
    for step in steps(make_app().registry):
        assert step.title and step.title != step.name, 'each step says what it does'


def test_new_database_has_had_every_step(make_app):
    from portal.evolve import GENERATION_KEY, NUMBERED_STEPS, pending

    app = make_app()
    _, tm, conn = _open(app)
    with tm:
        assert pending(conn.root(), app.registry) == []
        assert conn.root()[GENERATION_KEY] == len(NUMBERED_STEPS)  # what older code reads
    conn.close()


def test_previous_release_database_upgrades_without_loss(make_app):
    from portal.evolve import NUMBERED_STEPS, evolve, pending

    app = make_app()
    db, before = _make_previous_release(app)
    assert len(before) > 5, 'the initial content gives the step something to do'
    assert all('creator' not in state for state in before.values())

    assert evolve(db, app.registry) == list(NUMBERED_STEPS)

    _, tm, conn = _open(app)
    with tm:
        root = conn.root()
        assert pending(root, app.registry) == []
        after = _snapshot(root['site'])
    conn.close()
    assert after.keys() == before.keys()
    for path, state in after.items():
        assert state.pop('creator') is None
        assert state.pop('exclude_from_nav') in (True, False)
        assert state == before[path], path
    # Each step ran in its own transaction, with a note saying which step it was.
    notes = [entry['description'] for entry in db.undoLog(0, 20)]
    assert any('evolve step portal.step0001_item_attributes' in note for note in notes), notes
    # A second run has nothing to do.
    assert evolve(db, app.registry) == []


def test_upgrade_runs_at_start(tmp_path):
    from portal.evolve import pending
    from portal.testing import build_app, close_app

    directory = str(tmp_path)
    app = build_app(directory)
    _, before = _make_previous_release(app)
    close_app(app)

    app = build_app(directory)
    try:
        _, tm, conn = _open(app)
        with tm:
            root = conn.root()
            assert pending(root, app.registry) == []
            for item in walk(root['site']):
                item._p_activate()
                assert 'creator' in item.__dict__
                assert 'exclude_from_nav' in item.__dict__
            assert len(_snapshot(root['site'])) == len(before)
        conn.close()
    finally:
        close_app(app)


def test_evolve_script(tmp_path, capsys):
    from portal.scripts.evolve import main
    from portal.testing import app_settings, build_app, close_app

    directory = str(tmp_path)
    app = build_app(directory)
    _make_previous_release(app)
    close_app(app)
    settings = app_settings(directory)
    ini = tmp_path / 'test.ini'
    ini.write_text(
        '[app:main]\nuse = egg:kaiku-portal\n'
        + ''.join(f'{key} = {value}\n' for key, value in settings.items() if key != 'portal.content_dir')
    )
    assert main([str(ini), '--status']) == 0
    assert 'pending: portal.step0001_item_attributes' in capsys.readouterr().out
    assert main([str(ini)]) == 0
    out = capsys.readouterr().out
    assert 'ran evolve step portal.step0001_item_attributes' in out
    assert main([str(ini)]) == 0
    assert 'ran evolve step' not in capsys.readouterr().out


def test_a_site_from_before_the_catalog_gets_one_with_everything_indexed(make_app):
    from portal.catalog import SiteCatalog
    from portal.evolve import GENERATION_KEY, NUMBERED_STEPS, evolve

    app = make_app()
    db, tm, conn = _open(app)
    with tm:
        root = conn.root()
        root[GENERATION_KEY] = 1
        del root['site'].catalog
        items = sum(1 for _ in walk(root['site'])) - 1
    conn.close()
    assert evolve(db, app.registry) == list(NUMBERED_STEPS[1:])
    _, tm, conn = _open(app)
    with tm:
        catalog = conn.root()['site'].catalog
        assert isinstance(catalog, SiteCatalog)
        assert len(catalog.objects) == items
    conn.close()


def test_a_catalog_from_before_the_public_index_gets_it_filled_and_a_change_counter(make_app):
    from pyramid.authorization import Everyone

    from portal.catalog import Query, search
    from portal.evolve import GENERATION_KEY, NUMBERED_STEPS, evolve

    app = make_app()
    db, tm, conn = _open(app)
    with tm:
        root = conn.root()
        root[GENERATION_KEY] = 2
        catalog = root['site'].catalog
        del catalog['public']
        del catalog.changes
        del catalog.token
        query = Query(types=('Page', 'Folder', 'Venue'), limit=1000)
        general = search(catalog, [Everyone], query)
        assert catalog.generation() is None
    conn.close()
    assert evolve(db, app.registry) == list(NUMBERED_STEPS[2:])
    _, tm, conn = _open(app)
    with tm:
        catalog = conn.root()['site'].catalog
        assert 'public' in catalog
        assert catalog.generation() is not None
        fast = search(catalog, [Everyone], query)
        assert general.total > 0
        assert (fast.total, fast.docids) == (general.total, general.docids)
    conn.close()
