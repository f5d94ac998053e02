"""The site catalog and its indexes, declared by configuration directives.

Each index is declared once with ``config.add_catalog_index(name, kind, ...)`` and gets its values from
index views declared with ``config.add_index_view(index_name, type_name, func)``: ``func(item, default)``
returns the value to index, or ``default`` to leave the item out; a view declared for ``type_name=None``
serves every type that has none of its own.  Both directives are Pyramid configuration actions with
discriminators, so two declarations of the same index, or of the same index view, fail at start-up with a
``ConfigurationConflictError``, and each shows in the introspector.  The declarations live on the
application registry (``registry.catalog_indexes``, ``registry.index_views``), so two applications in one
process (tests, a script next to a server) never share them, and a plugin adds its own without editing a
portal list.

Each index's discriminator is an :class:`IndexView`, a small picklable object holding only the index name:
hypatia pickles it into the database, so it must keep resolving at ``portal.catalog.IndexView``.  When an
item is indexed it looks the index view up on the current application registry, as Substance D's catalog
does.  A catalog that lacks a declared index (a plugin added one) gets it, filled for that index only, when
the application starts (:func:`ensure_catalog_indexes`).
"""

import logging
import secrets
from dataclasses import dataclass, field

from BTrees import family64
from BTrees.Length import Length
from hypatia.catalog import Catalog
from hypatia.field import FieldIndex
from hypatia.keyword import KeywordIndex
from hypatia.text import TextIndex
from pyramid.exceptions import ConfigurationError
from pyramid.threadlocal import get_current_registry
from pyramid.traversal import find_root, resource_path

from portal.catalog.text import STEMMERS, make_lexicon
from portal.resources.base import walk
from portal.startup import in_own_transaction, note

log = logging.getLogger(__name__)

IO = family64.IO
SITE_KEY = 'site'
#: The kinds of index ``add_catalog_index`` knows.
INDEX_KINDS = ('field', 'keyword', 'text')


@dataclass(frozen=True)
class CatalogIndex:
    """A declared index: its name, kind and, for a text index, the language of its lexicon."""

    name: str
    kind: str
    language: str | None = None
    options: dict = field(default_factory=dict)

    def make(self):
        """A new, empty hypatia index for this declaration."""
        if self.kind == 'field':
            return FieldIndex(IndexView(self.name))
        if self.kind == 'keyword':
            return KeywordIndex(IndexView(self.name))
        return TextIndex(IndexView(self.name), lexicon=make_lexicon(self.language))


def declared_indexes(registry=None):
    """The indexes declared on ``registry`` (the current application's by default), by name."""
    registry = registry if registry is not None else get_current_registry()
    return getattr(registry, 'catalog_indexes', {})


class IndexView:
    """An index's discriminator: dispatches to the index view declared for the index and the item's
    content type (or for every type) on the current application registry."""

    def __init__(self, index_name):
        self.index_name = index_name

    def __call__(self, item, default):
        views = getattr(get_current_registry(), 'index_views', None)
        if views is None:
            # Indexing with no application's declarations would leave the item out of every index.
            raise RuntimeError(
                f'cannot index {self.index_name!r}: the current registry declares no index views '
                '(index inside a request, a script made by pyramid.paster.bootstrap, or pass the '
                'registry to the event that indexes)'
            )
        view = views.get((self.index_name, item.type_name)) or views.get((self.index_name, None))
        if view is None:
            return default
        return view(item, default)


def add_catalog_index(config, name, kind, language=None, **options):
    """Configurator directive: declare the catalog index ``name`` of ``kind`` (``field``, ``keyword`` or
    ``text``; a text index needs the ``language`` of its stemmer)."""
    if kind not in INDEX_KINDS:
        raise ConfigurationError(f'catalog index {name!r}: kind must be one of {INDEX_KINDS}, not {kind!r}')
    if kind == 'text' and language not in STEMMERS:
        raise ConfigurationError(f'text index {name!r}: language must be one of {sorted(STEMMERS)}')
    declaration = CatalogIndex(name, kind, language, options)
    intr = config.introspectable('catalog indexes', name, name, 'catalog index')
    intr['kind'] = kind
    intr['language'] = language

    def register():
        config.registry.catalog_indexes[name] = declaration

    config.action(('portal.catalog_index', name), register, introspectables=(intr,))


def add_index_view(config, index_name, type_name, func):
    """Configurator directive: ``func(item, default)`` gives the value of ``index_name`` for items of
    ``type_name`` (for every type without a view of its own when ``type_name`` is None).  ``func`` must be
    importable at module level: only the index name is stored, but a view that changes makes a reindex."""
    func = config.maybe_dotted(func)
    title = f'{index_name} for {type_name or "every type"}'
    intr = config.introspectable('catalog index views', (index_name, type_name), title, 'catalog index view')
    intr['index_name'] = index_name
    intr['type_name'] = type_name
    intr['func'] = func
    intr.relate('catalog indexes', index_name)

    def register():
        config.registry.index_views[(index_name, type_name)] = func

    config.action(('portal.index_view', index_name, type_name), register, introspectables=(intr,))


# the catalog --------------------------------------------------------------------------------------
class SiteCatalog(Catalog):
    """The hypatia catalog of a site, with the map from document ids to items and their paths."""

    def __init__(self):
        super().__init__()
        self.docids = family64.OI.BTree()
        self.objects = IO.BTree()
        self.paths = IO.BTree()
        self.ensure_counter()
        self.ensure_indexes()

    def ensure_counter(self):
        """Give the catalog its change counter (:meth:`generation`) if it lacks one."""
        if getattr(self, 'changes', None) is None:
            #: Bumped by every change to the indexes.  A Length, so that concurrent writers do not
            #: conflict on it: ZODB adds up their increments.
            self.changes = Length()
            #: Tells this catalog apart from any other in the process's caches.
            self.token = secrets.token_hex(8)

    def generation(self):
        """A key that changes whenever the indexes change: (token, counter), or None when it cannot be
        trusted (no counter, or a change made in this very transaction, which may still be aborted)."""
        changes = getattr(self, 'changes', None)
        if changes is None or changes._p_changed:
            return None
        return (self.token, changes())

    def note_change(self):
        """Move the change counter on: something that pages show, indexed or not, changed."""
        changes = getattr(self, 'changes', None)
        if changes is not None:
            changes.change(1)

    def index_doc(self, docid, obj):
        self.note_change()
        super().index_doc(docid, obj)

    def reindex_doc(self, docid, obj):
        self.note_change()
        super().reindex_doc(docid, obj)

    def unindex_doc(self, docid):
        self.note_change()
        super().unindex_doc(docid)

    def reset(self):
        self.note_change()
        super().reset()

    def ensure_indexes(self, registry=None):
        """Add the indexes declared on ``registry`` (the current one by default) that this catalog lacks,
        filled from the documents it holds; return their names.  Only the new indexes are filled."""
        declared = declared_indexes(registry)
        added = []
        for name, declaration in declared.items():
            if name not in self:
                index = self[name] = declaration.make()
                for docid, item in self.objects.items():
                    index.index_doc(docid, item)
                added.append(name)
        if added:
            self.note_change()
        return added

    def _new_docid(self):
        while True:
            docid = secrets.randbelow(2**62) + 1
            if docid not in self.objects:
                return docid

    def index(self, item):
        """Index ``item`` (or reindex it, when it is indexed under its current path)."""
        path = resource_path(item)
        docid = self.docids.get(path)
        if docid is None:
            docid = self._new_docid()
            self.docids[path] = docid
            self.paths[docid] = path
            self.objects[docid] = item
            self.index_doc(docid, item)
        else:
            self.objects[docid] = item
            self.reindex_doc(docid, item)
        return docid

    def unindex_path(self, path):
        """Unindex the item at ``path`` and everything below it."""
        for docid in list(self['path'].applyEq(path)):
            self.unindex_doc(docid)
            del self.docids[self.paths.pop(docid)]
            del self.objects[docid]

    def reindex_below(self, path):
        for docid in list(self['path'].applyEq(path)):
            self.reindex_doc(docid, self.objects[docid])

    def rebuild(self, site):
        """Empty the catalog and index every item below ``site``; return how many were indexed."""
        self.ensure_indexes()
        self.reset()
        self.docids.clear()
        self.objects.clear()
        self.paths.clear()
        count = 0
        for item in walk(site):
            if item is not site:
                self.index(item)
                count += 1
        return count

    def item_for(self, docid):
        """The item indexed as ``docid``."""
        return self.objects[docid]


def catalog_of(item):
    """The catalog of the site ``item`` is in, or None (a detached item, a site without a catalog)."""
    root = find_root(item)
    catalog = getattr(root, 'catalog', None)
    return catalog if isinstance(catalog, SiteCatalog) else None


def install_catalog(site):
    """Give ``site`` a catalog (if it has none) and index its content; return the catalog."""
    catalog = getattr(site, 'catalog', None)
    if not isinstance(catalog, SiteCatalog):
        catalog = site.catalog = SiteCatalog()
    catalog.rebuild(site)
    return catalog


def ensure_catalog_indexes(event):
    """When the application starts, add to the site's catalog the declared indexes it lacks, each filled
    from the catalog's documents, in a transaction of its own (``portal.evolve_on_start`` decides, as it
    does for evolve steps; ``portal-reindex`` does it too)."""
    registry = event.app.registry
    settings = getattr(registry, 'portal_settings', None)
    if settings is not None and not settings.evolve_on_start:
        return

    def add_missing(root):
        catalog = getattr(root.get(SITE_KEY), 'catalog', None)
        added = catalog.ensure_indexes(registry) if isinstance(catalog, SiteCatalog) else []
        if added:
            note(root, f'catalog: indexes added and filled: {", ".join(added)}')
        return added

    added = in_own_transaction(registry._zodb_databases[''], add_missing)
    if added:
        log.info('catalog indexes added and filled: %s', ', '.join(added))
