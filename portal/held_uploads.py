"""Uploads held between the rounds of a form, so a form that fails validation keeps its file.

A browser never fills a file field again: when an add or edit form came back with an error, the file
chosen for it was lost, and the item was saved without it once the error was fixed.  Now the file of a
form that fails is held on the server (:class:`HeldUploads`, deform's ``FileUploadTempStore``), the form
says so beside the field ("Tiedosto esite.pdf on tallessa; sitä ei tarvitse valita uudelleen") and
carries the file's random token, and the next round takes the held file when no new one is chosen.

The bytes lie in a directory of their own (``portal.held_upload_dir``, by default one under the
system's temporary directory), one file per token, for :data:`HOLD_SECONDS`; the session lists the
tokens it holds, so a token is of no use in another session, and a failed round cannot lose the file
with its aborted transaction.  Files older than that are removed whenever a new one is held, and a
successful save releases the session's own at once.  With several application servers the directory is
one they share.
"""

import contextlib
import io
import os
import secrets
import tempfile
import time

#: How long a held file waits for the next round of its form.
HOLD_SECONDS = 3600
#: The session's list of held files: ``{token: [filename, mimetype, held until]}``.
SESSION_KEY = 'held_uploads'
#: A session holds at most this many files; the oldest go first.
MAX_HELD = 5


def held_upload_dir(settings):
    return settings.held_upload_dir or os.path.join(tempfile.gettempdir(), 'kaiku-held-uploads')


class HeldUploads:
    """The files held for one request's session (deform's ``FileUploadTempStore``).

    deform asks for a token's file as a dict (``fp``, ``filename``, ``mimetype``, ``uid``); a held file
    comes back with its bytes in a fresh ``fp``, so the validators and the save read it as if it had
    just been sent.  A file larger than the upload limit is not held (the save refuses it anyway).
    """

    def __init__(self, request):
        self.request = request
        self.directory = held_upload_dir(request.registry.portal_settings)
        self.limit = request.registry.portal_settings.max_upload_bytes
        self.fresh = {}

    def _listed(self):
        listed = self.request.session.get(SESSION_KEY) or {}
        now = time.time()
        return {uid: entry for uid, entry in listed.items() if entry[2] > now}

    def _path(self, uid):
        return os.path.join(self.directory, uid)

    def get(self, uid, default=None):
        if uid in self.fresh:
            return self.fresh[uid]
        entry = self._listed().get(uid)
        if entry is None:
            return default
        try:
            with open(self._path(uid), 'rb') as f:
                data = f.read(self.limit + 1)
        except OSError:
            return default
        filename, mimetype, _until = entry
        fp = io.BytesIO(data)
        return {'uid': uid, 'fp': fp, 'filename': filename, 'mimetype': mimetype, 'size': len(data)}

    def __getitem__(self, uid):
        found = self.get(uid)
        if found is None:
            raise KeyError(uid)
        return found

    def __contains__(self, uid):
        return self.get(uid) is not None

    def __setitem__(self, uid, data):
        """Hold a newly sent file under a token of our own: ``uid`` comes from the form, so it names no
        file, and a file chosen anew replaces the one held before."""
        self.fresh[uid] = data
        fp = data.get('fp') if isinstance(data, dict) else None
        if fp is None:
            return
        fp.seek(0)
        content = fp.read(self.limit + 1)
        fp.seek(0)
        if len(content) > self.limit:
            return
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        self._sweep()
        token = secrets.token_urlsafe(18)
        with open(self._path(token), 'wb') as f:
            f.write(content)
        listed = self._listed()
        if uid in listed:
            self._remove(uid)
            del listed[uid]
        listed[token] = [data.get('filename') or '', data.get('mimetype') or '', time.time() + HOLD_SECONDS]
        for old in sorted(listed, key=lambda key: listed[key][2])[:-MAX_HELD]:
            self._remove(old)
            del listed[old]
        self.request.session[SESSION_KEY] = listed
        data['uid'] = token
        self.fresh[token] = data

    def preview_url(self, uid):
        return None

    def release(self):
        """Forget the session's held files: their form was saved."""
        if SESSION_KEY not in self.request.session:
            return
        for uid in self.request.session.pop(SESSION_KEY) or {}:
            self._remove(uid)

    def _remove(self, uid):
        with contextlib.suppress(OSError):
            os.remove(self._path(uid))

    def _sweep(self):
        """Remove the files that nobody came back for."""
        oldest = time.time() - HOLD_SECONDS
        with os.scandir(self.directory) as entries:
            for entry in entries:
                try:
                    if entry.is_file() and entry.stat().st_mtime < oldest:
                        os.remove(entry.path)
                except OSError:
                    pass
