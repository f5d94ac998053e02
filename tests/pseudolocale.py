"""The pseudo-locale and the crawl that reads every page in it (used by ``tests/test_pseudo_locale.py``).

The pseudo-locale is a set of catalogs made at test time from the real ones: every message of the portal's,
the registry's, colander's and deform's domains, translated as itself between ``«`` and ``»``.  Installed
over Finnish, it leaves a page's content, dates and numbers as they are and marks every interface string, so
text that reaches the reader without passing through a catalog (a validator's message in the wrong domain, a
stored value shown raw, an f-string, a header written in English) stands out unmarked.

What may be unmarked is the content and the user data: the words of ``content/`` (Finnish pages and the
venues' human-readable fields, never the stored identifiers such as ``museum`` or ``step_free``), the
municipality table and the records a test made.  :func:`unmarked` reports the rest.

:class:`Crawl` reads the pages one role can reach, following links from the pages it starts at, and
answers each form it meets submitted empty and with a bad value in every field a person types into;
nothing it does is committed.
"""

import collections
import html
import os
import re
import urllib.parse

import webtest
import yaml
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from bs4 import BeautifulSoup, Comment

from portal.testing import CONTENT_DIR, REPO, TEST_PASSWORD, DoomedTestApp, form_with, log_in

OPEN, CLOSE = '«', '»'
#: The catalogs the pseudo-locale marks: ``(domain, a file that holds every msgid of the domain)``.
SOURCES = [
    ('kaiku', os.path.join(REPO, 'portal', 'locale', 'fi', 'LC_MESSAGES', 'kaiku.po')),
    (
        'kaiku_registry',
        os.path.join(REPO, 'plugins', 'kaiku_registry', 'locale', 'fi', 'LC_MESSAGES', 'kaiku_registry.po'),
    ),
]
#: Attributes a reader sees or hears.
READ_ATTRIBUTES = ('title', 'aria-label', 'placeholder', 'alt', 'aria-description', 'aria-roledescription')
BUTTON_TYPES = ('submit', 'button', 'reset')
LETTERS = re.compile(r'[^\W\d_]+')
#: A marked message, or one cut short with an ellipsis (a long label shortened to fit a chart).
MARKED = re.compile(f'{OPEN}[^{OPEN}{CLOSE}]*({CLOSE}|…)')
IDENTIFIER = re.compile(r'^[a-z0-9_]+$')
#: A card code as the registry shows it (groups of four of its letters and digits): user data.
CARD_CODE = re.compile(r'\b[0-9A-Z]{4}(?:[ -][0-9A-Z]{2,4})+\b')
#: Names of file formats and units, the same in every language.
TECHNICAL = {'json', 'csv', 'pdf', 'kb', 'mb'}


def library_sources():
    """colander's and deform's templates of messages (``.pot``), as installed."""
    import colander
    import deform

    for module in (colander, deform):
        name = module.__name__
        yield name, os.path.join(os.path.dirname(module.__file__), 'locale', f'{name}.pot')


def read_catalog(path, locale='fi'):
    with open(path, 'rb') as f:
        return read_po(f, locale=locale)


def build_pseudo_locale(directory, locale='fi'):
    """Write the pseudo-locale's ``.mo`` files under ``directory/<locale>/LC_MESSAGES``; return how many
    messages it marks."""
    messages_dir = os.path.join(directory, locale, 'LC_MESSAGES')
    os.makedirs(messages_dir, exist_ok=True)
    count = 0
    for domain, path in [*SOURCES, *library_sources()]:
        pseudo = Catalog(locale=locale, domain=domain)
        for message in read_catalog(path):
            if not message.id:
                continue
            if isinstance(message.id, tuple | list):
                pseudo.add(
                    message.id, tuple(OPEN + form + CLOSE for form in message.id), context=message.context
                )
            else:
                pseudo.add(message.id, OPEN + message.id + CLOSE, context=message.context)
            count += 1
        with open(os.path.join(messages_dir, f'{domain}.mo'), 'wb') as f:
            write_mo(f, pseudo)
    return count


def install_pseudo_locale(app, directory):
    """Let ``directory``'s catalogs trump every other for the locales they hold (and forget the
    localizers made so far, which hold the real catalogs)."""
    from pyramid.config import Configurator
    from pyramid.interfaces import ILocalizer

    config = Configurator(registry=app.registry)
    config.add_translation_dirs(str(directory), override=True)
    config.commit()
    for name, _localizer in list(app.registry.getUtilitiesFor(ILocalizer)):
        app.registry.unregisterUtility(provided=ILocalizer, name=name)


def words(text):
    return {word.casefold() for word in LETTERS.findall(text)}


def _human_values(value):
    """The strings of a content file's front matter that a reader sees; stored identifiers left out."""
    if isinstance(value, str):
        if not IDENTIFIER.match(value):
            yield value
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _human_values(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _human_values(item)


def content_words():
    """Every word of the Finnish files of ``content/`` (those without a language suffix)."""
    found = set()
    for folder, _dirs, files in os.walk(CONTENT_DIR):
        for name in files:
            if not name.endswith('.md') or '.' in name[:-3]:
                continue
            with open(os.path.join(folder, name), encoding='utf-8') as f:
                text = f.read()
            front, body = '', text
            if text.startswith('---'):
                front, _, body = text[3:].partition('\n---')
            for value in _human_values(yaml.safe_load(front) or {}):
                found |= words(value)
            found |= words(body)
    return found


def place_words():
    """Names of municipalities, regions and wellbeing services counties in Finnish and Swedish."""
    import csv

    found = set()
    for name in ('municipalities.csv', 'regions.csv', 'counties.csv'):
        with open(os.path.join(REPO, 'portal', 'data', name), encoding='utf-8') as f:
            for row in csv.reader(f):
                for cell in row:
                    found |= words(cell)
    return found


def _visible_root(soup):
    for tag in soup(['script', 'style', 'noscript']):
        tag.decompose()
    # Text marked as another language than the page's (an item's translation beside its original, a
    # language's own name) is content in that language, not an interface string.
    page = soup.find('html')
    page_lang = page.get('lang') if page is not None else None
    for tag in soup.find_all(lang=True):
        if not tag.decomposed and tag is not page and tag.get('lang') != page_lang:
            tag.decompose()
    for comment in soup.find_all(string=lambda text: isinstance(text, Comment)):
        comment.extract()
    return soup


def visible_texts(page_html):
    """``(strings, attributes)`` of a page: its visible text nodes, and the values of the attributes a
    reader sees or hears."""
    soup = _visible_root(BeautifulSoup(page_html, 'html.parser'))
    strings = list(soup.stripped_strings)
    attributes = []
    for tag in soup.find_all(True):
        for name in READ_ATTRIBUTES:
            if tag.get(name):
                attributes.append(tag[name])
        if tag.name == 'input' and tag.get('type') in BUTTON_TYPES and tag.get('value'):
            attributes.append(tag['value'])
    return strings, attributes


def read_texts(page_html):
    """``(text, attributes, count)`` of a page: all its visible text as one string (a marked message may
    hold elements, so the markers of one message can sit in different text nodes), the list of the values
    of the attributes a reader sees or hears, and how many text nodes and attributes there are."""
    strings, attributes = visible_texts(page_html)
    return ' '.join(strings), attributes, len(strings) + len(attributes)


def strip_marked(text):
    """``text`` without its marked messages (innermost first, so a message inside a message goes too)."""
    while True:
        shorter = MARKED.sub(' ', text)
        if shorter == text:
            return text
        text = shorter


def unmarked(page_html, allowed, counted=None):
    """The pieces of a page's text and attributes that are neither marked nor made of allowed words;
    ``counted`` (a list) gets the number of text nodes and attributes read."""
    text, attributes, count = read_texts(page_html)
    if counted is not None:
        counted.append(count)
    found = []
    for piece in [text, *attributes]:
        rest = CARD_CODE.sub(' ', strip_marked(html.unescape(piece)))
        stray = {
            word for word in words(rest) if len(word) > 1 and word not in allowed and word not in TECHNICAL
        }
        if stray:
            found.append(_context(rest, stray))
    return found


def _context(rest, stray):
    """Each unallowed word with a few words around it, for a failure message that can be acted on."""
    text = ' '.join(rest.split())
    pieces = []
    for word in sorted(stray):
        match = re.search(rf'(?<!\w){re.escape(word)}(?!\w)', text, re.IGNORECASE)
        start = max(0, match.start() - 40) if match else 0
        pieces.append(f'[{word}] ' + (text[start : start + 100] if match else ''))
    return ' | '.join(pieces)


def verbatim_msgids(catalog_paths):
    """The msgids whose Swedish translation differs from them: ``(exact, patterns)``, the msgids without
    placeholders as a set, and those with ``${name}`` placeholders as ``(first literal part, regex,
    msgid)`` with each placeholder standing for any text."""
    exact, patterns = set(), []
    for path in catalog_paths:
        for message in read_catalog(path, locale='sv'):
            ids = message.id if isinstance(message.id, tuple | list) else (message.id,)
            strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
            for msgid in ids:
                if not msgid or msgid in strings or not any(strings) or not words(msgid):
                    continue
                parts = re.split(r'\$\{[^}]+\}', msgid)
                if len(parts) == 1:
                    exact.add(msgid)
                else:
                    regex = re.compile('.+'.join(re.escape(part) for part in parts), re.DOTALL)
                    patterns.append((parts[0], regex, msgid))
    return exact, patterns


def shown_msgids(page_html, msgids, counted=None, memo=None):
    """The English msgids a Swedish page shows verbatim, as whole text nodes or attributes; ``counted``
    (a list) gets the number of text nodes and attributes read.  ``memo`` (a dict kept over a crawl for
    the same ``msgids``) keeps what each text was found to show: most text (the menus, the footer) is on
    every page, and trying each text against every msgid with a placeholder was most of the crawl's time."""
    exact, patterns = msgids
    strings, attributes = visible_texts(page_html)
    texts = [' '.join(text.split()) for text in (*strings, *attributes)]
    if counted is not None:
        counted.append(len(texts))
    memo = {} if memo is None else memo
    found = []
    for text in texts:
        if text not in memo:
            if text in exact:
                memo[text] = [text]
            else:
                memo[text] = [
                    msgid
                    for start, regex, msgid in patterns
                    if text.startswith(start) and regex.fullmatch(text)
                ]
        found += memo[text]
    return found


# The crawl ---------------------------------------------------------------------------------------------
#: Two pages of each kind are read (two venues, not all of them); links to files and logging out are not
#: followed, nor links that change the language.
PAGES_PER_KIND = 2
SKIP_LINKS = ('logout', 'download', '.csv', '.pdf', '.txt', '.json', '.xml', '/static/', 'two-factor-codes')
TEXT_FIELDS = ('text', 'textarea', 'email', 'number', 'tel', 'url', 'search', 'date', 'password', None)
BAD_VALUE = '-1x'


def page_kind(url):
    """Pages of one kind share a template: items of a folder are one kind, each view of them another."""
    parts = urllib.parse.urlsplit(url)
    segments = [s for s in parts.path.split('/') if s]
    kind = [
        s if i == 0 or s.startswith('@@') or segments[0] == 'registry' else '*'
        for i, s in enumerate(segments)
    ]
    keys = {k for k, _v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)} - {'lang', 'page'}
    return '/'.join(kind), min(keys, default='')


def links(res):
    for a in res.html.find_all('a', href=True):
        href = urllib.parse.urljoin(res.request.url, a['href'])
        parts = urllib.parse.urlsplit(href)
        if (
            parts.netloc != 'example.com'
            or any(skip in href for skip in SKIP_LINKS)
            or 'lang=' in parts.query
        ):
            continue
        yield parts.path + (f'?{parts.query}' if parts.query else '')


def error_states(form):
    """The form submitted empty, then with a bad value in every field a person types into."""
    typed = [
        field
        for fields in form.fields.values()
        for field in fields
        if getattr(field, 'attrs', {}).get('type') in TEXT_FIELDS and field.tag in ('input', 'textarea')
    ]
    if not typed:
        return
    for value in ('', BAD_VALUE):
        for field in typed:
            field.force_value(value)
        yield value


class Crawl:
    """One role's crawl in one language; ``pages`` and ``forms`` count what it read."""

    def __init__(self, app, login, lang, cases=()):
        environ = {'HTTP_HOST': 'example.com', 'REMOTE_ADDR': '198.51.100.9'}
        self.client = DoomedTestApp(app, extra_environ=environ)
        if login:  # a login is kept in the database: log in for real, then crawl without committing
            committing = webtest.TestApp(app, extra_environ=environ)
            log_in(committing, login, TEST_PASSWORD)
            self.client.cookiejar = committing.cookiejar
        self.client.set_cookie('lang', lang)
        self.pages = self.forms = 0
        self.login = login
        self.cases = cases
        #: Registry staff see the public pages as everyone does: their crawl keeps to the registry.
        self.everywhere = login in (None, 'browser-admin')

    def responses(self, seeds):
        queue, seen, kinds, form_kinds = collections.deque(seeds), set(), collections.Counter(), set()
        while queue:
            path = queue.popleft()
            kind = page_kind(path)
            if path in seen or kinds[kind] >= PAGES_PER_KIND:
                continue
            seen.add(path)
            kinds[kind] += 1
            res = self.client.get(path, expect_errors=True)
            if res.status_int in (301, 302, 303):
                queue.append(urllib.parse.urlsplit(res.location).path)
                continue
            if res.content_type != 'text/html':
                continue
            self.pages += 1
            yield path, res
            queue.extend(link for link in links(res) if self.everywhere or link.startswith('/registry/'))
            for form_id, form in res.forms.items():
                action = urllib.parse.urlsplit(form.action or path).path
                form_kind = (page_kind(action), form_id)
                if 'logout' in action or form_kind in form_kinds:
                    continue
                form_kinds.add(form_kind)
                for value in error_states(form):
                    answer = form.submit(expect_errors=True)
                    if answer.content_type == 'text/html' and answer.status_int not in (301, 302, 303):
                        self.forms += 1
                        yield f'{path} form {form_id or action} with {value!r}', answer

    def everything(self, seeds, known):
        yield from self.responses(seeds)
        yield from self.rule_cases(self.cases, known)

    def rule_cases(self, cases, known):
        """The answers to forms filled to break the registry's rules (see :data:`RULE_CASES`)."""
        for path, steps in cases:
            res = self.client.get(path)
            for values in steps:
                form = form_with(res, next(iter(values)))
                for name, value in values.items():
                    form[name].force_value(value.format(**known))
                res = form.submit(expect_errors=True)
                res = res.maybe_follow()
            self.forms += 1
            yield f'{path} filled with {steps}', res
