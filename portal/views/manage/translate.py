"""Translating an item on the web (``@@translate?to=sv``) and the list of translations to do
(``@@translations`` on the site).

The translate form holds the translatable fields of the item's type in the target language, each beside
the original (read-only), with the words of the original that changed since the translation was last
saved marked (:mod:`portal.translations` keeps the original each translation was made from).  It is an
edit round like ``@@edit`` (:func:`portal.views.manage.editing.edit_round`), so a save that someone else's
overtook comes back with both versions.  An empty translated field falls back to the original on the
public pages.

``?to=`` names the target language rather than ``?lang=``: ``?lang=`` chooses the interface language
(:mod:`portal.i18n`), and a Finnish editor may translate into Swedish with a Finnish interface.
"""

import copy

import colander
import deform
from pyramid.httpexceptions import HTTPNotFound
from pyramid.view import view_config

from portal.catalog import Query, catalog_of, search
from portal.events import ObjectModified, notify
from portal.history import NOTE_ATTRIBUTE, diff_values
from portal.i18n import LANGUAGE_TITLES, _
from portal.resources.base import Item
from portal.resources.site import Site
from portal.security import CONTENTS, EDIT
from portal.translations import MISSING, OUTDATED, save_translation, source_of, translation_languages
from portal.views.manage.common import FORM_PAGE, THEME, content_type_of, flash
from portal.views.manage.editing import edit_round, form_schema
from portal.views.search import principals_of

#: Rows a list of the translations page shows at a time.
PAGE_SIZE = 50


def target_language(request, item):
    """The language ``?to=`` names, when it is one of the item's translation languages; else 404."""
    lang = request.GET.get('to', '')
    if lang not in translation_languages(item):
        raise HTTPNotFound(_('There is no such translation language.'))
    return lang


def language_title(request, lang):
    return request.localizer.translate(dict(LANGUAGE_TITLES)[lang])


def _as_text(value):
    return '\n'.join(value) if isinstance(value, (list, tuple)) else (value or '')


def default_widget(node):
    return deform.schema.default_widget_makers.get(type(node.typ), deform.widget.TextInputWidget)()


def translation_schema(content_type, item, lang, request):
    """The translatable fields of the type's form, none required (an empty one falls back to the
    original), each carrying the original's text and the words changed since the translation's source
    for the template (``themes/kaiku/deform/translation_item.pt``)."""
    source = source_of(item, lang)
    original = item.texts.get(item.language, {})
    changes = dict(diff_values(source, {name: original.get(name) for name in item.translatable}))
    schema = colander.SchemaNode(
        colander.Mapping(), widget=deform.widget.FormWidget(item_template='translation_item')
    )
    for node in form_schema(content_type, editing=True).children:
        if node.name not in item.translatable:
            continue
        node = node.clone()
        if node.missing is colander.required:
            node.missing = '' if isinstance(node.typ, colander.String) else ()
        node.original_lang = item.language
        node.translation_lang = lang
        node.original_segments = changes.get(node.name) or [('same', _as_text(original.get(node.name)))]
        node.original_changed = node.name in changes
        # A node's widget is shared with every form made from the type's schema: change a copy.
        node.widget = copy.copy(node.widget) if node.widget else default_widget(node)
        node.widget.attributes = {**(getattr(node.widget, 'attributes', None) or {}), 'lang': lang}
        schema.add(node)
    schema.description = _(
        'Each field of the ${language} translation has the original text (${original}) with it. Words of '
        'the original that changed since the translation was last saved are marked. Where a field is left '
        'empty, readers see the original.',
        mapping={
            'original': language_title(request, item.language),
            'language': language_title(request, lang),
        },
    )
    return schema


@view_config(context=Item, name='translate', renderer=FORM_PAGE, permission=EDIT)
def translate(context, request):
    """The translation of the item into ``?to=`` beside its original."""
    lang = target_language(request, context)
    content_type = request.registry.content_types.get(context.type_name)
    if content_type is None:
        raise HTTPNotFound(_('There is no such translation language.'))
    schema = translation_schema(content_type, context, lang, request)
    names = [node.name for node in schema.children]

    def current():
        return context.field_values(names, lang=lang)

    def apply(values):
        changed = save_translation(context, lang, values)
        if changed:
            setattr(request, NOTE_ATTRIBUTE, f'translation: {lang}')  # the history's row says which
            notify(ObjectModified(context, changed), request.registry)
            flash(request, _('The translation was saved.'))

    title = _('Translate into ${language}', mapping={'language': language_title(request, lang)})
    action = request.resource_url(context, '@@translate', query={'to': lang})
    return edit_round(context, request, schema, title, current, apply, action=action)


def _rows(request, catalog, docids, lang):
    rows = []
    for docid in docids:
        item = catalog.item_for(docid)
        rows.append(
            {
                'item': item,
                'type': request.localizer.translate(content_type_of(request, item).title),
                'translate_url': request.resource_url(item, '@@translate', query={'to': lang}),
            }
        )
    return rows


def _start(request, name):
    value = request.GET.get(name, '0')
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else 0


@view_config(context=Site, name='translations', renderer=THEME + 'translations.pt', permission=CONTENTS)
def translations(context, request):
    """The items whose translation into ``?to=`` (Swedish by default) is older than the original, and
    those that have none, from the catalog, in pages of :data:`PAGE_SIZE`."""
    languages = translation_languages(context)
    lang = request.GET.get('to') or languages[0]
    if lang not in languages:
        raise HTTPNotFound(_('There is no such translation language.'))
    catalog = catalog_of(context)
    lists = []
    for state, heading in (
        (OUTDATED, _('Older than the original')),
        (MISSING, _('Not translated')),
    ):
        start = _start(request, state)
        query = Query(
            filters={'translations_needed': [f'{state}:{lang}']}, sort='name', start=start, limit=PAGE_SIZE
        )
        found = search(catalog, principals_of(request), query) if catalog is not None else None
        total = found.total if found else 0
        more = (
            {**dict(request.GET), state: start + PAGE_SIZE} if found and start + PAGE_SIZE < total else None
        )
        lists.append(
            {
                'state': state,
                'heading': heading,
                'total': total,
                'rows': _rows(request, catalog, found.docids, lang) if found else [],
                'next_url': request.resource_url(context, '@@translations', query=more) if more else None,
            }
        )
    tabs = [
        (
            code,
            language_title(request, code),
            request.resource_url(context, '@@translations', query={'to': code}),
        )
        for code in languages
    ]
    return {'lang': lang, 'language': language_title(request, lang), 'tabs': tabs, 'lists': lists}
