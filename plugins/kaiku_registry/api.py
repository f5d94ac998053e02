"""The registry's JSON API for ticketing systems and apps (see :mod:`kaiku_registry.openapi`).

Requests carry a site's API token as a bearer token, so the API needs no cookies and no CSRF token; card
codes travel only in POST bodies.  Every error is JSON with a stable ``error`` code and a ``message``
(:mod:`kaiku_registry.api_errors`).  The token is checked before the body is read, and bodies are
bounded, by the gate in :mod:`kaiku_registry.api_guard`, which also answers ordinary verifications on
a fast lane.
"""

import hashlib
import logging
import math

import colander
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config
from pyramid_zodbconn import get_connection

from kaiku_registry import REGISTRY_NAME, codes, openapi, today
from kaiku_registry.api_guard import MAX_BODY, MAX_DEPTH, PREFIX, ReadConnections  # noqa: F401 - kept importable
from kaiku_registry.i18n import _
from kaiku_registry.models import RuleError
from kaiku_registry.reports import uses_by
from kaiku_registry.schemas import CodeSchema, VisitSchema
from portal import root_factory
from portal.audit import deferred_audit
from portal.security import Throttle

log = logging.getLogger(__name__)
#: Unknown codes allowed per client (an API token, a logged-in user) within :data:`LOOKUP_WINDOW` seconds
#: before that client's further lookups wait.
CLIENT_FAILURES = 20
#: Unknown codes allowed per site from all its clients together.  A client stops counting when it
#: reaches its own limit, so the ceiling needs at least five clients failing: one client's typos or one
#: leaked token never lock the whole site out.
SITE_FAILURES = 5 * CLIENT_FAILURES
LOOKUP_WINDOW = 600
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
    # The request's connection, whose transaction has just begun: a throttle in the main database is
    # read there instead of beginning a transaction of its own (on ZEO, a round trip to the server).
    wait = lookup_wait(request.registry, site, api_client(request), get_connection(request))
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
        'group': visit.group,
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
        'closed_reason': result.card.closed_reason if result.status == 'closed' else None,
    }


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
    visit = context.visit(visit_id)
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


def includeme(config):
    config.include('kaiku_registry.api_errors')
    config.include('kaiku_registry.api_guard')
    config.registry.lookup_throttle = Throttle(config.registry, 'registry-lookups', LOOKUP_WINDOW)
    for name, path in (
        ('verify', '/verify'),
        ('visits', '/visits'),
        ('undo', '/visits/undo'),
        ('statistics', '/statistics'),
    ):
        config.add_route(f'registry_api_{name}', PREFIX + path, factory=registry_factory)
    config.add_route('registry_api_openapi', PREFIX + '/openapi.json')
    config.scan(__name__)
