"""Themed error pages.  No error page ever shows a traceback or the server's internals."""

import logging

from pyramid.httpexceptions import HTTPError
from pyramid.view import exception_view_config, forbidden_view_config, notfound_view_config
from pyramid_retry import is_error_retryable

from portal.i18n import _

log = logging.getLogger(__name__)
TEMPLATE = 'kaiku_theme:templates/error.pt'

TITLES = {
    400: _('The request could not be understood'),
    403: _('You may not see this page'),
    404: _('Page not found'),
    405: _('That cannot be done here'),
    413: _('The file is too large'),
    429: _('Too many tries'),
    500: _('Something went wrong'),
}
EXPLANATIONS = {
    400: _('Something in the address or the form was not valid. Check it and try again.'),
    403: _('This page is not public. If you work for the network, log in first.'),
    404: _('The page may have moved or been removed. Try the search or the front page.'),
    500: _('The error has been logged. Please try again in a moment.'),
}


def _render(request, status, detail=None):
    request.response.status_int = status
    return {
        'status': status,
        'title': TITLES.get(status, TITLES[500] if status >= 500 else TITLES[400]),
        'explanation': EXPLANATIONS.get(status, EXPLANATIONS[500 if status >= 500 else 400]),
        'detail': detail,
    }


def _detail(exc):
    """A message the view chose to show (a translation string), never an exception's own text."""
    detail = getattr(exc, 'detail', None)
    return detail if hasattr(detail, 'domain') else None


@notfound_view_config(renderer=TEMPLATE)
def not_found(exc, request):
    return _render(request, 404, _detail(exc))


@forbidden_view_config(renderer=TEMPLATE)
def forbidden(exc, request):
    return _render(request, 403)


@exception_view_config(HTTPError, renderer=TEMPLATE)
def http_error(exc, request):
    for name, value in exc.headers.items():
        if name.lower() in ('retry-after', 'allow', 'www-authenticate'):
            request.response.headers[name] = value
    return _render(request, exc.code, _detail(exc))


@exception_view_config(UnicodeDecodeError, renderer=TEMPLATE)
def bad_encoding(exc, request):
    return _render(request, 400, _('The address or form contains characters that are not valid UTF-8.'))


@exception_view_config(Exception, renderer=TEMPLATE)
def server_error(exc, request):
    if is_error_retryable(request, exc):
        # A conflict that pyramid_retry will run again: no error unless the last attempt fails too.
        log.info('retrying %s %s after %s', request.method, request.path_qs, type(exc).__name__)
    else:
        log.exception('unexpected error on %s %s', request.method, request.path_qs)
    return _render(request, 500)
