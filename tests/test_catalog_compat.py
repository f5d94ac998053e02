"""A database made before ``portal.catalog`` became a package still opens, searches and reindexes.

hypatia pickled the indexes' discriminators and the lexicons' pipeline elements as
``portal.catalog.IndexView``, ``portal.catalog.FoldingSplitter`` and ``portal.catalog.Stemmer``;
``tests/data/catalog-before-package.fs`` was made by that code (``tests/data/make_catalog_before_package.py``
at commit 7362c56) and must keep working with the package.
"""

import os
import shutil

import pytest
from pyramid.authorization import Everyone

DATA = os.path.join(os.path.dirname(__file__), 'data', 'catalog-before-package.fs')


@pytest.fixture
def old_site(config, tmp_path):
    import ZODB
    import ZODB.FileStorage

    config.include('portal.resources')
    config.include('portal.catalog')
    path = tmp_path / 'Data.fs'
    shutil.copy(DATA, path)
    db = ZODB.DB(ZODB.FileStorage.FileStorage(str(path)))
    conn = db.open()
    yield conn.root()['site']
    conn.transaction_manager.abort()
    conn.close()
    db.close()


def _find(site, text='', **kw):
    from portal.catalog import Query, search

    result = search(site.catalog, [Everyone], Query(text=text, **kw))
    return sorted(site.catalog.paths[docid] for docid in result.docids)


def test_the_stored_pickles_name_the_old_module():
    with open(DATA, 'rb') as f:
        data = f.read()
    for name in (b'IndexView', b'FoldingSplitter', b'Stemmer', b'SiteCatalog'):
        assert b'cportal.catalog\n' + name + b'\n' in data, name


def test_old_database_opens_and_searches(old_site):
    from portal.catalog import IndexView, SiteCatalog

    catalog = old_site.catalog
    assert isinstance(catalog, SiteCatalog)
    assert isinstance(catalog['text_fi'].discriminator, IndexView)
    assert _find(old_site, 'uimahalliin') == ['/venues/museo', '/venues/uimahalli']  # stemmed card benefit
    assert _find(old_site, 'kalastajakylän') == ['/venues/museo']
    assert _find(old_site, types=('Venue',), filters={'categories': ['swimming']}) == ['/venues/uimahalli']


def test_old_database_reindexes_with_the_declared_views(old_site):
    from portal.events import ObjectModified, notify

    venue = old_site['venues']['museo']
    notify(ObjectModified(venue, venue.update({'title': 'Kotiseututalo', 'categories': ('music',)})))
    assert _find(old_site, 'kotiseututalo') == ['/venues/museo']
    assert _find(old_site, 'kalastajakylän') == []
    assert _find(old_site, types=('Venue',), filters={'categories': ['music']}) == ['/venues/museo']
    assert old_site.catalog.ensure_indexes() == []  # every declared index was there
    assert old_site.catalog.rebuild(old_site) == 3
    assert _find(old_site, 'kotiseututalo') == ['/venues/museo']


def test_indexing_outside_a_configured_application_fails_loudly(old_site):
    from pyramid.registry import Registry
    from pyramid.threadlocal import manager

    venue = old_site['venues']['museo']
    manager.push({'registry': Registry('bare'), 'request': None})
    try:
        with pytest.raises(RuntimeError, match='declares no index views'):
            old_site.catalog.index(venue)
    finally:
        manager.pop()
