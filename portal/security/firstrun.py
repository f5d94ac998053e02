"""The first administrator: a one-time setup link while the site has no user at all.

Each time the application starts on a database without any user, :func:`offer_setup` makes a random
token (256 bits) and keeps only its SHA-256 hash, with the time it expires (24 hours on), in the ZODB root
beside the users; the start-up prints the link ``/@@setup?token=…`` once, in its log.  The setup page
(:mod:`portal.views.setup`) takes a token whose hash is kept and unexpired, and only while there is still
no user; making the administrator forgets every token.  Once any user exists, the page answers 404
whatever token it is given.

A fast hash is enough: the token is random and as long as a key, so no guess can be tested offline
against the hash the way a password could.  Every change rewrites the one :class:`SetupTokens` object, so
two requests that make an administrator at the same moment conflict in ZODB, and the one retried finds a
user and is refused.
"""

import datetime
import hashlib
import secrets

from persistent import Persistent
from pyramid_zodbconn import get_connection

from portal import clock
from portal.security.principals import PRINCIPALS_KEY, ensure_principals

SETUP_KEY = 'setup_tokens'
TOKEN_LIFETIME = datetime.timedelta(hours=24)
#: The longest token the page looks at; the ones made here are 43 characters.
MAX_TOKEN = 100


def _digest(token):
    return hashlib.sha256(token.encode('utf-8')).hexdigest()


class SetupTokens(Persistent):
    """Hashes of the setup tokens not yet used, with the moment each expires."""

    def __init__(self):
        self.expiries = {}

    def issue(self, now):
        """A new token, valid for :data:`TOKEN_LIFETIME` from ``now``; expired ones are forgotten."""
        token = secrets.token_urlsafe(32)
        kept = {digest: end for digest, end in self.expiries.items() if end > now}
        kept[_digest(token)] = now + TOKEN_LIFETIME
        self.expiries = kept
        return token

    def is_valid(self, token, now):
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN:
            return False
        end = self.expiries.get(_digest(token))
        return end is not None and now < end

    def forget_all(self):
        self.expiries = {}


def has_users(zodb_root):
    """True once the site has any user, disabled or not (never writes: the setup page's GET reads)."""
    principals = zodb_root.get(PRINCIPALS_KEY)
    return principals is not None and bool(principals.users)


def setup_tokens(zodb_root):
    tokens = zodb_root.get(SETUP_KEY)
    if tokens is None:
        tokens = zodb_root[SETUP_KEY] = SetupTokens()
    return tokens


def offer_setup(zodb_root, now=None):
    """A new setup token when the site has no user yet, else None.  The caller commits."""
    if has_users(zodb_root):
        return None
    return setup_tokens(zodb_root).issue(now or clock.now())


def setup_allowed(request, token):
    """True while the site has no user and ``token`` is a valid setup token."""
    root = get_connection(request).root()
    if has_users(root) or SETUP_KEY not in root:
        return False
    return root[SETUP_KEY].is_valid(token, clock.now())


def add_first_administrator(request, login, password, title=''):
    """Make the first user, an Administrator, and forget every setup token; the caller checked
    :func:`setup_allowed` and the password rules in this transaction."""
    root = get_connection(request).root()
    user = ensure_principals(root).add_user(login, roles=('Administrator',), title=title)
    user.set_password(password)
    setup_tokens(root).forget_all()
    return user


def setup_link(base_url, token):
    return f'{base_url.rstrip("/")}/@@setup?token={token}'


def server_url(global_config):
    """``http://host:port`` of the ini file's ``[server:main]`` (waitress's ``listen``, or ``host`` and
    ``port``), as far as the application factory can tell; ``''`` when it cannot."""
    import configparser

    import plaster

    path = (global_config or {}).get('__file__')
    if not path:
        return ''
    defaults = {key: value for key, value in global_config.items() if not key.startswith('__')}
    try:
        server = plaster.get_settings(path, 'server:main', defaults=defaults)
    except (configparser.Error, plaster.PlasterError, OSError):  # a server section this cannot read
        return ''
    listen = (server.get('listen') or '').split()
    if listen:
        host, _, port = listen[0].rpartition(':')
    else:
        host, port = server.get('host', ''), server.get('port', '')
    if not port.isdigit():
        return ''
    if host in ('', '*', '0.0.0.0', '[::]'):  # noqa: S104 - naming the wildcard, not binding to it
        host = 'localhost'
    return f'http://{host}:{port}'
