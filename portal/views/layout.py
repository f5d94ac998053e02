"""What every themed page shows around its own content.

:class:`Layout` is handed to every Chameleon template as ``layout``: the interface language, the site's
main navigation, breadcrumbs, the language switcher and the footer links.  It reads the content through
the resources' own methods and the security policy, never from ZODB directly.

Every part of the frame is guarded (:func:`frame_part`): a part that fails is left out of the page (or
shows its plain default), so that an error page renders for any root and context, e.g. on the registry
API's routes, whose root is the registry, or for a request whose root was never reached.  A conflict in a
part of an ordinary page is not hidden: it propagates so that the request is run again.
"""

import functools
import logging
from functools import cached_property
from urllib.parse import urlencode, urlsplit

from pyramid.csrf import get_csrf_token
from pyramid.events import BeforeRender, subscriber
from pyramid.renderers import get_renderer
from pyramid.traversal import find_root

from portal import clock
from portal.i18n import DEFAULT_LANGUAGE, LANGUAGE_NAMES, LANGUAGES
from portal.resources.base import Item
from portal.resources.site import Site
from portal.security import current_user
from portal.views.errors import is_conflict
from portal.workflow import PUBLISHED

log = logging.getLogger(__name__)

MAIN_TEMPLATE = 'kaiku_theme:templates/layout.pt'
MACROS = 'kaiku_theme:templates/macros.pt'
#: How many (application URL, file) pairs :meth:`Layout.static` remembers.
STATIC_URLS_KEPT = 200
#: How many anonymous navigations (per generation, language and application URL) are remembered.
NAVIGATIONS_KEPT = 50


def frame_part(default):
    """A cached property of the page frame that gives ``default()`` when computing it fails.

    On an error page (``request.exception`` set) a failure is noted in one line and left out: the page
    answers another error, which is logged already.  On an ordinary page a conflict propagates, so that
    pyramid_retry runs the request again; any other failure is logged and left out.
    """

    def decorate(method):
        @functools.wraps(method)
        def guarded(self):
            try:
                return method(self)
            except Exception as exc:
                if getattr(self.request, 'exception', None) is not None:
                    log.info('the error page left out its %s: %r', method.__name__, exc)
                elif is_conflict(exc):
                    raise
                else:
                    log.exception('the page frame left out its %s', method.__name__)
                return default()

        return cached_property(guarded)

    return decorate


class Layout:
    """The page frame's data for one request."""

    def __init__(self, request, context=None):
        self.request = request
        self.context = context if context is not None else getattr(request, 'context', None)

    @frame_part(lambda: DEFAULT_LANGUAGE)
    def lang(self):
        return self.request.locale_name

    def translate(self, message, mapping=None):
        return self.request.localizer.translate(message, mapping=mapping)

    @frame_part(lambda: None)
    def site(self):
        """The site, or None when this request has no root (an answer made before traversal) or its
        root is not in the site (the registry API's routes have the registry as their root)."""
        root = self.request.__dict__.get('root')
        if root is None:
            return None
        site = find_root(root)
        return site if isinstance(site, Site) else None

    def text(self, item, field):
        """An item's text in the interface language (or its own), with the language it is in."""
        return item.text(field, self.lang)

    def title(self, item):
        return item.text('title', self.lang)

    def url(self, item, *elements, **kw):
        return self.request.resource_url(item, *elements, **kw)

    def can_view(self, item):
        return bool(self.request.has_permission('view', item))

    @frame_part(lambda: 'Kaikukortti')
    def site_title(self):
        return self.title(self.site) if self.site is not None else 'Kaikukortti'

    @frame_part(list)
    def navigation(self):
        """The site's top-level sections: (url, title, current)."""
        site = self.site
        if site is None:
            return []
        current = self._lineage_names()
        return [(url, title, name in current) for name, url, title in self._sections()]

    def _sections(self):
        """(name, url, title) of the top-level sections the requester may view.  For an anonymous
        visitor they are remembered per catalog generation (every change to an item reindexes it),
        language and application URL."""
        site = self.site
        catalog = getattr(site, 'catalog', None)
        generation = catalog.generation() if hasattr(catalog, 'generation') else None
        key = None
        if generation is not None and self.user is None:
            key = (generation, self.lang, self.request.application_url)
            remembered = self.request.registry.__dict__.setdefault('_kaiku_navigation', {})
            found = remembered.get(key)
            if found is not None:
                return found
        sections = []
        for name, child in site.items():
            if child.exclude_from_nav or not self.can_view(child):
                continue
            sections.append((name, self.url(child), self.title(child)))
        if key is not None:
            if len(remembered) >= NAVIGATIONS_KEPT:
                remembered.clear()
            remembered[key] = sections
        return sections

    def _lineage_names(self):
        names = set()
        item = self.context if isinstance(self.context, Item) else None
        while item is not None and item.__parent__ is not None:
            names.add(item.__name__)
            item = item.__parent__
        return names

    @frame_part(list)
    def breadcrumbs(self):
        """(url, title) from the site down to the context's parent; empty on the home page.  The url is
        None for a level the user may not view (a private folder above a published item), so that no
        link leads to a refusal."""
        crumbs = []
        item = self.context
        if not isinstance(item, Item):
            return crumbs
        item = item.__parent__
        while item is not None:
            crumbs.append((self.url(item) if self.can_view(item) else None, self.title(item)))
            item = item.__parent__
        return list(reversed(crumbs))

    @frame_part(list)
    def language_links(self):
        """(code, name, url, current) for each language, keeping the page and its other parameters."""
        params = [(k, v) for k, v in self.request.GET.items() if k != 'lang']
        links = []
        path_url = self.request.path_url
        kept = urlencode(params)
        for code in LANGUAGES:
            query = f'{kept}&lang={code}' if kept else f'lang={code}'
            links.append((code, LANGUAGE_NAMES[code], f'{path_url}?{query}', code == self.lang))
        return links

    def _page(self, name):
        site = self.site
        item = site.get(name) if site is not None else None
        if item is None or item.state != PUBLISHED:
            return None
        return (self.url(item), self.title(item))

    @frame_part(list)
    def footer_links(self):
        settings = self.request.registry.portal_settings
        pages = (self._page(settings.accessibility_page), self._page(settings.privacy_page))
        return [page for page in pages if page]

    @frame_part(lambda: '/')
    def home_url(self):
        return self.request.application_url + '/'

    @frame_part(lambda: 'login')
    def login_url(self):
        """The login page, coming back afterwards to the page the link is on.

        That page is this request's own for a GET; after a form was posted (the session timed out while
        the form was open, as at a venue's door) it is the page the form was on, known from the Referer
        when that is this site.  Login checks ``came_from`` again (:func:`portal.views.auth.safe_came_from`).
        """
        request = self.request
        login = self.home_url + 'login'
        if request.method in ('GET', 'HEAD'):
            query = request.query_string
            came_from = request.path_info + (f'?{query}' if query else '')
        else:
            referer = request.referer or ''
            site = request.application_url + '/'
            came_from = referer[len(site) - 1 :] if referer.startswith(site) else ''
        if urlsplit(came_from).path.rstrip('/') in ('', '/login', '/logout'):
            return login
        return f'{login}?{urlencode({"came_from": came_from})}'

    @frame_part(lambda: None)
    def user(self):
        """The logged-in user, or None."""
        return current_user(self.request)

    @frame_part(str)
    def csrf_token(self):
        return get_csrf_token(self.request)

    @frame_part(list)
    def edit_bar(self):
        """(url, title, current) of the actions the logged-in user may take on this page's item."""
        if self.user is None or self.context is None or not hasattr(self.context, 'type_name'):
            return []
        from portal.views.manage import edit_actions

        return edit_actions(self.request, self.context)

    def time(self, value, seconds=False):
        """A stored time in Finnish time, written as the reader's language writes it."""
        return clock.show_time(value, self.lang, seconds=seconds)

    def clock(self, value):
        """The time of day of a stored time in Finnish time, as the reader's language writes it."""
        return clock.show_clock(value, self.lang)

    def day(self, value):
        """A date written as the reader's language writes it."""
        return clock.show_day(value, self.lang)

    def field_title(self, item, name):
        """The translated title of field ``name`` of ``item``'s type, or the name itself when the type
        has no such field (any more)."""
        titles = self.__dict__.setdefault('_field_titles', {})
        key = type(item)
        if key not in titles:
            found = {}
            try:
                info = self.request.registry.content_types.of(item)
                found = {node.name: node.title for node in info.make_schema().children}
            except Exception:  # a type without a schema: names are all there is
                log.debug('no field titles for %r', key, exc_info=True)
            titles[key] = found
        title = titles[key].get(name)
        return self.translate(title) if title else name

    def static(self, path):
        """The URL of a theme file, remembered per application URL (a registry holds at most
        ``STATIC_URLS_KEPT`` of them)."""
        request = self.request
        try:
            urls = request.registry.__dict__.setdefault('_kaiku_static_urls', {})
            key = (request.application_url, path)
            url = urls.get(key)
            if url is None:
                url = request.static_url(f'kaiku_theme:static/{path}')
                if len(urls) < STATIC_URLS_KEPT:
                    urls[key] = url
        except Exception:
            log.warning('the page frame left out the address of %s', path, exc_info=True)
            return ''
        return url


@subscriber(BeforeRender)
def add_layout(event):
    """Give every page template the layout data and the main template's macros."""
    request = event.get('request')
    renderer_name = event.get('renderer_name') or ''
    if request is None or not renderer_name.endswith('.pt'):
        return
    event.setdefault('layout', Layout(request, event.get('context')))
    event.setdefault('main_template', get_renderer(MAIN_TEMPLATE).implementation())
    event.setdefault('macros', get_renderer(MACROS).implementation().macros)
