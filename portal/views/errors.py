"""Themed error pages.  No error page ever shows a traceback or the server's internals.

An error view must never fail itself: when it did, its own exception replaced the one it was answering
(a conflict then reached the client as a 500 and was never retried).  The page frame guards each of its
parts (:mod:`portal.views.layout`), so these pages render for any root and context, even when the
content database cannot be reached.

A conflict (ZODB's ConflictError and ReadConflictError, RelStorage's lock errors: anything transient) is
run again by pyramid_retry with a short back-off; one that survives every attempt answers 503 with
``Retry-After`` and says that nothing was saved.
"""

import logging

from pyramid.httpexceptions import HTTPError
from pyramid.response import Response
from pyramid.view import exception_view_config, forbidden_view_config, notfound_view_config
from pyramid_retry import is_error_retryable
from transaction.interfaces import TransientError

from portal.i18n import _
from portal.security.tweens import UNDECODABLE

log = logging.getLogger(__name__)
TEMPLATE = 'kaiku_theme:templates/error.pt'
#: Seconds a client is asked to wait after a conflict that survived every attempt.
RETRY_AFTER = 2

TITLES = {
    400: _('The request could not be understood'),
    403: _('You may not see this page'),
    404: _('Page not found'),
    405: _('That cannot be done here'),
    413: _('The file is too large'),
    429: _('Too many tries'),
    500: _('Something went wrong'),
    503: _('The site is busy'),
}
EXPLANATIONS = {
    400: _('Something in the address or the form was not valid. Check it and try again.'),
    403: _('This page is not public. If you work for the network, log in first.'),
    404: _('The page may have moved or been removed. Try the search or the front page.'),
    500: _('The error has been logged. Please try again in a moment.'),
    503: _(
        'Many changes were made at the same moment and yours could not be saved. Nothing was saved: '
        'try again in a moment.'
    ),
}
#: Headers of an HTTP error that its page keeps.
KEPT_HEADERS = ('retry-after', 'allow', 'www-authenticate', 'set-cookie')


def _lock_errors():
    try:
        from relstorage.adapters.interfaces import UnableToAcquireLockError
    except ImportError:
        return ()
    return (UnableToAcquireLockError,)


#: What counts as a conflict: the transaction package's transient errors (ZODB's conflicts, RelStorage's
#: row-lock errors derive from them) and RelStorage's lock errors that do not.
CONFLICTS = (TransientError, *_lock_errors())


def is_conflict(exc):
    """True when ``exc`` is a conflict between concurrent transactions: running the request again, or
    trying again a moment later, can succeed."""
    return isinstance(exc, CONFLICTS)


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
        if name.lower() in KEPT_HEADERS:
            request.response.headers.add(name, value)
    return _render(request, exc.code, _detail(exc))


@exception_view_config(UnicodeDecodeError, renderer=TEMPLATE)
def bad_encoding(exc, request):
    return _render(request, 400, UNDECODABLE)


def _path(request):
    return request.environ.get('PATH_INFO', '')[:200]


def conflict_answer(request, exc):
    """For a conflict: a bare answer when pyramid_retry will run the request again (it is thrown away),
    else None after setting 503 and ``Retry-After`` on ``request.response``: on the last attempt, or for
    a lock error that is not retried (RelStorage's commit lock timeout, which waited long already).
    Logs either way."""
    if is_error_retryable(request, exc):
        log.info('retrying %s %s after %s', request.method, _path(request), type(exc).__name__)
        return Response(status=503)
    log.warning(
        'conflict on %s %s in attempt %s: %r',
        request.method,
        _path(request),
        request.environ.get('retry.attempt', 0) + 1,
        exc,
    )
    request.response.status_int = 503
    request.response.headers['Retry-After'] = str(RETRY_AFTER)
    return None


@exception_view_config(Exception, renderer=TEMPLATE)
def server_error(exc, request):
    if is_conflict(exc):
        return conflict_answer(request, exc) or _render(request, 503)
    log.exception('unexpected error on %s %s', request.method, _path(request))
    return _render(request, 500)
