"""Card codes, and the signed payload a card's QR code carries.

A card code is nine random characters from an alphabet without look-alikes (no 0 or O, no 1 or I) and a tenth
check character computed with the Luhn mod N algorithm, so that a mistyped character or two swapped
neighbours are caught before any lookup.  Codes are printed in groups (``ABCD-EFGH-JK``) and read back
without caring about case, spaces or dashes.

The QR code carries the code, the last day of validity and the number of children, signed with the
registry's Ed25519 key, so a door device holding the public key can check a scanned card without the
server.  The registry stays authoritative: a card closed after printing still verifies offline until its
date, which the door view says plainly.

A door check hands the page a :class:`DoorChecks` token: the proof, signed by the server, that this user
of this site checked this card a moment ago.  Recording a visit needs that proof, once.
"""

import base64
import datetime
import hashlib
import hmac
import io
import re
import secrets
import time
import unicodedata
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALPHABET = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ'
BODY_LENGTH = 9
CODE_LENGTH = BODY_LENGTH + 1
PAYLOAD_PREFIX = 'KK1'
_INDEX = {char: i for i, char in enumerate(ALPHABET)}
#: What may stand between a code's groups as typed: white space, every dash and hyphen of Unicode (an en
#: dash from a word processor, a non-breaking hyphen), underscores, dots, and invisible format characters.
_SEPARATORS = re.compile(r'[\s\-_.\u00ad\u2010-\u2015\u2212\ufe58\ufe63\uff0d\u200b-\u200d\u2060\ufeff]+')


def check_character(body):
    """The Luhn mod N check character of ``body`` over :data:`ALPHABET`."""
    n = len(ALPHABET)
    factor = 2
    total = 0
    for char in reversed(body):
        addend = factor * _INDEX[char]
        factor = 1 if factor == 2 else 2
        total += addend // n + addend % n
    return ALPHABET[(n - total % n) % n]


def new_code(randbelow=secrets.randbelow):
    body = ''.join(ALPHABET[randbelow(len(ALPHABET))] for _ in range(BODY_LENGTH))
    return body + check_character(body)


def normalize(text):
    """A code as typed or scanned, upper-cased and without separators; None when it cannot be one."""
    if not isinstance(text, str):
        return None
    code = _SEPARATORS.sub('', unicodedata.normalize('NFKC', text)).upper()
    if len(code) != CODE_LENGTH or any(char not in _INDEX for char in code):
        return None
    return code


def is_valid(code):
    """True when ``code`` is well formed and its check character matches."""
    return code is not None and len(code) == CODE_LENGTH and check_character(code[:-1]) == code[-1]


def parse(text):
    """The normalized code when ``text`` is a well-formed code with a correct check, else None."""
    code = normalize(text)
    return code if is_valid(code) else None


def grouped(code):
    """The code as printed: ``ABCD-EFGH-JK``."""
    return f'{code[:4]}-{code[4:8]}-{code[8:]}'


# Signed QR payloads -------------------------------------------------------------------------------
def generate_key():
    return Ed25519PrivateKey.generate()


def private_key_pem(key):
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_private_key(pem):
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError('the signing key must be an Ed25519 key')
    return key


def public_key_raw(key):
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_text(public_raw):
    """The raw public key as unpadded base64url, the form the door page hands to its script ('' for none)."""
    return _b64(public_raw) if public_raw else ''


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode('ascii')


def _unb64(text):
    return base64.urlsafe_b64decode(text + '=' * (-len(text) % 4))


def sign_payload(key, code, valid_until, children):
    """``KK1.<code>.<yyyymmdd>.<children>.<signature>``: short enough for a small QR code."""
    message = f'{PAYLOAD_PREFIX}.{code}.{valid_until:%Y%m%d}.{int(children)}'
    return f'{message}.{_b64(key.sign(message.encode("ascii")))}'


class PayloadError(ValueError):
    """A scanned payload that is not a card's, or whose signature does not match."""


def verify_payload(public_raw, payload):
    """Check a scanned payload's signature; return ``(code, valid_until, children)``."""
    try:
        prefix, code, until, children, signature = payload.strip().split('.')
        ascii_numbers = re.fullmatch(r'[0-9]{8}', until) and re.fullmatch(r'[0-9]{1,2}', children)
        if prefix != PAYLOAD_PREFIX or not is_valid(code) or not ascii_numbers:
            raise PayloadError('not a Kaikukortti code')
        Ed25519PublicKey.from_public_bytes(public_raw).verify(
            _unb64(signature), f'{prefix}.{code}.{until}.{children}'.encode('ascii')
        )
        return code, datetime.datetime.strptime(until, '%Y%m%d').date(), int(children)
    except InvalidSignature as e:
        raise PayloadError('the signature does not match: the code has been altered') from e
    except (ValueError, UnicodeError, AttributeError) as e:
        if isinstance(e, PayloadError):
            raise
        raise PayloadError('not a Kaikukortti code') from e


def read(text, public_raw):
    """The card code in what was typed or scanned: a printed code, or a QR payload whose signature is
    checked when the public key is known.  None when it is no code; PayloadError for a forged QR."""
    text = text.strip()
    if text.startswith(PAYLOAD_PREFIX + '.'):
        if public_raw:
            return verify_payload(public_raw, text)[0]
        return parse(text.split('.')[1])
    return parse(text)


# Door checks -------------------------------------------------------------------------------------
class DoorCheckError(ValueError):
    """A door check token that cannot be used: ``reason`` is ``'missing'``, ``'forged'`` (altered, or
    made for another site, user or session) or ``'expired'``."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class DoorCheck:
    """What a valid door check token says: the card checked, the token's nonce and when it runs out."""

    card_id: int
    nonce: str
    expires: datetime.datetime


class DoorChecks:
    """Short-lived signed tokens that carry a door check over to the recording of the visit.

    The door's check answer holds a token ``<card id>.<issued>.<nonce>.<mac>``: an HMAC-SHA256, under a
    key of its own, over the card's internal id, the site, the user and the session id, the time of issue
    and a random nonce.  The site, the user and the session are not in the token: the server puts in the
    requester's own, so a token made for anyone else fails like an altered one.  A token lasts
    ``lifetime`` seconds; that it is used once only is the registry's to enforce (the nonce is kept on the
    card, see :meth:`kaiku_registry.models.CardRegistry.record_visit`).  ``clock`` gives the time in seconds.
    """

    def __init__(self, key, lifetime=300, clock=time.time):
        self.key = hashlib.sha256(b'kaiku_registry door check\0' + key).digest()
        self.lifetime = lifetime
        self.clock = clock

    def _mac(self, card_id, site_id, login, session_id, issued, nonce):
        message = '\0'.join(str(part) for part in (card_id, site_id, login, session_id, issued, nonce))
        return _b64(hmac.new(self.key, message.encode('utf-8'), hashlib.sha256).digest())

    def issue(self, card_id, site_id, login, session_id):
        issued = int(self.clock())
        nonce = secrets.token_urlsafe(12)
        return f'{card_id}.{issued}.{nonce}.{self._mac(card_id, site_id, login, session_id, issued, nonce)}'

    def read(self, token, site_id, login, session_id):
        """The :class:`DoorCheck` of ``token`` for this requester; :class:`DoorCheckError` otherwise."""
        if not token:
            raise DoorCheckError('missing')
        parts = token.split('.') if isinstance(token, str) and token.isascii() and len(token) < 200 else ()
        if len(parts) != 4 or not all(re.fullmatch(r'[0-9]{1,20}', part) for part in parts[:2]):
            raise DoorCheckError('forged')
        card_id, issued, nonce, mac = int(parts[0]), int(parts[1]), parts[2], parts[3]
        if not hmac.compare_digest(mac, self._mac(card_id, site_id, login, session_id, issued, nonce)):
            raise DoorCheckError('forged')
        now = self.clock()
        if not issued - 60 <= now <= issued + self.lifetime:
            raise DoorCheckError('expired')
        expires = datetime.datetime.fromtimestamp(issued + self.lifetime, datetime.UTC)
        return DoorCheck(card_id, nonce, expires)


# Pictures of the code -----------------------------------------------------------------------------
def qr_svg(payload, title):
    """The payload as an SVG QR code (segno: a maintained, pure-Python QR encoder)."""
    import segno

    out = io.BytesIO()
    # omitsize: a viewBox instead of a fixed width and height, so the stylesheet can scale the code to
    # its printed size (26 mm) instead of cutting off what does not fit.
    segno.make(payload, error='m').save(
        out, kind='svg', scale=4, border=2, title=title, xmldecl=False, omitsize=True
    )
    return out.getvalue().decode('utf-8')


def code39_svg(code):
    """The code as an SVG Code 39 barcode (python-barcode), without its own text line."""
    from barcode import Code39
    from barcode.writer import SVGWriter

    out = io.BytesIO()
    Code39(code, writer=SVGWriter(), add_checksum=False).write(
        out, options={'write_text': False, 'module_height': 12.0, 'quiet_zone': 2.0}
    )
    svg = out.getvalue().decode('utf-8')
    # The site's Content-Security-Policy (style-src 'self') ignores style attributes, which would leave
    # every rectangle, the white background too, black: give the colours as presentation attributes.
    svg = _STYLE_FILL.sub(r'fill="\1"', svg)
    svg = svg[svg.index('<svg') :]
    # A viewBox in user units (96 per inch) matching the size in millimetres, so the code scales with
    # its box instead of being cut off when the box is narrower.
    size = _MM_SIZE.search(svg)
    if size:
        width, height = (float(size.group(n)) * 96 / 25.4 for n in (1, 2))
        svg = svg.replace('<svg ', f'<svg viewBox="0 0 {width:.2f} {height:.2f}" ', 1)
    return svg


_MM_SIZE = re.compile(r'<svg[^>]*\swidth="([\d.]+)mm" height="([\d.]+)mm"')
_STYLE_FILL = re.compile(r'style="fill:\s*([a-z]+|#[0-9a-fA-F]{3,6});?"')
