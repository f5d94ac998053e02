"""The HTTP edge: what every request passes before and after the views.

- :func:`guarded_execution_policy` wraps pyramid_retry's execution policy, the outermost layer of the
  application: whatever escapes it is logged once and answered with a plain 500 that carries the security
  headers, so that waitress never makes an answer of its own.
- :func:`security_headers_tween_factory` is the top tween: it turns an exception raised by any tween or view
  beneath it into the exception view's answer (or the plain 500 when that fails too), and adds the security
  headers to every answer.
- :func:`valid_utf8_tween_factory`, right beneath it, answers 400 to a request whose path, query string,
  cookies or form body are not valid UTF-8, before any tween, session, locale negotiator or view decodes
  them.
- :func:`no_write_on_get_tween_factory` aborts a GET or HEAD that wrote to the database (plone.protect).
"""

import logging
import re
import sys
from urllib.parse import unquote_to_bytes

from pyramid.httpexceptions import HTTPBadRequest
from pyramid.i18n import make_localizer
from pyramid.interfaces import ITranslationDirectories
from pyramid.response import Response

from portal.i18n import _
from portal.security.policy import SESSION_KEY

log = logging.getLogger(__name__)


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'self'; form-action 'self'"
)


def add_security_headers(response, registry):
    """Give ``response`` the headers every answer carries (those it has already stay)."""
    headers = response.headers
    headers.setdefault('Content-Security-Policy', CSP)
    headers.setdefault('X-Content-Type-Options', 'nosniff')
    headers.setdefault('Referrer-Policy', 'strict-origin-when-cross-origin')
    headers.setdefault('X-Frame-Options', 'SAMEORIGIN')
    hsts = registry.settings.get('portal.hsts') if registry is not None else None
    if hsts:
        headers.setdefault('Strict-Transport-Security', hsts)
    return response


SERVER_ERROR = _('Something went wrong. The error has been logged. Please try again in a moment.')


def plain_error_response(registry):
    """A 500 that needs nothing but the registry: plain text in the site's default language, with the
    security headers and ``Cache-Control: no-store``."""
    text = SERVER_ERROR
    try:
        settings = registry.settings
        directories = registry.queryUtility(ITranslationDirectories, default=[])
        locale = settings.get('pyramid.default_locale_name') or 'en'
        text = make_localizer(locale, directories).translate(SERVER_ERROR)
    except Exception:
        log.exception('the plain error answer could not be translated')
    response = Response(str(text), status=500, content_type='text/plain', charset='utf-8')
    response.cache_control.no_store = True
    return add_security_headers(response, registry)


def guarded_execution_policy(policy):
    """Wrap the execution policy (pyramid_retry's, which runs a conflicted request again) so that no
    exception ever reaches the WSGI server: one that escapes every tween, exception view and retry is
    logged once and answered with :func:`plain_error_response`."""

    def guarded_policy(environ, router):
        try:
            return policy(environ, router)
        except Exception:
            log.exception(
                'unhandled error on %s %s', environ.get('REQUEST_METHOD'), environ.get('PATH_INFO', '')[:200]
            )
            return plain_error_response(router.registry)

    return guarded_policy


def security_headers_tween_factory(handler, registry):
    """The top tween: render an exception from beneath as its exception view's answer, and add the
    security headers to every answer; ``Cache-Control: no-store`` for logged-in users.

    The exception view is found here as the excview tween would find it (and ``request.exception`` is
    left set, so pyramid_retry still runs a conflicted request again).  An exception view that fails, or
    none at all, gives :func:`plain_error_response`.
    """

    def render_exception(request):
        exc_info = sys.exc_info()
        try:
            return request.invoke_exception_view(exc_info)
        except Exception:
            log.exception('no error page could be made on %s', request.environ.get('PATH_INFO', '')[:200])
            request.exception, request.exc_info = exc_info[1], exc_info
            return plain_error_response(registry)
        finally:
            del exc_info

    def security_headers_tween(request):
        try:
            response = handler(request)
        except Exception:
            response = render_exception(request)
        add_security_headers(response, registry)
        session = request.__dict__.get('session')
        if session is not None and session.get(SESSION_KEY):
            response.cache_control.no_store = True
            response.cache_control.private = True
            response.cache_control.max_age = None
            response.cache_control.public = None
        return response

    return security_headers_tween


def zodb_connections(request):
    """The database connections this request opened (the content database's and those it joined)."""
    primary = request.__dict__.get('_primary_zodb_conn')
    if primary is None:
        return []
    return list(primary.connections.values())


def has_pending_writes(request):
    """True when a persistent object was changed or added during this request."""
    return any(conn._registered_objects or conn._added for conn in zodb_connections(request))


def no_write_on_get_tween_factory(handler, registry):
    """Abort the transaction of a GET or HEAD that changed the database, and log it as an error."""

    def no_write_on_get_tween(request):
        response = handler(request)
        if request.method in ('GET', 'HEAD') and has_pending_writes(request):
            log.error('a %s request tried to write to the database: %s', request.method, request.path_qs)
            request.tm.doom()
        return response

    return no_write_on_get_tween


UNDECODABLE = _('The address, a form or a cookie contains characters that are not valid UTF-8.')
#: Cookie names that a 400 for an undecodable cookie may expire (RFC 6265 tokens).
COOKIE_NAME_RE = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


class UndecodableRequest(HTTPBadRequest):
    """A request whose path, query string, cookies or form body are not valid UTF-8."""


def _is_utf8(data):
    try:
        data.decode('utf-8')
    except UnicodeError:
        return False
    return True


def _wsgi_bytes(value):
    """A WSGI environ string as the bytes that came over the wire (None when it is not a WSGI string)."""
    try:
        return value.encode('latin-1')
    except UnicodeError:
        return None


def undecodable_cookies(header):
    """The names of the cookies in a ``Cookie`` header whose name or value is not valid UTF-8."""
    bad = []
    for pair in header.split(';'):
        raw = _wsgi_bytes(pair)
        if raw is None or not _is_utf8(raw) or not _is_utf8(unquote_to_bytes(raw)):
            bad.append(pair.partition('=')[0].strip())
    return bad


def undecodable_part(request):
    """Which part of the request is not valid UTF-8: ``'path'``, ``'query'``, ``'cookie'``, ``'form'``,
    or None when every part decodes."""
    environ = request.environ
    for part, value in (
        ('path', environ.get('SCRIPT_NAME', '') + environ.get('PATH_INFO', '')),
        ('query', environ.get('QUERY_STRING', '')),
    ):
        raw = _wsgi_bytes(value)
        if raw is None or not _is_utf8(unquote_to_bytes(raw)):
            return part
    if undecodable_cookies(environ.get('HTTP_COOKIE', '')):
        return 'cookie'
    if request.method in ('POST', 'PUT', 'PATCH') and not _form_decodes(request):
        return 'form'
    return None


def _form_decodes(request):
    """Whether a form body is valid UTF-8.  webob decodes forms replacing what does not decode with
    U+FFFD, so a urlencoded body is checked as bytes, and a multipart one (whose files are binary) by
    its decoded names and text values, which hold U+FFFD only where the bytes did not decode."""
    content_type = request.content_type
    if content_type == 'application/x-www-form-urlencoded':
        return _is_utf8(unquote_to_bytes(request.body))
    if content_type == 'multipart/form-data':
        for name, value in request.POST.items():  # parsed once: webob keeps the result for the view
            texts = (name, value) if isinstance(value, str) else (name, getattr(value, 'filename', '') or '')
            if any('\ufffd' in text for text in texts):
                return False
    return True


def valid_utf8_tween_factory(handler, registry):
    """Answer 400 to a request whose path, query string, cookies or form body are not valid UTF-8.

    Beneath this tween every part of the request decodes, so no tween, session, locale negotiator or
    view meets a UnicodeDecodeError.  A cookie that does not decode is expired by the answer, so that
    the next request from the same browser works again.
    """

    def valid_utf8_tween(request):
        part = undecodable_part(request)
        if part is None:
            return handler(request)
        log.info('%s is not valid UTF-8 on %s', part, request.environ.get('REQUEST_METHOD'))
        error = UndecodableRequest(detail=UNDECODABLE)
        if part == 'cookie':
            for name in undecodable_cookies(request.environ.get('HTTP_COOKIE', '')):
                if COOKIE_NAME_RE.match(name):
                    error.headers.add('Set-Cookie', f'{name}=; Max-Age=0; Path=/')
        raise error

    return valid_utf8_tween
