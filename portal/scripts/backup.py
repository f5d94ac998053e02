"""``portal-backup <config> backup|restore|list``: point-in-time backups of a FileStorage and its blobs.

The ``Data.fs`` goes to a repozo repository (``python -m ZODB.scripts.repozo``, shipped with ZODB): the
first backup is full, later ones append only the transactions since the last one, and after a pack (the
file shrinks) repozo makes a full one again.  Right after the file, the blob directory is copied into a
snapshot folder named after the same backup point; blob files never change once written, so a file that
the previous snapshot has already is hard-linked from it instead of copied, and each snapshot costs only
the new blobs.  Backing up the file first and the blobs second means a snapshot may hold a few blobs newer
than its file (harmless) but never lacks one the file needs.

``restore [--date yyyy-mm-dd-hh-mm-ss] --to DIR`` writes ``DIR/Data.fs`` and ``DIR/blobs`` as they were at
the latest backup point not after that UTC moment (repozo's own rule), byte for byte.  It never writes over
an existing database: stop the application, restore beside it, then swap directories.

``<config>`` is the application's ini file (its ``zodbconn.uri`` must be a ``file://`` URI;
``portal.backup_dir`` says where backups go, by default ``backups`` beside ``Data.fs``) or, on a ZEO
server, the ``zeo.conf`` that ``runzeo`` reads.  ``--database audit`` backs up another database of the
same configuration (``zodbconn.uri.audit``, or the ZEO storage called ``audit``) into its own folder.

A RelStorage database is backed up by PostgreSQL's own means (``pg_dump``, base backups and WAL
archiving), its blobs with it; see docs/operations.md.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass

POINT_RE = re.compile(r'^([0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9]{2}-[0-9]{2}-[0-9]{2})\.(fs|deltafs)z?\Z')
SKIPPED_BLOB_ENTRIES = {'tmp'}


class BackupError(Exception):
    """A backup or restore that cannot be done, with a reason for the operator."""


@dataclass(frozen=True)
class Backup:
    """The backups of one FileStorage (``data_fs``) with its blob directory, kept in ``backup_dir``."""

    data_fs: str
    blob_dir: str | None
    backup_dir: str

    @property
    def repository(self):
        return os.path.join(self.backup_dir, 'filestorage')

    @property
    def snapshots(self):
        return os.path.join(self.backup_dir, 'blobs')

    def points(self):
        """The backup points, oldest first, as repozo's UTC time stamps ``yyyy-mm-dd-hh-mm-ss``."""
        if not os.path.isdir(self.repository):
            return []
        return sorted({m.group(1) for m in map(POINT_RE.match, os.listdir(self.repository)) if m})

    def backup(self, full=False):
        """Back up the file, then the blobs; return the new backup point (or the last one if nothing
        changed since)."""
        if not os.path.exists(self.data_fs):
            raise BackupError(f'no database at {self.data_fs}')
        os.makedirs(self.repository, exist_ok=True)
        before = self.points()
        # repozo names files by the second: never make two backup points in one second.
        while before and before[-1] >= time.strftime('%Y-%m-%d-%H-%M-%S', time.gmtime()):
            time.sleep(0.1)
        args = ['-B', '-r', self.repository, '-f', self.data_fs] + (['-F'] if full else [])
        repozo(args)
        points = self.points()
        if not points:
            raise BackupError('repozo made no backup')
        point = points[-1]
        if self.blob_dir and not os.path.isdir(os.path.join(self.snapshots, point)):
            previous = [p for p in self._snapshot_names() if p < point]
            snapshot_blobs(
                self.blob_dir,
                os.path.join(self.snapshots, point),
                os.path.join(self.snapshots, previous[-1]) if previous else None,
            )
        return point

    def _snapshot_names(self):
        if not os.path.isdir(self.snapshots):
            return []
        return sorted(name for name in os.listdir(self.snapshots) if not name.endswith('.partial'))

    def point_at(self, date=None):
        """The latest backup point at or before ``date`` (repozo's comparison), or the latest of all."""
        points = [p for p in self.points() if date is None or p <= date]
        if not points:
            raise BackupError(f'no backup at or before {date}' if date else 'no backups yet')
        return points[-1]

    def restore(self, target_dir, date=None):
        """Restore the state at ``date`` into ``target_dir``/Data.fs and ``target_dir``/blobs."""
        point = self.point_at(date)
        data_fs = os.path.join(target_dir, 'Data.fs')
        blobs = os.path.join(target_dir, 'blobs')
        for path in (data_fs, blobs):
            if os.path.exists(path):
                raise BackupError(f'{path} exists: restore into a new directory')
        os.makedirs(target_dir, exist_ok=True)
        repozo(['-R', '-r', self.repository, '-D', point, '-o', data_fs])
        if self.blob_dir:
            snapshot = os.path.join(self.snapshots, point)
            if not os.path.isdir(snapshot):
                raise BackupError(f'the blob snapshot of {point} is missing')
            shutil.copytree(snapshot, blobs)
        return point


def repozo(args):
    command = [sys.executable, '-m', 'ZODB.scripts.repozo', *args]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 - our own argv
    if result.returncode:
        raise BackupError(f'repozo {" ".join(args)} failed: {result.stderr.strip() or result.stdout.strip()}')
    return result


def snapshot_blobs(blob_dir, target, previous=None):
    """Copy ``blob_dir`` to ``target``, hard-linking files that ``previous`` holds already.

    The copy is made under a temporary name and renamed when complete, so an interrupted snapshot is
    never taken for a good one.
    """
    partial = target + '.partial'
    if os.path.exists(partial):
        shutil.rmtree(partial)
    for directory, subdirs, files in os.walk(blob_dir):
        relative = os.path.relpath(directory, blob_dir)
        if relative == '.':
            subdirs[:] = [d for d in subdirs if d not in SKIPPED_BLOB_ENTRIES]
        os.makedirs(os.path.join(partial, relative), exist_ok=True)
        for name in files:
            source = os.path.join(directory, name)
            destination = os.path.join(partial, relative, name)
            earlier = os.path.join(previous, relative, name) if previous else None
            if earlier and name.endswith('.blob') and _same_file(source, earlier):
                os.link(earlier, destination)
            else:
                shutil.copy2(source, destination)
    os.rename(partial, target)


def _same_file(path, other):
    try:
        return os.path.getsize(path) == os.path.getsize(other)
    except OSError:
        return False


def from_config(config_uri, backup_dir=None, database=None):
    """A :class:`Backup` for a database that an ini file (``file://`` URI) or a ``zeo.conf`` names.

    ``database`` picks another database than the main one: ``zodbconn.uri.<database>`` of the ini file,
    or the storage of that name in the ``zeo.conf``; its backups go into a folder of that name.
    """
    if config_uri.endswith('.conf'):
        data_fs, blob_dir = _from_zeo_conf(config_uri, database)
        configured = None
    else:
        from portal import PortalSettings
        from portal.scripts import ini_settings

        settings = ini_settings(config_uri)
        key = f'zodbconn.uri.{database}' if database else 'zodbconn.uri'
        if key not in settings:
            raise BackupError(f'{config_uri} has no {key}')
        data_fs, blob_dir = _from_file_uri(settings[key])
        configured = PortalSettings.from_settings(settings).backup_dir
    backup_dir = backup_dir or configured or os.path.join(os.path.dirname(data_fs), 'backups')
    if database:
        backup_dir = os.path.join(backup_dir, database)
    return Backup(data_fs=data_fs, blob_dir=blob_dir, backup_dir=os.path.abspath(backup_dir))


def _from_file_uri(uri):
    if not uri.startswith('file://'):
        raise BackupError(
            'portal-backup backs up a FileStorage: zodbconn.uri must be a file:// URI '
            '(on a ZEO server, give it the zeo.conf; for RelStorage use PostgreSQL backups)'
        )
    path, _, query = uri[len('file://') :].partition('?')
    blob_dir = urllib.parse.parse_qs(query).get('blobstorage_dir', [None])[0]
    return os.path.abspath(path), os.path.abspath(blob_dir) if blob_dir else None


def _from_zeo_conf(path, name=None):
    import ZConfig
    import ZEO.runzeo

    schema = ZConfig.loadSchema(os.path.join(os.path.dirname(ZEO.runzeo.__file__), 'schema.xml'))
    try:
        config, _ = ZConfig.loadConfig(schema, path)
    except ZConfig.ConfigurationError as exc:
        raise BackupError(str(exc)) from exc
    sections = [s for s in config.storages if name is None or s.name == name]
    if not sections:
        raise BackupError(f'{path} has no storage called {name}')
    storage = sections[0].config
    if not hasattr(storage, 'path'):
        raise BackupError(f'{path}: storage {sections[0].name} is not a FileStorage')
    blob_dir = getattr(storage, 'blob_dir', None)
    return os.path.abspath(storage.path), os.path.abspath(blob_dir) if blob_dir else None


def main(argv=None):
    parser = argparse.ArgumentParser(prog='portal-backup', description=__doc__.split('\n\n')[0])
    parser.add_argument('config_uri', help='the ini file (file:// storage) or a ZEO server zeo.conf')
    parser.add_argument('command', choices=('backup', 'restore', 'list'))
    parser.add_argument('--backup-dir', help='where backups are kept (default: portal.backup_dir)')
    parser.add_argument('--database', help='another database than the main one, e.g. audit')
    parser.add_argument('--full', action='store_true', help='backup: a full backup even if not needed')
    parser.add_argument('--date', help='restore: UTC yyyy-mm-dd-hh-mm-ss (default: the latest backup)')
    parser.add_argument('--to', help='restore: an empty directory for Data.fs and blobs')
    args = parser.parse_args(argv)
    try:
        backup = from_config(args.config_uri, args.backup_dir, args.database)
        if args.command == 'backup':
            point = backup.backup(full=args.full)
            print(f'backup point {point} in {backup.backup_dir}')
        elif args.command == 'list':
            for point in backup.points():
                print(point)
        else:
            if not args.to:
                parser.error('restore needs --to DIR')
            point = backup.restore(args.to, args.date)
            print(f'restored the backup point {point} into {args.to}')
    except BackupError as exc:
        print(f'portal-backup: {exc}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
