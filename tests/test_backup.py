"""Backups: ten cycles of random edits, packs and incremental backups of a FileStorage with blobs; every
backup point restores byte for byte to the database as it was at that point, blobs included."""

import hashlib
import os
import random

import pytest
import transaction
from BTrees.OOBTree import OOBTree
from ZODB import DB
from ZODB.blob import Blob
from ZODB.FileStorage import FileStorage

CYCLES = 10


def _digest(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def _blob_tree(blob_dir):
    """Every file of a blob directory (but its scratch space) with a digest of its bytes."""
    tree = {}
    for directory, subdirs, files in os.walk(blob_dir):
        relative = os.path.relpath(directory, blob_dir)
        if relative == '.':
            subdirs[:] = [d for d in subdirs if d != 'tmp']
        for name in files:
            tree[os.path.normpath(os.path.join(relative, name))] = _digest(os.path.join(directory, name))
    return tree


def _contents(db):
    """The database's logical content: every record, blobs read back."""
    tm = transaction.TransactionManager()
    conn = db.open(transaction_manager=tm)
    try:
        with tm:
            result = {}
            for key, value in conn.root()['records'].items():
                if isinstance(value, Blob):
                    with value.open('r') as f:
                        value = ('blob', f.read())
                result[key] = value
            return result
    finally:
        conn.close()


def _random_edits(db, rng, cycle):
    tm = transaction.TransactionManager()
    conn = db.open(transaction_manager=tm)
    try:
        for _ in range(rng.randint(2, 6)):
            with tm:
                records = conn.root()['records']
                for _ in range(rng.randint(1, 15)):
                    action = rng.random()
                    keys = list(records.keys())
                    if keys and action < 0.2:
                        del records[rng.choice(keys)]
                    elif keys and action < 0.45:
                        key = rng.choice(keys)
                        if isinstance(records[key], Blob):
                            with records[key].open('w') as f:
                                f.write(rng.randbytes(rng.randint(1, 5000)))
                        else:
                            records[key] = f'changed in cycle {cycle}: {rng.random()}'
                    elif action < 0.7:
                        blob = Blob()
                        with blob.open('w') as f:
                            f.write(rng.randbytes(rng.randint(1, 20000)))
                        records[f'blob-{cycle}-{rng.randrange(10**6)}'] = blob
                    else:
                        records[f'text-{cycle}-{rng.randrange(10**6)}'] = 'x' * rng.randint(0, 3000)
                tm.get().note(f'cycle {cycle}')
    finally:
        conn.close()


@pytest.fixture
def database(tmp_path):
    data_fs, blobs = str(tmp_path / 'db' / 'Data.fs'), str(tmp_path / 'db' / 'blobs')
    os.makedirs(os.path.dirname(data_fs))
    db = DB(FileStorage(data_fs, blob_dir=blobs))
    with db.transaction() as conn:
        conn.root()['records'] = OOBTree()
    yield db, data_fs, blobs
    db.close()


def test_every_restore_is_byte_identical(database, tmp_path):
    from portal.scripts.backup import Backup

    db, data_fs, blobs = database
    backup = Backup(data_fs=data_fs, blob_dir=blobs, backup_dir=str(tmp_path / 'backups'))
    rng = random.Random(8)
    expected = {}
    kinds = []
    for cycle in range(CYCLES):
        _random_edits(db, rng, cycle)
        if cycle % 3 == 2:
            db.pack()
        files_before = set(os.listdir(backup.repository)) if os.path.isdir(backup.repository) else set()
        point = backup.backup()
        new_files = set(os.listdir(backup.repository)) - files_before
        kinds.append('full' if any(name.endswith('.fs') for name in new_files) else 'incremental')
        assert point not in expected, 'each cycle makes a new backup point'
        expected[point] = (_digest(data_fs), _blob_tree(blobs), _contents(db))

    assert kinds[0] == 'full'
    assert 'incremental' in kinds, kinds
    assert kinds.count('full') >= 1 + CYCLES // 3, 'a pack is followed by a full backup'
    assert backup.points() == sorted(expected)

    for number, (point, (fs_digest, blob_tree, contents)) in enumerate(sorted(expected.items())):
        target = tmp_path / f'restored{number}'
        assert backup.restore(str(target), point) == point
        assert _digest(target / 'Data.fs') == fs_digest, f'Data.fs of {point}'
        assert _blob_tree(target / 'blobs') == blob_tree, f'blobs of {point}'
        restored = DB(FileStorage(str(target / 'Data.fs'), blob_dir=str(target / 'blobs'), read_only=True))
        try:
            assert _contents(restored) == contents, f'content of {point}'
        finally:
            restored.close()

    # A date between two backup points restores the earlier one.
    points = sorted(expected)
    assert backup.point_at(points[3] + 'z') == points[3]


def test_blob_snapshots_share_unchanged_files(database, tmp_path):
    from portal.scripts.backup import Backup

    db, data_fs, blobs = database
    backup = Backup(data_fs=data_fs, blob_dir=blobs, backup_dir=str(tmp_path / 'backups'))
    _random_edits(db, random.Random(1), 0)
    first = backup.backup()
    with db.transaction() as conn:
        conn.root()['records']['one-more'] = 'text'
    second = backup.backup()
    shared = [
        name
        for name in _blob_tree(os.path.join(backup.snapshots, first))
        if name.endswith('.blob')
        and os.path.samefile(
            os.path.join(backup.snapshots, first, name), os.path.join(backup.snapshots, second, name)
        )
    ]
    assert shared, 'unchanged blobs are hard links, not copies'


def test_script_backs_up_lists_and_restores(tmp_path, capsys):
    from portal.scripts.backup import main
    from portal.testing import app_settings, build_app, close_app

    directory = tmp_path / 'site'
    directory.mkdir()
    close_app(build_app(str(directory)))
    settings = app_settings(str(directory), **{'portal.backup_dir': str(tmp_path / 'backups')})
    ini = tmp_path / 'site.ini'
    ini.write_text(
        '[app:main]\nuse = egg:kaiku-portal\n' + ''.join(f'{k} = {v}\n' for k, v in settings.items())
    )
    assert main([str(ini), 'backup']) == 0
    assert 'backup point' in capsys.readouterr().out
    assert main([str(ini), 'list']) == 0
    points = capsys.readouterr().out.split()
    assert len(points) == 1
    assert main([str(ini), 'restore', '--to', str(tmp_path / 'restored')]) == 0
    assert _digest(tmp_path / 'restored' / 'Data.fs') == _digest(directory / 'Data.fs')
    # Never over an existing database, and never from before the first backup.
    assert main([str(ini), 'restore', '--to', str(tmp_path / 'restored')]) == 1
    assert 'exists' in capsys.readouterr().err
    assert main([str(ini), 'restore', '--date', '2000-01-01', '--to', str(tmp_path / 'old')]) == 1
    assert 'no backup at or before 2000-01-01' in capsys.readouterr().err


def test_zeo_conf_names_the_server_file(tmp_path, monkeypatch):
    from portal.scripts.backup import from_config
    from portal.testing import REPO

    # runzeo reads the paths of etc/zeo.conf relative to the directory it is started in.
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'var' / 'zeo').mkdir(parents=True)
    backup = from_config(os.path.join(REPO, 'etc', 'zeo.conf'))
    assert backup.data_fs == str(tmp_path / 'var' / 'zeo' / 'Data.fs')
    assert backup.blob_dir == str(tmp_path / 'var' / 'zeo' / 'blobs')
    assert backup.backup_dir == str(tmp_path / 'var' / 'zeo' / 'backups')
    audit = from_config(os.path.join(REPO, 'etc', 'zeo.conf'), database='audit')
    assert audit.data_fs == str(tmp_path / 'var' / 'zeo' / 'Audit.fs')
    assert audit.blob_dir is None
    assert audit.backup_dir == str(tmp_path / 'var' / 'zeo' / 'backups' / 'audit')


def test_a_second_database_of_an_ini_file(tmp_path):
    from portal.scripts.backup import from_config

    ini = tmp_path / 'two.ini'
    ini.write_text(
        '[app:main]\nuse = egg:kaiku-portal\n'
        f'zodbconn.uri = file://{tmp_path}/Data.fs?blobstorage_dir={tmp_path}/blobs\n'
        f'zodbconn.uri.audit = file://{tmp_path}/Audit.fs\n'
        f'portal.backup_dir = {tmp_path}/backups\n'
    )
    audit = from_config(str(ini), database='audit')
    assert (audit.data_fs, audit.blob_dir) == (str(tmp_path / 'Audit.fs'), None)
    assert audit.backup_dir == str(tmp_path / 'backups' / 'audit')


def test_other_storages_are_refused(tmp_path, capsys):
    from portal.scripts.backup import main

    ini = tmp_path / 'zeo.ini'
    ini.write_text('[app:main]\nuse = egg:kaiku-portal\nzodbconn.uri = zeo://127.0.0.1:8100\n')
    assert main([str(ini), 'backup']) == 1
    assert 'file:// URI' in capsys.readouterr().err
