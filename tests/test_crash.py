"""Crash safety: an app process on the embedded FileStorage is killed (SIGKILL) in the middle of a stream
of committed edits, twenty times.  Every edit whose answer came back is in the database after the
restart, and ``fstest`` finds the file sound.

An edit whose request was cut off by the kill may or may not have been committed; the test only requires
that such an edit is never half there (it is a transaction: all or nothing, which fstest checks).
"""

import http.client
import random
import subprocess
import sys
import threading
import time

import servers

KILLS = 20
STREAMS = 2


def _stream(port, prefix, acknowledged, stop):
    """Send edits one after another until the process dies; record those answered with 200."""
    client = servers.Client(port, timeout=10)
    number = 0
    try:
        while not stop.is_set():
            edit_id = f'{prefix}-{number}'
            status, _ = client.request('POST', '/__test__/edit', {'id': edit_id, 'value': 'x' * 200})
            assert status == 200, status
            acknowledged.append(edit_id)
            number += 1
    except (OSError, http.client.HTTPException):
        pass  # the process was killed under us
    finally:
        client.close()


def _open_and_close(path):
    from ZODB.FileStorage import FileStorage

    FileStorage(str(path)).close()


def _fstest(path):
    return subprocess.run(
        [sys.executable, '-m', 'ZODB.scripts.fstest', '-v', str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_sigkill_during_edits_loses_no_acknowledged_edit(tmp_path):
    uri = servers.file_uri(tmp_path)
    rng = random.Random(20261129)
    acknowledged = []
    for round_number in range(KILLS):
        process = servers.start_test_app(uri, tmp_path / 'app.log', load=round_number == 0)
        client = servers.Client(process.port)
        present = set(client.json('/__test__/edits')['ids'])
        client.close()
        missing = set(acknowledged) - present
        assert not missing, f'after restart {round_number}: {len(missing)} acknowledged edits lost'

        stop = threading.Event()
        before = len(acknowledged)
        threads = [
            threading.Thread(target=_stream, args=(process.port, f'r{round_number}s{n}', acknowledged, stop))
            for n in range(STREAMS)
        ]
        for thread in threads:
            thread.start()
        time.sleep(rng.uniform(0.15, 0.5))
        servers.kill(process)
        stop.set()
        for thread in threads:
            thread.join(15)
        assert len(acknowledged) > before, 'edits were committed while the process ran'
        # A kill in the middle of a commit may leave the unfinished transaction's bytes at the end of the
        # file; opening the storage (as the restart does) cuts them off.  After that the file is sound.
        _open_and_close(tmp_path / 'Data.fs')
        result = _fstest(tmp_path / 'Data.fs')
        assert result.returncode == 0, f'after kill {round_number}: {result.stdout}{result.stderr}'

    process = servers.start_test_app(uri, tmp_path / 'app.log')
    try:
        client = servers.Client(process.port)
        present = set(client.json('/__test__/edits')['ids'])
        client.close()
    finally:
        servers.stop(process)
    assert set(acknowledged) <= present, 'no acknowledged edit is lost'
    print(f'{KILLS} kills, {len(acknowledged)} acknowledged edits, all there; {len(present)} in the database')
    result = _fstest(tmp_path / 'Data.fs')
    assert result.returncode == 0, result.stdout + result.stderr
