"""The second factor: time-based one-time codes (RFC 6238) and recovery codes.

A user who has enrolled keeps a TOTP secret (base32, 160 random bits, :func:`pyotp.random_base32`) on
their :class:`~portal.security.principals.User`.  An authenticator app makes a six-digit code of it every
30 seconds; :func:`verify_code` accepts the code of the current time step or of the step before or after
(clocks drift), and only for a step later than the last one accepted, so a code that was seen (over a
shoulder, in a proxy's log) cannot be used again.

Ten recovery codes are made at enrolment and shown once.  Each is ten characters from an alphabet of 32
that cannot be mistaken for one another (50 random bits), so a fast keyed hash (HMAC-SHA-256 with a key
of the user's own) is enough to keep them: guessing one through the login form is limited by the login
throttle long before 50 bits matter, and a stolen database gives hashes that cannot be reversed.  A code
is struck off when it is used.

This module knows nothing of requests: the views (:mod:`portal.views.twofactor`) decide when a code is
needed, count failures with the login throttle and keep the half-finished login in the session.
"""

import hashlib
import hmac
import io
import secrets

import pyotp

#: Digits and seconds of a code: what every authenticator app uses by default.
DIGITS = 6
INTERVAL = 30
#: Steps before and after the current one whose codes are accepted too (clock drift, slow typing).
DRIFT_STEPS = 1
RECOVERY_COUNT = 10
RECOVERY_LENGTH = 10
#: Upper-case letters and digits without 0/O, 1/I/L: nothing to misread when typing a code from paper.
RECOVERY_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789'
#: The roles that must use a second factor unless ``portal.second_factor_roles`` says otherwise.
DEFAULT_REQUIRED_ROLES = ('Administrator', 'NationalAdmin', 'Coordinator', 'IssuerStaff')


def new_secret():
    """A fresh TOTP secret: 32 base32 characters (160 bits, RFC 4226's recommended length)."""
    return pyotp.random_base32()


def grouped(text, size=4):
    """``text`` in groups of ``size`` characters separated by spaces, for reading aloud or typing."""
    return ' '.join(text[i : i + size] for i in range(0, len(text), size))


def provisioning_uri(secret, login, issuer):
    """The ``otpauth://`` address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL).provisioning_uri(
        name=login, issuer_name=issuer
    )


def qr_svg(uri, title):
    """The provisioning address as an SVG QR code (segno), with no script and no style attribute: an
    image named by its ``title``, dark on a white ground of its own so that it scans on any theme."""
    import segno

    out = io.BytesIO()
    segno.make(uri, error='m').save(
        out, kind='svg', scale=4, border=4, title=title, xmldecl=False, dark='#000', light='#fff'
    )
    return out.getvalue().decode('utf-8').replace('<svg ', '<svg role="img" ', 1)


def clean_code(value):
    """The six digits of a one-time code as typed or pasted (spaces and hyphens dropped), or None."""
    if not isinstance(value, str):
        return None
    value = ''.join(value.split()).replace('-', '')
    if len(value) != DIGITS or not value.isascii() or not value.isdigit():
        return None
    return value


def clean_recovery_code(value):
    """A recovery code as typed (any case, spaces and hyphens dropped), or None when it cannot be one."""
    if not isinstance(value, str):
        return None
    value = ''.join(value.split()).replace('-', '').upper()
    if len(value) != RECOVERY_LENGTH or any(ch not in RECOVERY_ALPHABET for ch in value):
        return None
    return value


def matching_step(secret, code, now, after=-1):
    """The time step whose code is ``code``, among the steps around ``now`` later than ``after``; or
    None.  Every candidate is compared in constant time."""
    code = clean_code(code)
    if code is None or not secret:
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL)
    current = int(now) // INTERVAL
    found = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code) and step > after and found is None:
            found = step
    return found


def is_enrolled(user):
    return bool(getattr(user, 'totp_secret', None))


def enrol(user, secret, code, now):
    """Give ``user`` the second factor ``secret`` when ``code`` is one of its current codes.

    Returns the new recovery codes (to show once), or None when the code is wrong and nothing changed.
    """
    step = matching_step(secret, code, now)
    if step is None:
        return None
    user.totp_secret = secret
    user.totp_last_step = step
    return new_recovery_codes(user)


def verify_code(user, code, now):
    """True when ``code`` is the user's code of a step around ``now`` not used before; that step is then
    remembered, so the same code (or an older one) is refused from now on."""
    step = matching_step(user.totp_secret, code, now, after=user.totp_last_step)
    if step is None:
        return False
    user.totp_last_step = step
    return True


def _recovery_hash(key, code):
    return hmac.new(key, code.encode('ascii'), hashlib.sha256).hexdigest()


def _random_code():
    return ''.join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))


def new_recovery_codes(user):
    """Make ``RECOVERY_COUNT`` new recovery codes for ``user`` (the old ones stop working); return them
    in their printed form, ``ABCDE-FGHJK``.  Only their keyed hashes are kept."""
    codes = [
        ''.join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
        for _ in range(RECOVERY_COUNT)
    ]
    key = secrets.token_bytes(32)
    user.recovery_key = key
    user.recovery_hashes = tuple(_recovery_hash(key, code) for code in codes)
    return [f'{code[:5]}-{code[5:]}' for code in codes]


def recovery_codes_left(user):
    return len(user.recovery_hashes or ())


def is_recovery_code(user, code):
    """Whether ``code`` is one of the user's unused recovery codes (nothing is struck off)."""
    return _find_recovery_code(user, code) is not None


def _find_recovery_code(user, code):
    code = clean_recovery_code(code)
    if code is None or not user.recovery_key:
        return None
    digest = _recovery_hash(user.recovery_key, code)
    found = None
    for stored in user.recovery_hashes:
        if hmac.compare_digest(stored, digest):
            found = stored
    return found


def use_recovery_code(user, code):
    """True when ``code`` is one of the user's unused recovery codes; it is struck off then."""
    found = _find_recovery_code(user, code)
    if found is None:
        return False
    user.recovery_hashes = tuple(stored for stored in user.recovery_hashes if stored != found)
    return True


def reset(user):
    """Take the user's second factor away (a lost phone): they enrol again at their next login.  Their
    open sessions end, since whoever holds the lost device may hold a session too."""
    user.totp_secret = None
    user.totp_last_step = -1
    user.recovery_key = None
    user.recovery_hashes = ()
    user.end_all_sessions()


def requires_second_factor(role_names, required_roles):
    """Whether a holder of ``role_names`` (site-wide or anywhere locally) must use a second factor."""
    return not set(required_roles).isdisjoint(role_names)
