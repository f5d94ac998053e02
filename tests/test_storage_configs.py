"""The storage configurations shipped in etc/ load, and an existing FileStorage moves into RelStorage with
zodbconvert as the README's "Operations" section says (when a PostgreSQL server is reachable)."""

import os
import subprocess
import sys

import pytest
import servers
import webtest
import ZConfig

from portal.resources.base import walk
from portal.testing import REPO, build_app, close_app

ETC = os.path.join(REPO, 'etc')


def _load(path, schema_xml):
    import io

    schema = ZConfig.loadSchemaFile(io.StringIO(schema_xml))
    return ZConfig.loadConfig(schema, path)[0]


def test_relstorage_conf_names_main_and_audit_databases():
    pytest.importorskip('relstorage')
    config = _load(
        os.path.join(ETC, 'relstorage.conf'),
        '<schema><import package="ZODB"/><multisection type="ZODB.database" attribute="databases"/></schema>',
    )
    names = [db.name for db in config.databases]
    assert names == ['main', 'audit']


def test_zodbconvert_conf_has_source_and_destination(tmp_path, monkeypatch):
    pytest.importorskip('relstorage')
    # Its paths are relative to the checkout, where var/ exists once the site has run.
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'var').mkdir()
    config = _load(
        os.path.join(ETC, 'zodbconvert.conf'),
        '<schema><import package="ZODB"/><import package="relstorage"/>'
        '<section type="ZODB.storage" name="source" attribute="source" required="yes"/>'
        '<section type="ZODB.storage" name="destination" attribute="destination" required="yes"/>'
        '</schema>',
    )
    assert config.source.config.path == 'var/Data.fs'
    assert config.destination.config.keep_history is False


def _paths(app):
    db = app.registry._zodb_databases['']
    with db.transaction() as conn:
        return sorted('/'.join(str(i.__name__) for i in _lineage(item)) for item in walk(conn.root()['site']))


def _lineage(item):
    chain = []
    while item is not None:
        chain.insert(0, item)
        item = item.__parent__
    return chain


def test_zodbconvert_moves_a_filestorage_into_relstorage(postgres_dsn, tmp_path):
    source_dir = tmp_path / 'filestorage'
    source_dir.mkdir()
    source = build_app(str(source_dir))
    paths = _paths(source)
    download = webtest.TestApp(source).get('/materials/kaikukortti-esite/download', status=200).body
    close_app(source)

    with open(os.path.join(ETC, 'zodbconvert.conf')) as f:
        conf = f.read()
    conf = conf.replace('var/Data.fs', f'{source_dir}/Data.fs').replace('var/blobs', f'{source_dir}/blobs')
    conf = conf.replace('var/blobcache', f'{tmp_path}/convert-blobcache')
    conf = conf.replace('dsn dbname=kaiku host=127.0.0.1 user=kaiku', f'dsn {postgres_dsn}')
    (tmp_path / 'zodbconvert.conf').write_text(conf)
    result = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), 'zodbconvert'), str(tmp_path / 'zodbconvert.conf')],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr

    uri = servers.relstorage_uri(postgres_dsn, tmp_path / 'rs')
    converted = build_app(str(tmp_path), **{'zodbconn.uri': uri, 'portal.load_on_start': 'false'})
    try:
        assert _paths(converted) == paths
        moved = webtest.TestApp(converted).get('/materials/kaikukortti-esite/download', status=200).body
        assert moved == download, 'blobs moved too'
    finally:
        close_app(converted)


@pytest.fixture
def postgres_dsn():
    dsn = os.environ.get('KAIKU_TEST_PG_DSN')
    if not dsn:
        pytest.skip('zodbconvert to RelStorage skipped: no PostgreSQL server (KAIKU_TEST_PG_DSN is not set)')
    pytest.importorskip('relstorage')
    with servers.postgres_database(dsn) as database_dsn:
        yield database_dsn
