"""What every item of the content tree shares.

An :class:`Item` is a persistent object reached by traversal.  It knows its ``__name__`` and
``__parent__``, its workflow ``state``, when it was created and modified, and its texts.  Texts are kept
per language in :attr:`Item.texts` (``{'fi': {'title': ..., 'body': ...}, 'sv': {...}}``): the item's own
``language`` holds the complete text and other languages hold translations of the fields the type marks
as translatable.  Reading a text in a language that has no translation falls back to the item's own
language, and the value says which language it is in, so a template can mark it with ``lang``.

Bodies are written in Markdown.  The Markdown source is kept as written (so the content files round-trip)
and its HTML rendering is made once, when the text is written, and sanitised with nh3 then: a view never
renders or cleans Markdown.

A :class:`Container` keeps its children in an OOBTree with a conflict-resolving ``Length`` counter and an
optional explicit order.  Models never see a request.

Deleting, moving or renaming an item takes everything inside it along, so :func:`check_removable` asks
the permission for every item of the subtree (as Plone checks delete rights on every descendant) and
refuses outright when the subtree holds a container that the site or a plugin owns (a content type
declared with ``protected=True``, such as the card registry or the workspaces folder).
"""

import datetime
import html
import re
import threading

import markdown
import nh3
from BTrees.Length import Length
from BTrees.OOBTree import OOBTree
from persistent import Persistent
from persistent.mapping import PersistentMapping

from portal.events import ObjectAdded, ObjectRemoved, notify
from portal.i18n import DEFAULT_LANGUAGE
from portal.translations import remember_sources
from portal.workflow import state_acl

#: Tags and attributes that rendered bodies may keep; everything else is removed on write.
ALLOWED_TAGS = {
    'a', 'abbr', 'b', 'blockquote', 'br', 'caption', 'code', 'dd', 'del', 'dl', 'dt', 'em', 'h2', 'h3',
    'h4', 'h5', 'h6', 'hr', 'i', 'ins', 'li', 'ol', 'p', 'pre', 's', 'strong', 'sub', 'sup', 'table',
    'tbody', 'td', 'tfoot', 'th', 'thead', 'tr', 'ul',
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    'a': {'href', 'title', 'hreflang', 'lang'},
    'abbr': {'title'},
    'td': {'colspan', 'rowspan'},
    'th': {'colspan', 'rowspan', 'scope'},
    '*': {'lang'},
}
NAME_RE = re.compile(r'^[a-z0-9][a-z0-9._-]{0,99}$')


def utcnow():
    return datetime.datetime.now(datetime.UTC)


_converters = threading.local()


def _markdown():
    """This thread's Markdown converter: making one builds its whole parser, which costs more than most
    conversions, so each thread keeps one and resets it before every use."""
    converter = getattr(_converters, 'markdown', None)
    if converter is None:
        converter = _converters.markdown = markdown.Markdown(
            extensions=['tables', 'sane_lists'], output_format='html'
        )
    return converter.reset()


def render_markdown(source):
    """Markdown to safe HTML: tables allowed, raw HTML and scripts removed, links made safe."""
    if not source:
        return ''
    html = _markdown().convert(source)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={'http', 'https', 'mailto', 'tel'},
        link_rel='noopener noreferrer',
    )


def check_name(name):
    """Raise ValueError unless ``name`` can be a path segment of a content item."""
    if not isinstance(name, str) or not NAME_RE.match(name) or name.endswith('.'):
        raise ValueError(f'invalid name: {name!r}')
    return name


class Localized(str):
    """A text value that remembers which language it is written in."""

    lang = DEFAULT_LANGUAGE

    def __new__(cls, value, lang):
        self = super().__new__(cls, value)
        self.lang = lang
        return self

    def __html__(self):
        """Escaped text for templates.  Without it Chameleon would hand a str subclass to the
        translation machinery, and a content text that equals an interface msgid (or is empty) would be
        "translated"."""
        return html.escape(str(self), quote=True)


class Item(Persistent):
    """A content item: texts per language, a workflow state, times of creation and change."""

    __name__ = None
    __parent__ = None
    #: The name of the declared content type; set by each type's class.
    type_name = None
    is_container = False
    #: Fields whose values differ by language; the rest are attributes shared by all languages.
    translatable = ('title', 'description', 'body')
    #: Translatable fields whose value is a list of lines rather than a text (empty: ``()``).
    list_fields = ()
    #: Translatable fields whose words the full-text indexes hold (:mod:`portal.catalog.views`).
    text_fields = ('title', 'description', 'body')
    #: Attributes (not translatable) whose values the full-text index of the item's own language holds.
    text_attributes = ()
    #: Fields that hold files (:class:`portal.resources.files.StoredFile`), loaded and dumped beside the item.
    file_fields = ()
    state = 'private'
    language = DEFAULT_LANGUAGE
    exclude_from_nav = False
    sample = False

    #: ACL entries this item grants beyond those of its state.
    local_acl = ()
    #: The item's revisions (:class:`portal.history.History`), made at its first recorded change.
    history = None
    #: Roles held on this item and everything below it, by principal: ``{'user:anna': ('Editor',)}``.
    local_roles = None
    #: Per translation language, a copy of the original's texts the translation was made from
    #: (:mod:`portal.translations`).
    translation_sources = None
    #: The edit of a published item waiting to be published (:mod:`portal.workingcopy`), or None.
    working_copy = None

    def __init__(self):
        self.texts = PersistentMapping()
        self.created = self.modified = utcnow()
        self.creator = None

    @property
    def __acl__(self):
        return [*self.local_acl, *state_acl(self.state)]

    def set_local_roles(self, principal, roles):
        """Grant ``principal`` exactly ``roles`` here and below (none: take its local roles away)."""
        if self.local_roles is None:
            self.local_roles = PersistentMapping()
        if roles:
            self.local_roles[principal] = tuple(roles)
        else:
            self.local_roles.pop(principal, None)

    # texts ---------------------------------------------------------------------------------------
    @property
    def title(self):
        return self.text('title')

    @property
    def description(self):
        return self.text('description')

    def text_languages(self):
        """The languages this item has text in, its own language first."""
        others = sorted(lang for lang in self.texts if lang != self.language)
        return [self.language, *others] if self.language in self.texts else others

    def text(self, field, lang=None):
        """The value of a translatable field in ``lang``, falling back to the item's own language."""
        for candidate in (lang, self.language):
            if candidate and field in self.texts.get(candidate, ()):
                value = self.texts[candidate][field]
                if value or candidate == self.language:
                    return Localized(value, candidate) if isinstance(value, str) else value
        return Localized('', self.language) if field not in self.list_fields else ()

    def body_html(self, lang=None):
        """The sanitised HTML of the body in ``lang`` (or the fallback), as a Localized string."""
        for candidate in (lang, self.language):
            texts = self.texts.get(candidate) if candidate else None
            if texts and texts.get('body'):
                return Localized(texts.get('body_html', ''), candidate)
        return Localized('', self.language)

    def set_texts(self, lang, values):
        """Set the translatable fields given in ``values`` for ``lang``; return the names that changed."""
        current = dict(self.texts.get(lang, {}))
        changed = []
        for field in self.translatable:
            if field not in values:
                continue
            value = values[field]
            if isinstance(value, list):
                value = tuple(value)
            if current.get(field) != value:
                current[field] = value
                changed.append(field)
                if field == 'body':
                    current['body_html'] = render_markdown(value)
        if changed:
            if lang == self.language:
                remember_sources(self)
            self.texts[lang] = current
        return changed

    def update(self, values, lang=None):
        """Apply a validated mapping of field values; return the names of the fields that changed.

        Translatable fields go into ``lang`` (the item's own language by default); the others become
        attributes.  The modification time moves only when something changed.
        """
        lang = lang or values.get('language') or self.language
        if 'language' in values and values['language'] != self.language:
            self.language = values['language']
        changed = self.set_texts(lang, values)
        for field, value in values.items():
            if field in self.translatable or field == 'language':
                continue
            if isinstance(value, (list, set, frozenset)):
                value = tuple(value)
            if getattr(self, field, None) != value:
                setattr(self, field, value)
                changed.append(field)
        if changed:
            self.modified = utcnow()
        return changed

    def field_values(self, names, lang=None):
        """The current values of ``names`` as a mapping, texts in ``lang`` (own language by default)."""
        lang = lang or self.language
        own = self.texts.get(lang, {})
        values = {}
        for name in names:
            if name in self.translatable:
                values[name] = own.get(name, '' if name not in self.list_fields else ())
            elif name == 'language':
                values[name] = self.language
            else:
                values[name] = getattr(self, name, None)
        return values

    def find_item(self, path, type_name=None):
        """The item at ``path`` (``/guides/x``) from the site root, of ``type_name`` if given; else None."""
        item = self
        while item.__parent__ is not None:
            item = item.__parent__
        for name in path.strip('/').split('/') if path else ():
            item = item.get(name) if item.is_container else None
            if item is None:
                return None
        if type_name is not None and item.type_name != type_name:
            return None
        return item


class Container(Item):
    """An item that holds other items, kept in a BTree, in an explicit order or by name."""

    is_container = True

    def __init__(self):
        super().__init__()
        self.data = OOBTree()
        self._num_items = Length()
        self._order = None

    def __getitem__(self, name):
        return self.data[name]

    def get(self, name, default=None):
        return self.data.get(name, default)

    def __contains__(self, name):
        return name in self.data

    def __len__(self):
        return self._num_items()

    def keys(self):
        """Child names: the explicit order first, then every other child by name."""
        if not self._order:
            return list(self.data.keys())
        ordered = [name for name in self._order if name in self.data]
        listed = set(ordered)
        return ordered + [name for name in self.data if name not in listed]

    def values(self):
        return [self.data[name] for name in self.keys()]

    def items(self):
        return [(name, self.data[name]) for name in self.keys()]

    @property
    def order(self):
        return tuple(self._order or ())

    def set_order(self, names):
        """Put the named children first, in this order, and the rest after them by name; items added
        later go to the end.  Unknown names are refused."""
        names = tuple(names)
        unknown = [name for name in names if name not in self.data]
        if unknown:
            raise KeyError(f'not in this folder: {", ".join(unknown)}')
        if len(set(names)) != len(names):
            raise ValueError('a name is listed twice')
        listed = set(names)
        self._order = (names + tuple(n for n in self.data if n not in listed)) if names else None

    def add(self, name, item, send_events=True, registry=None):
        """Add ``item`` under ``name``; a name already in use or not valid raises.

        :class:`portal.events.ObjectAdded` is sent once the item is in place (for its children too,
        when a whole subtree is added), unless ``send_events`` is false.
        """
        check_name(name)
        if name in self.data:
            raise KeyError(f'name already in use: {name}')
        item.__name__ = name
        item.__parent__ = self
        self.data[name] = item
        self._num_items.change(1)
        if self._order is not None:
            self._order = (*self._order, name)
        if send_events:
            for added in walk(item):
                notify(ObjectAdded(added), registry)
        return item

    def remove(self, name, send_events=True, registry=None):
        """Remove and return the item called ``name``; :class:`ObjectRemoved` follows for each item
        of the removed subtree."""
        item = self.data[name]
        removed = list(walk(item)) if send_events else []
        del self.data[name]
        self._num_items.change(-1)
        if self._order and name in self._order:
            self._order = tuple(n for n in self._order if n != name)
        item.__parent__ = None
        for each in removed:
            notify(ObjectRemoved(each, each.__parent__ or self, each.__name__), registry)
        return item


class RemovalRefused(Exception):
    """Content management may not delete, move or rename an item: see :func:`check_removable`.

    ``reason`` is :attr:`OWNED` (the item, or one inside it, belongs to the site or a plugin) or
    :attr:`DENIED` (the person may not remove the item or one inside it); ``item`` is the one that
    stopped it and ``inside`` says whether that one is below the item asked about.
    """

    OWNED = 'owned'
    DENIED = 'denied'

    def __init__(self, item, reason, inside):
        super().__init__(f'{reason}: {item.__name__!r}')
        self.item = item
        self.reason = reason
        self.inside = inside


def check_removable(item, permits, protected):
    """Raise :class:`RemovalRefused` unless ``item`` and everything below it may leave their place.

    ``permits(each)`` says whether the person holds the permission the change needs on ``each``;
    ``protected(each)`` whether ``each`` is a container the site or a plugin owns.  An owned item stops
    the change for everyone, an Administrator included: whoever owns it decides where it lives.
    """
    for each in walk(item):
        if protected(each):
            raise RemovalRefused(each, RemovalRefused.OWNED, each is not item)
    for each in walk(item):
        if not permits(each):
            raise RemovalRefused(each, RemovalRefused.DENIED, each is not item)


def walk(item):
    """``item`` and everything below it, parents before children."""
    yield item
    if item.is_container:
        for child in item.values():
            yield from walk(child)
