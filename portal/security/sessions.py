"""Sessions and login.

A login lives in a signed cookie session (``SignedCookieSessionFactory``): the cookie holds the login, a
random session id and the time of login.  Idle expiry is the session factory's ``timeout`` and absolute
expiry is checked against the login time, both inside the signed cookie, so keeping a session alive never
writes to the database.  A cookie whose session id the user no longer keeps is worth nothing, so logout
really ends the session on the server side.
"""

import os
import secrets
import time

from pyramid.csrf import SessionCSRFStoragePolicy

from portal.security.policy import SESSION_KEY, current_user
from portal.security.throttle import login_address_key

#: The name of the session cookie.
SESSION_COOKIE = 'kaiku_session'


def new_token():
    """A random token of 256 bits, for CSRF tokens and session ids."""
    return secrets.token_urlsafe(32)


class StrongSessionCSRF(SessionCSRFStoragePolicy):
    """Pyramid's session CSRF storage with 256-bit tokens instead of ``uuid4().hex``'s 122 bits."""

    _token_factory = staticmethod(new_token)


def log_in(request, user):
    """Start a new session for ``user``: a fresh session (and CSRF token), remembered by the user."""
    now = time.time()
    sid = new_token()
    request.session.invalidate()
    request.session[SESSION_KEY] = {'login': user.login, 'sid': sid, 'started': now}
    user.start_session(sid, now, request.registry.session_settings.max_age)
    request.registry.login_throttle.forget([login_address_key(user.login, request)])


def log_out(request):
    """End the requester's session here and on the server."""
    auth = request.session.get(SESSION_KEY)
    user = current_user(request)
    if user is not None and isinstance(auth, dict):
        user.end_session(auth.get('sid'))
    request.session.invalidate()


def session_secret(settings):
    """The session signing secret: ``portal.session_secret``, or one kept in ``portal.session_secret_file``
    (created with 64 random bytes when missing, readable by its owner only)."""
    secret = settings.get('portal.session_secret')
    if secret:
        return secret
    path = settings.get('portal.session_secret_file')
    if not path:
        raise ValueError('set portal.session_secret or portal.session_secret_file in the ini file')
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, 'w') as f:
            f.write(secrets.token_hex(64))
    with open(path, encoding='ascii') as f:
        return f.read().strip()
