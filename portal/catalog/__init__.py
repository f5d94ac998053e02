"""The site catalog: how lists and searches find content without walking the tree.

The catalog is a :mod:`hypatia` catalog kept in the site as ``site.catalog``, built as Substance D builds
its own:

* :mod:`~portal.catalog.text`: folding, words, lemmas and compound parts for the per-language text
  indexes; :mod:`~portal.catalog.morphology` (Finnish by Voikko, Snowball when it is missing) and
  :mod:`~portal.catalog.vocabulary` (category and accessibility words in fi, sv and en) feed it.
* :mod:`~portal.catalog.placenames`: municipality and region names in a search text, in any inflected
  Finnish or Swedish form, read as filters.
* :mod:`~portal.catalog.indexes`: :class:`SiteCatalog` (documents by integer id, with their items and
  paths, and a conflict-free change counter), and the directives ``config.add_catalog_index`` and
  ``config.add_index_view`` that declare indexes and index views on the application registry.
* :mod:`~portal.catalog.views`: the portal's own indexes and the index views every type shares; a content
  type declares the views of its own indexes in its module, a plugin its own.
* :mod:`~portal.catalog.subscribers`: reindexing that follows content events.
* :mod:`~portal.catalog.query` and :mod:`~portal.catalog.facets`: answering a query for a set of
  principals, and counting facets.
* :mod:`~portal.catalog.listing`: a folder's children that a requester may view, in the folder's order.

hypatia pickles each index's discriminator (:class:`IndexView`) and each lexicon's pipeline elements
(:class:`FoldingSplitter`, :class:`Stemmer`) into the database by module path, and databases made before
this package existed name them ``portal.catalog.<name>``: the names below keep resolving there, so those
databases open, search and reindex unchanged.
"""

from portal.catalog.facets import LRUCache, facet_cache, facet_counts
from portal.catalog.indexes import (
    CatalogIndex,
    IndexView,
    SiteCatalog,
    add_catalog_index,
    add_index_view,
    catalog_of,
    declared_indexes,
    ensure_catalog_indexes,
    install_catalog,
)
from portal.catalog.query import (  # noqa: F401 (_postings: read by the workspace tests)
    MAX_QUERY_LENGTH,
    MAX_QUERY_WORDS,
    Query,
    Result,
    _postings,
    candidates,
    intersect,
    query_words,
    search,
)
from portal.catalog.subscribers import item_added, item_modified, item_removed, state_changed
from portal.catalog.text import FoldingSplitter, Stemmer, fold, make_lexicon, stem, words
from portal.catalog.views import (
    allowed_view,
    content_type_view,
    language_view,
    modified_view,
    path_view,
    public_view,
    state_view,
    title_view,
)

__all__ = [
    'MAX_QUERY_LENGTH',
    'MAX_QUERY_WORDS',
    'CatalogIndex',
    'FoldingSplitter',
    'IndexView',
    'LRUCache',
    'Query',
    'Result',
    'SiteCatalog',
    'Stemmer',
    'add_catalog_index',
    'add_index_view',
    'allowed_view',
    'candidates',
    'catalog_of',
    'content_type_view',
    'declared_indexes',
    'ensure_catalog_indexes',
    'facet_cache',
    'facet_counts',
    'fold',
    'install_catalog',
    'intersect',
    'item_added',
    'item_modified',
    'item_removed',
    'language_view',
    'make_lexicon',
    'modified_view',
    'path_view',
    'public_view',
    'query_words',
    'search',
    'state_changed',
    'state_view',
    'stem',
    'title_view',
    'words',
]


def add_directives(config):
    """The catalog's directives, for parts included before :func:`includeme` (content types)."""
    if not hasattr(config.registry, 'catalog_indexes'):
        config.registry.catalog_indexes = {}
        config.registry.index_views = {}
    config.add_directive('add_catalog_index', add_catalog_index)
    config.add_directive('add_index_view', add_index_view)


def includeme(config):
    from pyramid.events import ApplicationCreated

    add_directives(config)
    config.include('portal.catalog.views')
    config.include('portal.catalog.subscribers')
    config.add_subscriber(ensure_catalog_indexes, ApplicationCreated)
