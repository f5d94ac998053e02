"""Translations of an item's texts, and whether each is missing or older than the original.

An item's own language (``item.language``, Finnish on this site) holds the original texts; Swedish and
English hold translations of the fields its type marks translatable (:attr:`Item.translatable`).  When a
translation is saved on the web (:func:`save_translation`), the item keeps a copy of the original's texts
it was made from in ``item.translation_sources[lang]``.  A translation is then:

- ``missing`` when the language has no translated field with text in it;
- ``outdated`` when the original's texts are no longer those it was made from;
- ``current`` otherwise.

Translations read from content files (``name.sv.md``) were made from the original as the files hold it:
the first change of the original remembers, for each translation without a copy, the texts it had before
the change (:func:`remember_sources`, called by :meth:`Item.set_texts`), so that change marks them
outdated.  The copies are kept beside the texts, never in them, so the loader and dumper see exactly what
they saw before.

The catalog's ``translations_needed`` index holds ``missing:sv``, ``outdated:en``... for each item
(:func:`translations_needed_view`), so the page that lists them asks the catalog and never walks the tree.
Nothing here sees a request.
"""

import datetime

from persistent.mapping import PersistentMapping

from portal.i18n import LANGUAGES

MISSING = 'missing'
OUTDATED = 'outdated'
CURRENT = 'current'


def original_texts(item):
    """The translatable fields of the item's own language (not the rendered HTML), as a plain dict."""
    own = item.texts.get(item.language, {})
    return {field: own[field] for field in item.translatable if field in own}


def translation_languages(item):
    """The languages other than the item's own, in the site's order."""
    return [lang for lang in LANGUAGES if lang != item.language]


def remember_sources(item):
    """Before the original changes: keep its current texts as the source of each translation that has
    texts but no source yet (one read from the content files)."""
    sources = item.translation_sources
    for lang in item.texts:
        if lang != item.language and (sources is None or lang not in sources):
            if sources is None:
                sources = item.translation_sources = PersistentMapping()
            sources[lang] = original_texts(item)


def source_of(item, lang):
    """The original's texts the translation into ``lang`` was made from (the current ones when no copy
    is kept)."""
    sources = item.translation_sources or {}
    return dict(sources[lang]) if lang in sources else original_texts(item)


def has_translation(item, lang):
    texts = item.texts.get(lang) or {}
    return any(texts.get(field) for field in item.translatable)


def translation_state(item, lang):
    """:data:`MISSING`, :data:`OUTDATED` or :data:`CURRENT` (see the module docstring)."""
    if not has_translation(item, lang):
        return MISSING
    return OUTDATED if source_of(item, lang) != original_texts(item) else CURRENT


def save_translation(item, lang, values):
    """Set the translated fields of ``lang`` from validated ``values`` and remember the original they
    were made from; return the names of the fields that changed.  The original's own language is not a
    translation and is refused."""
    if lang == item.language or lang not in LANGUAGES:
        raise ValueError(f'not a translation language of this item: {lang!r}')
    values = {field: value for field, value in values.items() if field in item.translatable}
    changed = item.set_texts(lang, values)
    if item.translation_sources is None:
        item.translation_sources = PersistentMapping()
    source = original_texts(item)
    if changed or item.translation_sources.get(lang) != source:
        item.translation_sources[lang] = source
    if changed:
        item.modified = datetime.datetime.now(datetime.UTC)
    return changed


def translations_needed_view(item, default):
    """The catalog's ``translations_needed`` values: ``state:lang`` for each translation language whose
    translation is missing or outdated."""
    needed = []
    for lang in translation_languages(item):
        state = translation_state(item, lang)
        if state != CURRENT:
            needed.append(f'{state}:{lang}')
    return needed or default


def includeme(config):
    config.add_catalog_index('translations_needed', 'keyword')
    config.add_index_view('translations_needed', None, translations_needed_view)
