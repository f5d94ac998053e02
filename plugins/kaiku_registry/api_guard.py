"""The API's gate: a request's token is checked before its body, a body is read only up to
:data:`MAX_BODY` bytes and parsed only when its arrays and objects nest at most :data:`MAX_DEPTH` deep
(:func:`api_tween_factory`), so neither a stranger nor a key holder can make the process hold a large
body or recurse through a deep one; and the ordinary verification is answered here, on a fast lane
that gives the answer of :func:`kaiku_registry.api.verify` without the page machinery.

The fast lane calls the endpoints' own functions through their module (``api.verification_json``), so
it and the view always answer alike.
"""

import contextlib
import io
import json
import logging
import threading

import transaction
from pyramid.events import ApplicationCreated
from pyramid.response import Response

from kaiku_registry import REGISTRY_NAME, codes
from kaiku_registry.i18n import _
from portal import SITE_KEY

log = logging.getLogger(__name__)
PREFIX = '/registry/api/v1'
#: The API's addresses that need a site's token, under :data:`PREFIX`.
KEYED_PATHS = ('/verify', '/visits', '/visits/undo', '/statistics')
#: The largest request body the API reads, in bytes (a code or a visit takes a few hundred).
MAX_BODY = 4096
#: The deepest nesting of arrays and objects an API body may have (the API's bodies have one level).
MAX_DEPTH = 8


class ReadConnections:
    """A few database connections kept open for reading, each with a transaction manager of its own.

    Opening and closing a pooled connection for every verification costs about a sixth of the request;
    these stay open, and each use begins a transaction (which brings in what other transactions
    changed) and aborts it.  Their transaction managers are not explicit, so that closing the database
    (which aborts every open connection's transaction) finds nothing amiss.  At most ``keep`` idle
    connections are kept, so with the app's own pool the process holds at most ``keep`` more
    connections than its threads need.  A connection whose use raised is closed, never reused.
    """

    def __init__(self, db, keep=4):
        self.db = db
        self.keep = keep
        self.idle = []
        self.lock = threading.Lock()

    @contextlib.contextmanager
    def reading(self):
        with self.lock:
            conn = self.idle.pop() if self.idle else None
        if conn is None:
            conn = self.db.open(transaction_manager=transaction.TransactionManager())
        tm = conn.transaction_manager
        reusable = False
        try:
            tm.begin()
            try:
                yield conn
                reusable = True
            finally:
                tm.abort()
        finally:
            if reusable:
                conn.cacheGC()
                with self.lock:
                    if len(self.idle) < self.keep:
                        self.idle.append(conn)
                        conn = None
            if conn is not None:
                conn.close()


def read_connections(registry):
    """The process's :class:`ReadConnections` on the main database, shared by the API's tweens."""
    connections = getattr(registry, 'api_read_connections', None)
    if connections is None:
        connections = registry.api_read_connections = ReadConnections(registry._zodb_databases[''])
    return connections


def nests_too_deeply(data):
    """True when the arrays and objects of the JSON text ``data`` (bytes) nest deeper than
    :data:`MAX_DEPTH`; brackets inside strings do not count."""
    if data.count(b'[') + data.count(b'{') <= MAX_DEPTH:
        return False  # too few brackets to be too deep: no need to scan
    depth = 0
    in_string = escaped = False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return False


BODY_TOO_LARGE = 'kaiku_registry.body_too_large'


def bound_api_body(environ):
    """Make sure an API request's body is at most :data:`MAX_BODY` bytes before anything reads it.

    A declared ``Content-Length`` over the limit is not read at all; a chunked body (no length) is read
    up to one byte past the limit.  Either way an oversized body is replaced by an empty one and marked
    (:data:`BODY_TOO_LARGE`) for :func:`api_tween_factory` to answer 413 once it has checked the
    token; a chunked body within the limit is put back with its length.
    """
    if not environ.get('PATH_INFO', '').startswith(PREFIX + '/'):
        return
    try:
        length = int(environ.get('CONTENT_LENGTH') or -1)
    except ValueError:
        length = MAX_BODY + 1
    chunked = 'chunked' in environ.get('HTTP_TRANSFER_ENCODING', '').lower()
    if length < 0 and (chunked or environ.get('wsgi.input_terminated')):
        data = environ['wsgi.input'].read(MAX_BODY + 1)
        length = len(data)
        if length <= MAX_BODY:
            environ['wsgi.input'] = io.BytesIO(data)
            environ['CONTENT_LENGTH'] = str(length)
            environ.pop('HTTP_TRANSFER_ENCODING', None)
            environ.pop('wsgi.input_terminated', None)
    if length > MAX_BODY:
        environ[BODY_TOO_LARGE] = True
        environ['wsgi.input'] = io.BytesIO(b'')
        environ['CONTENT_LENGTH'] = '0'
        environ.pop('HTTP_TRANSFER_ENCODING', None)
        environ.pop('wsgi.input_terminated', None)


def bound_bodies_before_retry(event):
    """Run :func:`bound_api_body` before the application's execution policy.

    ``pyramid_retry``'s policy copies every request body (``make_body_seekable``) before any tween runs,
    so a limit in a tween would come after a 150 MB body had been read; this wraps the policy of the
    router just made (on ``ApplicationCreated``) so that an API body is bounded first."""
    router = event.app
    policy = router.execution_policy

    def bounded_execution_policy(environ, router):
        bound_api_body(environ)
        return policy(environ, router)

    router.execution_policy = bounded_execution_policy


def error_response(request, status, code, message, headers=None):
    """A JSON error answer made outside a view, as :func:`api_error` makes them."""
    body = {'error': code, 'message': request.localizer.translate(message)}
    response = Response(json.dumps(body).encode('utf-8'), status=status, content_type='application/json')
    response.headers.update(headers or {})
    return response


def body_refusal(request):
    """The answer to a body over :data:`MAX_BODY` bytes (413) or nested over :data:`MAX_DEPTH` deep (400),
    or None when the body may be parsed."""
    if request.environ.get(BODY_TOO_LARGE) or (request.content_length or 0) > MAX_BODY:
        message = _('The request body is too large: at most ${limit} bytes.', mapping={'limit': MAX_BODY})
        return error_response(request, 413, 'too_large', message)
    if nests_too_deeply(request.body):
        message = _('The JSON body nests too deeply: it must be a flat object.')
        return error_response(request, 400, 'bad_request', message)
    return None


def unauthorized(request):
    message = _('A valid API token is needed.')
    return error_response(request, 401, 'unauthorized', message, headers={'WWW-Authenticate': 'Bearer'})


def api_tween_factory(handler, registry):
    """Check an API request's token before its body, refuse a body too large or too deep, and answer the
    ordinary ``POST /registry/api/v1/verify`` without the page machinery.

    On the API's addresses that need a token, a request without a valid one is answered 401 without
    reading its body; then any API request whose body is over :data:`MAX_BODY` bytes (as
    :func:`bound_api_body` found without reading it) is answered 413, and a body nested deeper than
    :data:`MAX_DEPTH` 400, before any view parses it.

    A ticketing system verifies codes one after another, and a verification needs none of what a page
    needs: no session or CSRF token (the bearer token authorises it), no transaction to commit (it
    writes nothing), no traversal or view lookup.  This tween sits under the security headers tween and
    over ``pyramid_tm``; it answers a verification whose token is valid, whose site is not rate-limited
    and whose body is ``{"code": "<1 to 200 characters>"}``, reading the database (the token, the
    throttle when it is in the main database, the card) through one connection of
    :class:`ReadConnections` and aborting its transaction.  The checks and the answer are those of
    :func:`verify` (the same functions); every other request, every other answer, and any request
    whose reading fails goes down the ordinary path, which checks the token and answers as before.
    """
    from kaiku_registry import api  # the endpoints' module, which includes this one

    keyed = {PREFIX + path for path in KEYED_PATHS}
    verify_path = PREFIX + '/verify'
    connections = read_connections(registry)
    public_key = registry.registry_public_key

    def fast_answer(request, conn, card_registry, site, token):
        """The verification's answer, or None when the ordinary path should answer."""
        client = api.token_client(token)
        if api.lookup_wait(registry, site, client, conn):
            return None
        try:
            body = json.loads(request.body)
        except (ValueError, UnicodeDecodeError):
            return None
        text = body.get('code') if isinstance(body, dict) else None
        if not isinstance(text, str) or not 1 <= len(text) <= 200:
            return None
        try:
            code = codes.read(text, public_key)
        except codes.PayloadError:
            return None
        answer = api.verification_json(card_registry, site, client, code, registry, request.client_addr)
        return Response(json.dumps(answer).encode('utf-8'), content_type='application/json', charset=None)

    def api_tween(request):
        path = request.path_info
        if not path.startswith(PREFIX + '/'):
            return handler(request)
        if path in keyed:
            scheme, _sep, token = request.environ.get('HTTP_AUTHORIZATION', '').partition(' ')
            token = token.strip() if scheme.lower() == 'bearer' else ''
            try:
                with connections.reading() as conn:
                    site_root = conn.root().get(SITE_KEY)
                    card_registry = site_root.get(REGISTRY_NAME) if site_root is not None else None
                    if card_registry is not None:  # else the ordinary path answers 404
                        site = card_registry.site_for_token(token)
                        if site is None:
                            return unauthorized(request)
                        refusal = body_refusal(request)
                        if refusal is not None:
                            return refusal
                        if path == verify_path and request.method == 'POST':
                            answer = fast_answer(request, conn, card_registry, site, token)
                            if answer is not None:
                                return answer
            except Exception:
                # a failed read (a conflict, a lost storage server) is the ordinary path's to answer
                log.warning(
                    'API token check or fast verification failed, answering the ordinary way', exc_info=True
                )
        return body_refusal(request) or handler(request)

    return api_tween


def includeme(config):
    config.add_subscriber(bound_bodies_before_retry, ApplicationCreated)
    config.add_tween(
        'kaiku_registry.api_guard.api_tween_factory',
        under='portal.security.tweens.valid_utf8_tween_factory',
        over='pyramid_tm.tm_tween_factory',
    )
