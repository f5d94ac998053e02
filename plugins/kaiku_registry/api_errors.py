"""The API's errors: every answer on the API's addresses is JSON with a stable ``error`` code and a
``message``, ``Cache-Control: no-store``, whatever went wrong (the portal's HTML error pages stay
for the rest of the site).
"""

import logging

from pyramid.events import NewResponse
from pyramid.httpexceptions import HTTPError, HTTPException, HTTPForbidden, HTTPNotFound
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from kaiku_registry.api import PREFIX, ApiError
from kaiku_registry.i18n import _
from portal.views.errors import conflict_answer, is_conflict

log = logging.getLogger(__name__)


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
    config.scan(__name__)
