"""Passwords: argon2id hashes (argon2-cffi's defaults, which follow RFC 9106) and the password rules.

Rules: 12 to 256 characters, not in the bundled list of common passwords (``portal/common-passwords.txt``),
not containing the login name.  A hash made with weaker parameters than the current ones is replaced at the
next successful login (:meth:`portal.security.principals.User.check_password`).
"""

import os
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from portal.i18n import _

MIN_PASSWORD = 12
MAX_PASSWORD = 256

#: argon2-cffi's defaults: RFC 9106's second recommended option (64 MiB, three passes, four lanes), about
#: 0.1 s a hash or a check on one core.
_hasher = PasswordHasher()
_dummy_hash = None


def use_hasher(hasher):
    """Hash and check passwords with ``hasher`` (an ``argon2.PasswordHasher``) from now on, and return
    the one used until now.  The test suite uses argon2's cheapest parameters (``portal.testing``), where
    thousands of logins at 0.1 s each were a tenth of its time; hashes carry their parameters, so a
    hash made with either one is checked by either."""
    global _hasher, _dummy_hash
    previous, _hasher, _dummy_hash = _hasher, hasher, None
    return previous


def _load_common_passwords():
    path = os.path.join(os.path.dirname(os.path.dirname(__file__)), 'common-passwords.txt')
    with open(path, encoding='utf-8') as f:
        return frozenset(line.strip() for line in f if line.strip() and not line.startswith('#'))


COMMON_PASSWORDS = _load_common_passwords()


def password_problem(password, login=None):
    """The translation string saying why ``password`` is not acceptable, or None when it is."""
    if len(password) < MIN_PASSWORD:
        return _('A password needs at least ${n} characters.', mapping={'n': MIN_PASSWORD})
    if len(password) > MAX_PASSWORD:
        return _('A password may have at most ${n} characters.', mapping={'n': MAX_PASSWORD})
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS or lowered.rstrip('0123456789!?.-_ ') in COMMON_PASSWORDS:
        return _('This password is one of the most common ones. Choose another.')
    if login and login.lower() in lowered:
        return _('A password must not contain the login name.')
    return None


def hash_password(password):
    return _hasher.hash(password)


def verify_password(stored_hash, password):
    """True when ``password`` matches ``stored_hash``; never raises for a wrong or damaged hash."""
    if not stored_hash:
        return False
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def spend_time_like_verify(password):
    """Verify against a dummy hash, so an unknown login takes as long as a wrong password."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash(secrets.token_hex(16))
    verify_password(_dummy_hash, password)


def needs_rehash(stored_hash):
    return _hasher.check_needs_rehash(stored_hash)
