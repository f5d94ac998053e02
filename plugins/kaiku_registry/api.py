"""The registry's JSON API for ticketing systems and apps (see :mod:`kaiku_registry.openapi`).

Requests carry a site's API token as a bearer token, so the API needs no cookies and no CSRF token; card
codes travel only in POST bodies.  Every error is JSON with a stable ``error`` code and a ``message``.
"""

import contextlib
import json
import logging
import math
import threading

import colander
import transaction
from pyramid.events import NewResponse
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
from portal.security import LoginThrottle
from portal.views.errors import conflict_answer, is_conflict

log = logging.getLogger(__name__)
PREFIX = '/registry/api/v1'
#: Failed lookups allowed per site in the window before further lookups wait.
LOOKUP_FAILURES = LoginThrottle(max_failures=20, window=600)
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


def guard(site):
    wait = LOOKUP_FAILURES.retry_after([f'site:{site.id}'])
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
    guard(site)
    values = json_body(request, CodeSchema())
    code = read_code(request, values['code'])
    return verification_json(context, site, code, request.registry, getattr(request, 'client_addr', ''))


def verification_json(registry, site, code, app_registry, address):
    """The answer to a verification of ``code`` for ``site``; an unknown code counts as a failed lookup,
    and the read of a known card goes to the audit log (by internal id, as the door's reads do; written
    in batches, see :class:`portal.audit.DeferredAudit`)."""
    result = registry.verify(code, today())
    if result.status == 'unknown':
        LOOKUP_FAILURES.failed([f'site:{site.id}'])
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


def fast_verify_tween_factory(handler, registry):
    """Answer the ordinary ``POST /registry/api/v1/verify`` without the page machinery.

    A ticketing system verifies codes one after another, and the request needs none of what a page
    needs: no session or CSRF token (the bearer token authorises it), no transaction to commit (it
    writes nothing), no traversal or view lookup.  This tween sits under the security headers tween and
    over ``pyramid_tm``; it answers a verification whose token is valid, whose site is not rate-limited
    and whose body is ``{"code": "<1 to 200 characters>"}``, reading the database through a
    connection of :class:`ReadConnections` and aborting its transaction.  The checks and the answer are
    those of :func:`verify` (the same functions); every other request, every error answer, and any
    request whose reading fails goes down the ordinary path, which answers as before.
    """
    path = PREFIX + '/verify'
    connections = ReadConnections(registry._zodb_databases[''])
    public_key = registry.registry_public_key

    def fast_answer(token, text, address):
        """The verification's answer, or None when the ordinary path should answer."""
        try:
            with connections.reading() as conn:
                site_root = conn.root().get(SITE_KEY)
                card_registry = site_root.get(REGISTRY_NAME) if site_root is not None else None
                site = card_registry.site_for_token(token) if card_registry is not None else None
                if site is None or LOOKUP_FAILURES.retry_after([f'site:{site.id}']):
                    return None
                try:
                    code = codes.read(text, public_key)
                except codes.PayloadError:
                    return None
                return verification_json(card_registry, site, code, registry, address)
        except Exception:
            # a failed read (a conflict, a lost storage server) is the ordinary path's to answer
            log.warning('fast verification failed, answering the ordinary way', exc_info=True)
            return None

    def fast_verify_tween(request):
        if request.method != 'POST' or request.path_info != path:
            return handler(request)
        scheme, _sep, token = request.environ.get('HTTP_AUTHORIZATION', '').partition(' ')
        try:
            body = json.loads(request.body) if scheme.lower() == 'bearer' else None
        except (ValueError, UnicodeDecodeError):
            body = None
        text = body.get('code') if isinstance(body, dict) else None
        if not isinstance(text, str) or not 1 <= len(text) <= 200:
            return handler(request)
        answer = fast_answer(token.strip(), text, request.client_addr)
        if answer is None:
            return handler(request)
        return Response(json.dumps(answer).encode('utf-8'), content_type='application/json', charset=None)

    return fast_verify_tween


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
    guard(site)
    values = json_body(request, VisitRequestSchema())
    card = context.card_by_code(read_code(request, values.pop('code')) or '')
    if card is None:
        LOOKUP_FAILURES.failed([f'site:{site.id}'])
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
    for name, path in (
        ('verify', '/verify'),
        ('visits', '/visits'),
        ('undo', '/visits/undo'),
        ('statistics', '/statistics'),
    ):
        config.add_route(f'registry_api_{name}', PREFIX + path, factory=registry_factory)
    config.add_route('registry_api_openapi', PREFIX + '/openapi.json')
    config.add_tween(
        'kaiku_registry.api.fast_verify_tween_factory',
        under='portal.security.tweens.valid_utf8_tween_factory',
        over='pyramid_tm.tm_tween_factory',
    )
    config.scan(__name__)
