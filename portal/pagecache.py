"""One page cache for every anonymous page, with HTTP revalidation.

A page an anonymous visitor gets depends only on the content, the URL and the interface language.  The
catalog's change counter (:meth:`portal.catalog.SiteCatalog.generation`) moves on with every change to an
item, so ``(generation, application URL, path and query, language)`` names one version of a page:

- the rendered body is kept per process (an LRU of :data:`PAGE_CACHE_SIZE` pages, on the application
  registry) and answered without running the view again;
- the same key gives the page's ``ETag`` (and ``Last-Modified``, the moment this process first saw the
  generation), so a browser or a front proxy that already holds the page gets ``304 Not Modified``
  without a body;
- ``Cache-Control: public, max-age=0, s-maxage=...`` lets a shared proxy keep a page briefly while
  browsers revalidate every time; ``Vary`` names what the language can come from.

Only a plain ``200 text/html`` answer to a GET from a visitor without a login is kept, and only when the
view used no session (a form with a CSRF token, a flash message), set no cookie and did not say
``no-store`` or ``private``.  A view whose page depends on data outside the catalog (the registry's
statistics) calls :func:`uncacheable`.
"""

import hashlib
import threading
import time
from collections import OrderedDict
from email.utils import formatdate, parsedate_to_datetime

from pyramid.interfaces import IRootFactory
from pyramid.response import Response

from portal.security.sessions import SESSION_COOKIE

#: Rendered pages kept per process.
PAGE_CACHE_SIZE = 512
#: Seconds a shared proxy may keep an anonymous page without asking again.
SHARED_MAX_AGE = 30
#: Generations whose first-seen time is remembered (for ``Last-Modified``).
GENERATIONS_KEPT = 64
UNCACHEABLE = 'portal.pagecache.uncacheable'
VARY = ('Cookie', 'Accept-Language')


def uncacheable(request):
    """Say that this request's page must not be kept nor validated by the catalog's generation."""
    request.environ[UNCACHEABLE] = True


class PageCache:
    """Rendered pages by key, least recently used first out; safe for waitress's threads."""

    def __init__(self, size=PAGE_CACHE_SIZE, clock=time.time):
        self.size = size
        self.clock = clock
        self.entries = OrderedDict()
        self.first_seen = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            found = self.entries.get(key)
            if found is not None:
                self.entries.move_to_end(key)
            return found

    def put(self, key, value):
        with self._lock:
            self.entries[key] = value
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)

    def clear(self):
        with self._lock:
            self.entries.clear()
            self.first_seen.clear()

    def seen(self, generation):
        """The time this process first saw ``generation`` (whole seconds, as HTTP dates have)."""
        with self._lock:
            when = self.first_seen.get(generation)
            if when is None:
                when = self.first_seen[generation] = int(self.clock())
                while len(self.first_seen) > GENERATIONS_KEPT:
                    self.first_seen.popitem(last=False)
            return when


def page_cache(registry):
    cache = registry.__dict__.get('portal_page_cache')
    if cache is None:
        cache = registry.__dict__.setdefault('portal_page_cache', PageCache())
    return cache


def page_key(request):
    """The key of this request's page, or None when the page may not be kept.

    A visitor who has a session cookie may be logged in, or have a message waiting or a form half done:
    their pages are always made for them.
    """
    if request.method not in ('GET', 'HEAD') or SESSION_COOKIE in request.cookies:
        return None
    root = request.registry.getUtility(IRootFactory)(request)  # traversal has not run yet in a tween
    catalog = getattr(root, 'catalog', None)
    generation = catalog.generation() if hasattr(catalog, 'generation') else None
    if generation is None:
        return None
    return (generation, request.application_url, request.path_qs, request.locale_name)


def etag_of(key):
    return hashlib.blake2b(repr(key).encode('utf-8'), digest_size=12).hexdigest()


def _session_used(request):
    """True when rendering put something in the session (a CSRF token for a form, a message)."""
    session = request.__dict__.get('session')
    return session is not None and bool(dict(session))


def _keepable(request, response):
    if request.environ.get(UNCACHEABLE) or response.status_int != 200:
        return False
    if response.content_type != 'text/html' or 'Set-Cookie' in response.headers:
        return False
    cache_control = response.cache_control
    if cache_control.no_store or cache_control.private or cache_control.no_cache:
        return False
    return not _session_used(request)


def _not_modified(request, etag, last_modified):
    if_none_match = request.headers.get('If-None-Match')
    if if_none_match is not None:
        tags = {tag.strip().removeprefix('W/').strip('"') for tag in if_none_match.split(',')}
        return etag in tags
    since = request.headers.get('If-Modified-Since')
    if since:
        try:
            return parsedate_to_datetime(since).timestamp() >= last_modified
        except (TypeError, ValueError, IndexError, OverflowError):
            return False
    return False


def _validators(response, etag, last_modified):
    response.headers['ETag'] = f'"{etag}"'
    response.headers['Last-Modified'] = formatdate(last_modified, usegmt=True)
    response.headers['Cache-Control'] = f'public, max-age=0, s-maxage={SHARED_MAX_AGE}, must-revalidate'
    response.headers['Vary'] = ', '.join(VARY)


def _keep_after_commit(committed, cache, key, body):
    if committed:
        cache.put(key, body)


def page_cache_tween_factory(handler, registry):
    """Answer anonymous pages from the cache or with 304, and keep what the views render."""
    cache = page_cache(registry)

    def page_cache_tween(request):
        try:
            key = page_key(request)
        except Exception:  # no site yet, a broken cookie: the view's own error handling answers
            key = None
        if key is None:
            return handler(request)
        body = cache.get(key)
        if body is not None:
            etag, last_modified = etag_of(key), cache.seen(key[0])
            if _not_modified(request, etag, last_modified):
                response = Response(status=304)
                del response.content_type
            else:
                response = Response(body=body, content_type='text/html', charset='UTF-8')
            _validators(response, etag, last_modified)
            return response
        response = handler(request)
        if _keepable(request, response):
            # Kept only once the request's transaction has committed: a page rendered in an attempt that
            # ends in a conflict (and is run again) or is aborted must not be answered later.
            body = response.body
            request.tm.get().addAfterCommitHook(_keep_after_commit, (cache, key, body))
            _validators(response, etag_of(key), cache.seen(key[0]))
        return response

    return page_cache_tween


def includeme(config):
    from pyramid.tweens import EXCVIEW

    config.add_tween(
        'portal.pagecache.page_cache_tween_factory', under='pyramid_tm.tm_tween_factory', over=EXCVIEW
    )
