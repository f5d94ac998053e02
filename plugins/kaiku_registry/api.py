"""The registry's JSON API for ticketing systems and apps (see :mod:`kaiku_registry.openapi`).

Requests carry a site's API token as a bearer token, so the API needs no cookies and no CSRF token; card
codes travel only in POST bodies.  Every error is JSON with a stable ``error`` code and a ``message``.

The token is checked before the body is read, and a body is read only up to :data:`MAX_BODY` bytes and
parsed only when its arrays and objects nest at most :data:`MAX_DEPTH` deep
(:func:`api_tween_factory`), so neither a stranger nor a key holder can make the process hold a
large body or recurse through a deep one.
"""

import contextlib
import hashlib
import io
import json
import logging
import math
import threading

import colander
import transaction
from pyramid.events import ApplicationCreated, NewResponse
from pyramid.httpexceptions import HTTPError, HTTPException, HTTPForbidden, HTTPNotFound
from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from kaiku_registry import REGISTRY_NAME, codes, openapi, today
from kaiku_registry.i18n import _
from kaiku_registry.models import RuleError
from kaiku_registry.reports import uses_by
from kaiku_registry.schemas import CodeSchema, VisitSchema
from portal import SITE_KEY, root_factory
from portal.audit import deferred_audit
from portal.security import Throttle
from portal.views.errors import conflict_answer, is_conflict

log = logging.getLogger(__name__)
PREFIX = '/registry/api/v1'
#: Unknown codes allowed per client (an API token, a logged-in user) within :data:`LOOKUP_WINDOW` seconds
#: before that client's further lookups wait.
CLIENT_FAILURES = 20
#: Unknown codes allowed per site from all its clients together.  A client stops counting when it
#: reaches its own limit, so the ceiling needs at least five clients failing: one client's typos or one
#: leaked token never lock the whole site out.
SITE_FAILURES = 5 * CLIENT_FAILURES
LOOKUP_WINDOW = 600
#: The largest request body the API reads, in bytes (a code or a visit takes a few hundred).
MAX_BODY = 4096
#: The deepest nesting of arrays and objects an API body may have (the API's bodies have one level).
MAX_DEPTH = 8
#: The API's addresses that need a site's token, under :data:`PREFIX`.
KEYED_PATHS = ('/verify', '/visits', '/visits/undo', '/statistics')
STATE_ERRORS = {
    'unknown',
    'expired',
    'closed',
    'too_many_children',
    'no_children_on_courses',
    'other_site',
    'too_late',
    'undone',
    'not_venue',
}


class ApiError(Exception):
    def __init__(self, status, code, message, fields=None, headers=None):
        super().__init__(code)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields
        self.headers = headers or {}


def registry_factory(request):
    registry = root_factory(request).get(REGISTRY_NAME)
    if registry is None:
        raise ApiError(404, 'not_found', _('This site has no card registry.'))
    return registry


def api_site(request):
    """The venue or issuer site whose token authorises the request."""
    header = request.headers.get('Authorization', '')
    scheme, _sep, token = header.partition(' ')
    site = request.context.site_for_token(token.strip()) if scheme.lower() == 'bearer' else None
    if site is None:
        raise ApiError(
            401, 'unauthorized', _('A valid API token is needed.'), headers={'WWW-Authenticate': 'Bearer'}
        )
    return site


#: The JSON type each kind of schema node takes; anything else (a list, an object, null, a number for a
#: text) is refused as it stands instead of being turned into text.
JSON_KINDS = {colander.Integer: int, colander.Boolean: bool}
WRONG_KIND = {
    str: _('This must be text.'),
    int: _('This must be a whole number.'),
    bool: _('This must be true or false.'),
}


def json_body(request, schema):
    try:
        body = request.json_body
    except (ValueError, UnicodeDecodeError) as e:
        raise ApiError(400, 'bad_request', _('The body must be a JSON object.')) from e
    if not isinstance(body, dict):
        raise ApiError(400, 'bad_request', _('The body must be a JSON object.'))
    cstruct, wrong = {}, {}
    for node in schema.children:
        if node.name not in body:
            continue
        value = body[node.name]
        kind = next((kind for typ, kind in JSON_KINDS.items() if isinstance(node.typ, typ)), str)
        if type(value) is not kind:  # bool is an int to isinstance; JSON true is not a number here
            wrong[node.name] = request.localizer.translate(WRONG_KIND[kind])
        else:
            cstruct[node.name] = str(value).lower() if kind is bool else str(value)
    if wrong:
        raise ApiError(400, 'bad_request', _('Some values are not valid.'), wrong)
    try:
        return schema.deserialize(cstruct)
    except colander.Invalid as e:
        fields = e.asdict(translate=request.localizer.translate)
        raise ApiError(400, 'bad_request', _('Some values are not valid.'), fields) from e


def read_code(request, text):
    """The card code from a typed code or a scanned QR payload; a forged QR is a 400."""
    try:
        return codes.read(text, request.registry.registry_public_key)
    except codes.PayloadError as e:
        raise ApiError(400, 'bad_request', _('The QR code has been altered or is not a card.')) from e


def token_client(token):
    """The throttle key of an API token: its digest, never the token itself."""
    return 'token:' + hashlib.sha256(token.encode('ascii', 'replace')).hexdigest()


def api_client(request):
    """The throttle key of the token the request presents (:func:`api_site` has accepted it)."""
    return token_client(request.headers.get('Authorization', '').partition(' ')[2].strip())


def lookup_limits(site, client):
    """The keys an unknown code counts against: the client's own, and its site's ceiling."""
    return ((client, CLIENT_FAILURES), (f'site:{site.id}', SITE_FAILURES))


def lookup_wait(app_registry, site, client, conn=None):
    """Seconds until ``client`` may look codes up for ``site`` again, 0 when now."""
    return app_registry.lookup_throttle.retry_after(lookup_limits(site, client), conn)


def lookup_failed(app_registry, site, client):
    app_registry.lookup_throttle.failed(lookup_limits(site, client))


def guard(request, site):
    wait = lookup_wait(request.registry, site, api_client(request))
    if wait:
        raise ApiError(
            429,
            'rate_limited',
            _('Too many unknown codes: wait a while before trying again.'),
            headers={'Retry-After': str(math.ceil(wait))},
        )


def visit_json(visit):
    return {
        'visit_id': str(visit.id),
        'date': visit.date.isoformat(),
        'sector': visit.sector,
        'adults': visit.adults,
        'children': visit.children,
        'assistant': visit.assistant,
        'course': visit.course,
        'undone': visit.undone,
    }


def _rule_error(e):
    status = 409 if e.code in STATE_ERRORS else 400
    return ApiError(status, e.code if e.code in openapi.ERROR_CODES else 'bad_request', e.message)


@view_config(
    route_name='registry_api_verify',
    request_method='POST',
    renderer='json',
    permission=NO_PERMISSION_REQUIRED,
    require_csrf=False,
)
def verify(context, request):
    site = api_site(request)
    guard(request, site)
    values = json_body(request, CodeSchema())
    code = read_code(request, values['code'])
    address = getattr(request, 'client_addr', '')
    return verification_json(context, site, api_client(request), code, request.registry, address)


def verification_json(registry, site, client, code, app_registry, address):
    """The answer to a verification of ``code`` for ``site``; an unknown code counts as a failed lookup,
    and the read of a known card goes to the audit log (by internal id, as the door's reads do; written
    in batches, see :class:`portal.audit.DeferredAudit`)."""
    result = registry.verify(code, today())
    if result.status == 'unknown':
        lookup_failed(app_registry, site, client)
    else:
        audit = deferred_audit(app_registry)
        if audit is not None:
            detail = {'card': result.card.id, 'why': 'api-verify', 'site': site.id}
            audit.record('registry.card.read', f'api:{site.id}', address, detail)
    return {
        'status': result.status,
        'children_allowed': result.children,
        'valid_until': result.valid_until.isoformat() if result.valid_until else None,
        'community': result.community,
    }


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
    keyed = {PREFIX + path for path in KEYED_PATHS}
    verify_path = PREFIX + '/verify'
    connections = read_connections(registry)
    public_key = registry.registry_public_key

    def fast_answer(request, conn, card_registry, site, token):
        """The verification's answer, or None when the ordinary path should answer."""
        client = token_client(token)
        if lookup_wait(registry, site, client, conn):
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
        answer = verification_json(card_registry, site, client, code, registry, request.client_addr)
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


class VisitRequestSchema(VisitSchema):
    code = CodeSchema().get('code').clone()


@view_config(
    route_name='registry_api_visits',
    request_method='POST',
    renderer='json',
    permission=NO_PERMISSION_REQUIRED,
    require_csrf=False,
)
def record_visit(context, request):
    site = api_site(request)
    guard(request, site)
    values = json_body(request, VisitRequestSchema())
    card = context.card_by_code(read_code(request, values.pop('code')) or '')
    if card is None:
        lookup_failed(request.registry, site, api_client(request))
        raise ApiError(409, 'unknown', _('No card has this code.'))
    try:
        visit = context.record_visit(card, site, today(), **values)
    except RuleError as e:
        raise _rule_error(e) from e
    request.response.status_int = 201
    return visit_json(visit)


@view_config(
    route_name='registry_api_undo',
    request_method='POST',
    renderer='json',
    permission=NO_PERMISSION_REQUIRED,
    require_csrf=False,
)
def undo_visit(context, request):
    site = api_site(request)
    try:
        body = request.json_body
        visit_id = int(str(body['visit_id'])) if isinstance(body, dict) else None
    except (ValueError, KeyError, UnicodeDecodeError, TypeError):
        visit_id = None
    if visit_id is None or not 0 < visit_id < 2**63:
        raise ApiError(400, 'bad_request', _('Give the visit_id of the visit to undo.'))
    visit = context.visits.get(visit_id)
    if visit is None or visit.site_id != site.id:
        raise ApiError(404, 'not_found', _('This site has no such visit.'))
    try:
        context.undo_visit(visit, site)
    except RuleError as e:
        raise _rule_error(e) from e
    return visit_json(visit)


@view_config(
    route_name='registry_api_statistics',
    request_method='GET',
    renderer='json',
    permission=NO_PERMISSION_REQUIRED,
)
def site_statistics(context, request):
    site = api_site(request)
    rows = uses_by(context, 'month', site=site.id)
    return {
        'site': site.name,
        'months': [
            {'month': month, 'adult_uses': adults, 'child_uses': children} for month, adults, children in rows
        ],
    }


@view_config(
    route_name='registry_api_openapi',
    request_method='GET',
    renderer='json',
    permission=NO_PERMISSION_REQUIRED,
)
def openapi_document(request):
    return openapi.document(request.application_url + PREFIX)


@view_config(context=ApiError, renderer='json', permission=NO_PERMISSION_REQUIRED)
def api_error(exc, request):
    request.response.status_int = exc.status
    request.response.headers.update(exc.headers)
    body = {'error': exc.code, 'message': request.localizer.translate(exc.message)}
    if exc.fields:
        body['fields'] = exc.fields
    return body


class ApiPathPredicate:
    """A view predicate, ``registry_api=True``: the request is for the API's addresses.

    It reads the raw ``PATH_INFO``, so it holds for an answer made before routing (by a tween) and for a
    path that is not valid UTF-8, where ``route_name`` and ``path_info`` predicates cannot.
    """

    def __init__(self, value, config):
        self.value = bool(value)

    def text(self):
        return f'registry_api = {self.value}'

    phash = text

    def __call__(self, context, request):
        return request.environ.get('PATH_INFO', '').startswith(PREFIX + '/') == self.value


#: The error message for each status the API's own error views give.
API_ERRORS = {
    400: ('bad_request', _('The request is not valid.')),
    401: ('unauthorized', _('A valid API token is needed.')),
    403: ('unauthorized', _('This is not allowed.')),
    404: ('not_found', _('There is nothing at this address.')),
    405: ('bad_request', _('This address does not take this method.')),
    500: ('server_error', _('Something went wrong. The error has been logged.')),
    503: ('busy', _('Too many changes at the same moment: nothing was saved. Try again in a moment.')),
}


def _api_error_body(request, status, detail=None):
    code, message = API_ERRORS.get(status, API_ERRORS[500 if status >= 500 else 400])
    request.response.status_int = status
    request.response.cache_control.no_store = True
    return {'error': code, 'message': request.localizer.translate(detail or message)}


# The portal answers these with its HTML pages; on the API's addresses they are JSON.  Each context the
# portal registers an exception view for gets one here, since Pyramid picks the most specific context.
@view_config(context=HTTPException, registry_api=True, renderer='json', permission=NO_PERMISSION_REQUIRED)
@view_config(context=HTTPError, registry_api=True, renderer='json', permission=NO_PERMISSION_REQUIRED)
@view_config(context=HTTPNotFound, registry_api=True, renderer='json', permission=NO_PERMISSION_REQUIRED)
@view_config(context=HTTPForbidden, registry_api=True, renderer='json', permission=NO_PERMISSION_REQUIRED)
def api_http_error(exc, request):
    """Wrong methods, undecodable requests and the like answer in JSON too, on the API's addresses."""
    for name, value in exc.headers.items():
        if name.lower() in ('retry-after', 'allow', 'www-authenticate'):
            request.response.headers[name] = value
    detail = exc.detail if hasattr(exc.detail, 'domain') else None
    return _api_error_body(request, exc.code, detail)


@view_config(
    context=UnicodeDecodeError, registry_api=True, renderer='json', permission=NO_PERMISSION_REQUIRED
)
def api_bad_encoding(exc, request):
    return _api_error_body(request, 400)


@view_config(context=Exception, registry_api=True, renderer='json', permission=NO_PERMISSION_REQUIRED)
def api_server_error(exc, request):
    """A conflict is run again by pyramid_retry; one that survives every attempt is a 503 with
    ``Retry-After``.  Anything else is logged and answers 500, in JSON."""
    if is_conflict(exc):
        bare = conflict_answer(request, exc)
        return bare if bare is not None else _api_error_body(request, 503)
    log.exception('unexpected error on %s %s', request.method, request.environ.get('PATH_INFO', '')[:200])
    return _api_error_body(request, 500)


def no_store(event):
    """Every answer on the API's addresses is ``Cache-Control: no-store``: it is about one site's cards."""
    if event.request.environ.get('PATH_INFO', '').startswith(PREFIX + '/'):
        event.response.cache_control.no_store = True


def includeme(config):
    config.add_view_predicate('registry_api', ApiPathPredicate)
    config.add_subscriber(no_store, NewResponse)
    config.registry.lookup_throttle = Throttle(config.registry, 'registry-lookups', LOOKUP_WINDOW)
    config.add_subscriber(bound_bodies_before_retry, ApplicationCreated)
    for name, path in (
        ('verify', '/verify'),
        ('visits', '/visits'),
        ('undo', '/visits/undo'),
        ('statistics', '/statistics'),
    ):
        config.add_route(f'registry_api_{name}', PREFIX + path, factory=registry_factory)
    config.add_route('registry_api_openapi', PREFIX + '/openapi.json')
    config.add_tween(
        'kaiku_registry.api.api_tween_factory',
        under='portal.security.tweens.valid_utf8_tween_factory',
        over='pyramid_tm.tm_tween_factory',
    )
    config.scan(__name__)
