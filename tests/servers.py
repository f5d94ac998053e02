"""Real servers for the scale-out, crash and backup tests and for ``bench/scale.py``.

Every server listens on a free loopback port only, writes its output to a log file beside its data, and
is stopped by the process id it was started with.
"""

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
BIN = os.path.dirname(sys.executable)
SERVE_APP = os.path.join(HERE, 'serve_app.py')


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def wait_for_port(port, process, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f'server exited with {process.returncode} before listening on {port}')
        with contextlib.suppress(OSError), socket.create_connection(('127.0.0.1', port), timeout=1):
            return
        time.sleep(0.05)
    raise RuntimeError(f'nothing listens on {port} after {timeout} s')


def stop(process, timeout=10):
    """Stop a server we started: SIGTERM, then SIGKILL if it does not go."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    log = getattr(process, 'log', None)
    if log is not None:
        log.close()


def kill(process):
    """SIGKILL: the process gets no chance to finish anything."""
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    process.log.close()


def _start(args, log_path, **kw):
    log = open(log_path, 'ab')  # noqa: SIM115 - closed by stop() or kill()
    process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=REPO, **kw)
    process.log = log
    return process


ZEO_CONF = """\
<zeo>
  address 127.0.0.1:{port}
  invalidation-queue-size 10000
</zeo>
<filestorage 1>
  path {directory}/Data.fs
  blob-dir {directory}/blobs
</filestorage>
"""


def start_zeo(directory):
    """A ZEO server on a free port with its FileStorage in ``directory``; returns ``(process, port)``."""
    os.makedirs(directory, exist_ok=True)
    port = free_port()
    conf = os.path.join(directory, 'zeo.conf')
    with open(conf, 'w') as f:
        f.write(ZEO_CONF.format(port=port, directory=directory))
    process = _start([os.path.join(BIN, 'runzeo'), '-C', conf], os.path.join(directory, 'zeo.log'))
    wait_for_port(port, process)
    return process, port


def zeo_uri(port, blob_cache):
    return (
        f'zeo://127.0.0.1:{port}?blob_dir={blob_cache}&shared_blob_dir=false'
        '&cache_size=64MB&connection_cache_size=5000&connection_pool_size=12'
    )


def file_uri(directory):
    return (
        f'file://{directory}/Data.fs?blobstorage_dir={directory}/blobs'
        '&connection_cache_size=5000&connection_pool_size=12'
    )


def start_test_app(uri, log_path, load=False, threads=4, retry=20):
    """An app process of ``tests/serve_app.py`` (the portal plus the test-only write path)."""
    port = free_port()
    args = [sys.executable, SERVE_APP, '--uri', uri, '--port', str(port), '--threads', str(threads)]
    args += ['--retry', str(retry)] + (['--load'] if load else [])
    process = _start(args, log_path)
    wait_for_port(port, process, timeout=60)
    process.port = port
    return process


class Client:
    """A keep-alive HTTP client for one app process."""

    def __init__(self, port, timeout=30):
        self.port = port
        self.timeout = timeout
        self.conn = None

    def request(self, method, path, fields=None):
        body = urllib.parse.urlencode(fields) if fields else None
        headers = {'Host': 'example.com'}
        if body is not None:
            headers['Content-Type'] = 'application/x-www-form-urlencoded'
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection('127.0.0.1', self.port, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                return response.status, response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # The server closed an idle keep-alive connection: a GET is sent again on a new one,
                # anything else is left to the caller, who knows whether it may be repeated.
                self.close()
                if attempt or method != 'GET':
                    raise
        raise AssertionError('unreachable')

    def json(self, path):
        status, body = self.request('GET', path)
        assert status == 200, (status, body[:500])
        return json.loads(body)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


RELSTORAGE_CONF = """\
%import relstorage
<zodb main>
  cache-size 5000
  pool-size 12
  <relstorage>
    blob-dir {blob_dir}
    shared-blob-dir false
    keep-history false
    <postgresql>
      dsn {dsn}
    </postgresql>
  </relstorage>
</zodb>
"""


def relstorage_uri(dsn, directory):
    """A ``zconfig://`` URI for RelStorage on the PostgreSQL database ``dsn``; blob cache in ``directory``."""
    os.makedirs(directory, exist_ok=True)
    conf = os.path.join(directory, 'relstorage.conf')
    with open(conf, 'w') as f:
        f.write(RELSTORAGE_CONF.format(dsn=dsn, blob_dir=os.path.join(directory, 'blobcache')))
    return f'zconfig://{conf}'


@contextlib.contextmanager
def postgres_database(dsn):
    """A new, empty PostgreSQL database on the server ``dsn`` names; yields its DSN, then drops it.

    libpq lets a later keyword win, so the new database's DSN is ``dsn`` with its own ``dbname`` added.
    """
    import psycopg2

    name = f'kaiku_test_{os.getpid()}_{int(time.time() * 1000) % 10**9}'
    admin = psycopg2.connect(dsn)
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE {name}')
        try:
            yield f'{dsn} dbname={name}'
        finally:
            with admin.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS {name} WITH (FORCE)')
    finally:
        admin.close()


def prepare_registry(uri, directory, cards=200, visits=0, seed=2026):
    """Give the database at ``uri`` a site, its card registry, one venue with an API token, ``cards``
    valid cards and ``visits`` visits of them (recorded yesterday), through the app's own start-up and
    model methods; returns ``(token, [card codes])``.

    It opens the database in this process (the app's start-up makes the site and registry), so a
    FileStorage must not be open in another process meanwhile.
    """
    import datetime
    import random

    import transaction

    from kaiku_registry import REGISTRY_NAME, today
    from portal import SITE_KEY
    from portal.testing import build_app, close_app

    app = build_app(str(directory), **{'zodbconn.uri': uri, 'zodbconn.uri.audit': 'memory://'})
    rng = random.Random(seed)
    try:
        conn = app.registry._zodb_databases[''].open(transaction_manager=transaction.TransactionManager())
        with conn.transaction_manager:
            registry = conn.root()[SITE_KEY][REGISTRY_NAME]
            partner = registry.add_partner('Bench city', 'municipality', 'Jyväskylä', 'Keski-Suomi')
            issuer = registry.add_site(partner, 'Bench issuer', 'issuer')
            venue = registry.add_site(partner, 'Bench venue', 'venue')
            token = registry.new_token(venue)
            issued = today() - datetime.timedelta(days=1)
            made = [
                registry.issue_card(issuer, issued, rng.randrange(1950, 2000), '40100', 2)
                for _ in range(cards)
            ]
            for number in range(visits):  # one by one, not in bulk(): random ids, as the door makes them
                registry.record_visit(made[number % cards], venue, issued, 'culture')
            codes = [card.code for card in made]
        conn.close()
    finally:
        close_app(app)
    return token, codes


def record_visit(client, token, code, sector='culture'):
    """POST one visit through the registry's API with a keep-alive connection; ``(status, body)``."""
    return post_api(client, token, '/visits', {'code': code, 'sector': sector})


def post_api(client, token, path, values):
    """POST ``values`` as JSON to the registry's API at ``path``; ``(status, body)``."""
    body = json.dumps(values)
    headers = {'Host': 'example.com', 'Content-Type': 'application/json', 'Authorization': f'Bearer {token}'}
    if client.conn is None:
        client.conn = http.client.HTTPConnection('127.0.0.1', client.port, timeout=client.timeout)
    try:
        client.conn.request('POST', '/registry/api/v1' + path, body=body, headers=headers)
        response = client.conn.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException):
        client.close()
        raise
