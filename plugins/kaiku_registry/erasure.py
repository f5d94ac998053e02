"""The steps after an erasure (:meth:`kaiku_registry.cards.CardLife.erase_card`) that remove the old
copies a database and its backups keep of what was erased.

ZODB keeps every earlier revision of an object until the database is packed, FileStorage keeps the file
before a pack as ``Data.fs.old`` and the bytes of its largest transaction so far in ``Data.fs.tmp`` (emptied
only when the storage is opened again), PostgreSQL keeps a deleted or updated row's bytes in its table files
until ``VACUUM FULL`` rewrites them, and backups keep what they copied.  :func:`after_erasure` packs the
content and the audit databases with no history (days=0), deletes the ``.old`` files, rewrites the tables of
a RelStorage database, makes a new full backup of each FileStorage and deletes the backup points before it
(``kaiku-registry <ini> erase-pack``).
"""

import os
import shutil


def pack_without_history(uri):
    """Pack the database at the zodburi ``uri`` keeping no earlier revisions; a FileStorage's ``.old`` copy
    of the file before the pack is deleted, a RelStorage database's tables rewritten.  Returns ``(paths
    deleted, statements run on PostgreSQL or None)``."""
    import zodburi
    from ZODB import DB

    factory, kw = zodburi.resolve_uri(uri)
    db = DB(factory(), **kw)
    try:
        db.pack(days=0)
        path = getattr(db.storage, '_file_name', None)
        rewritten = rewrite_postgresql(db.storage)
    finally:
        db.close()
    deleted = []
    if path and os.path.exists(path + '.old'):
        os.remove(path + '.old')
        deleted.append(path + '.old')
    return deleted, rewritten


def rewrite_postgresql(storage):
    """Rewrite the tables of a RelStorage database on PostgreSQL (``VACUUM FULL``) and write its pages to
    disk (``CHECKPOINT``, when the user may).  A pack deletes the rows of earlier revisions, but PostgreSQL
    keeps a deleted or updated row's bytes in the table's file until the file is rewritten: an erased
    card's code and postcode were still in ``object_state``'s file after the pack and after a plain
    ``VACUUM`` (which only marks the space free), and gone after ``VACUUM FULL``.  Returns the statements
    run, or None when the storage is not RelStorage on PostgreSQL."""
    adapter = getattr(storage, '_adapter', None)
    dsn = getattr(adapter, '_dsn', None)
    if dsn is None or 'postgresql' not in type(adapter).__module__:
        return None
    import psycopg2

    conn = psycopg2.connect(dsn)
    try:
        conn.autocommit = True  # VACUUM cannot run inside a transaction
        done = []
        with conn.cursor() as cursor:
            cursor.execute('VACUUM FULL')
            done.append('VACUUM FULL')
            try:
                cursor.execute('CHECKPOINT')
                done.append('CHECKPOINT')
            except psycopg2.Error:  # a superuser's or pg_checkpoint's right; the rewrite stands without it
                pass
    finally:
        conn.close()
    return done


def drop_older_backups(backup, point):
    """Delete every backup point of ``backup`` (a :class:`portal.scripts.backup.Backup`) before
    ``point``: repozo's files and the blob snapshots.  Returns the points deleted."""
    older = [each for each in backup.points() if each < point]
    for name in os.listdir(backup.repository):
        if any(name.startswith(each) for each in older):
            os.remove(os.path.join(backup.repository, name))
    for each in older:
        snapshot = os.path.join(backup.snapshots, each)
        if os.path.isdir(snapshot):
            shutil.rmtree(snapshot)
    return older


def after_erasure(config_uri, settings, say=print):
    """The steps after an erasure, for the databases an ini file names (see the module docstring)."""
    from portal.scripts.backup import BackupError, from_config

    databases = [(None, settings['zodbconn.uri'])]
    if settings.get('zodbconn.uri.audit'):
        databases.append(('audit', settings['zodbconn.uri.audit']))
    for name, uri in databases:
        label = name or 'main'
        deleted, rewritten = pack_without_history(uri)
        for path in deleted:
            say(f'{label}: deleted {path}')
        say(f'{label}: packed with no history')
        if rewritten is not None:
            say(
                f'{label}: PostgreSQL tables rewritten ({", ".join(rewritten)}); its write-ahead log and '
                'its backups keep the erased rows until they age out (README, "Erasing personal data")'
            )
            continue
        if not uri.startswith('file://'):
            say(
                f'{label}: not a FileStorage here: on a ZEO server delete its Data.fs.old, restart it (its '
                'Data.fs.tmp keeps bytes of earlier transactions until the storage is opened again), back '
                'it up and delete older backups there (README, "Erasing personal data")'
            )
            continue
        try:
            backup = from_config(config_uri, database=name)
            point = backup.backup(full=True)
        except BackupError as e:
            raise SystemExit(f'{label}: {e}') from e
        dropped = drop_older_backups(backup, point)
        say(f'{label}: full backup {point}; {len(dropped)} older backup points deleted')
