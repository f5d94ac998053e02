"""Colander and deform glue shared by every content type's schema and every add and edit form.

:class:`ItemSchema` holds the fields every item has.  Types extend it with their own nodes.  Choices come
from vocabularies: tuples of ``(value, translation string)`` pairs, so a stored value never depends on the
interface language.

:func:`make_form` builds the deform form of every add and edit page: the type's schema bound to the
request, with the CSRF token as a hidden field, rendered with the theme's deform templates
(``themes/kaiku/deform``) ahead of deform's own, so no form carries an inline script.
"""

import importlib.resources
import zipfile

import colander
import deform
import deform.widget
from pyramid.csrf import get_csrf_token
from pyramid.path import AssetResolver
from pyramid.threadlocal import get_current_request

from portal import places
from portal.i18n import LANGUAGE_TITLES, LANGUAGES, _
from portal.resources.files import sniff_type

CSRF_FIELD = 'csrf_token'


def vocabulary_values(vocabulary):
    return [value for value, _title in vocabulary]


def vocabulary_title(vocabulary, value):
    """The translation string for ``value``, or the value itself when the vocabulary lacks it."""
    return dict(vocabulary).get(value, value)


def choices_node(vocabulary, title, description=None, min_len=0):
    """A multiple-choice field over ``vocabulary``, shown as checkboxes, kept in vocabulary order."""
    return colander.SchemaNode(
        colander.Set(),
        title=title,
        description=description,
        missing=(),
        validator=colander.All(
            colander.ContainsOnly(vocabulary_values(vocabulary)),
            colander.Length(min=min_len, min_err=_('Choose at least one.')),
        ),
        preparer=lambda value: (
            tuple(v for v in vocabulary_values(vocabulary) if v in value)
            if value not in (colander.null, None)
            else value
        ),
        widget=deform.widget.CheckboxChoiceWidget(values=vocabulary),
    )


def _settled_municipality(value):
    found = places.find_municipality(value) if isinstance(value, str) else None
    return found.name_fi if found else value


def _known_municipality(node, value):
    if places.municipality_named(value) is None:
        raise colander.Invalid(node, _('Choose a municipality from the list.'))


@colander.deferred
def _municipality_widget(node, kw):
    """A list of the municipalities, named in the reader's language."""
    request = kw.get('request')
    language = request.localizer.locale_name if request is not None else 'fi'
    choices = [
        (places.municipality(code).name_fi, title) for code, title in places.municipality_choices(language)
    ]
    return deform.widget.SelectWidget(values=[('', _('Choose a municipality')), *choices])


def municipality_node(title=None, **kw):
    """A municipality of :mod:`portal.places`, chosen from a list and stored by its official Finnish name
    (a code or a Swedish name, as a content file may give, is taken too): never free text."""
    return colander.SchemaNode(
        colander.String(),
        title=title or _('Municipality'),
        preparer=_settled_municipality,
        validator=_known_municipality,
        widget=_municipality_widget,
        **kw,
    )


def text_node(title, description=None, max_len=200, required=False, textarea=False, **kw):
    """A plain-text field: required or empty by default, length-limited."""
    widget = deform.widget.TextAreaWidget(rows=4) if textarea else deform.widget.TextInputWidget()
    return colander.SchemaNode(
        colander.String(),
        title=title,
        description=description,
        missing=colander.required if required else '',
        validator=colander.Length(max=max_len),
        widget=widget,
        **kw,
    )


class ItemSchema(colander.MappingSchema):
    """Fields every content item has."""

    title = colander.SchemaNode(
        colander.String(),
        title=_('Title'),
        validator=colander.Length(min=1, max=200),
    )
    description = text_node(
        _('Short description'),
        description=_('One or two sentences, shown in listings and search results.'),
        max_len=500,
        textarea=True,
    )
    language = colander.SchemaNode(
        colander.String(),
        title=_('Language'),
        description=_('The language the item is written in first.'),
        missing='fi',
        validator=colander.OneOf(LANGUAGES),
        widget=deform.widget.SelectWidget(values=LANGUAGE_TITLES),
    )
    exclude_from_nav = colander.SchemaNode(
        colander.Boolean(),
        title=_('Leave out of the navigation'),
        missing=False,
    )


def body_node():
    return colander.SchemaNode(
        colander.String(),
        title=_('Body'),
        description=_('Markdown: ## for headings, - for lists, [text](address) for links.'),
        missing='',
        validator=colander.Length(max=200_000),
        widget=deform.widget.TextAreaWidget(rows=16),
    )


# Forms ---------------------------------------------------------------------------------------------------
def translate(term):
    """deform's translator: the current request's localizer (deform renders inside a request)."""
    request = get_current_request()
    if request is None:
        return term
    return request.localizer.translate(term)


def search_path(spec='kaiku_theme:deform'):
    """The theme's deform templates first, then deform's own (Bootstrap 5)."""
    theme = AssetResolver().resolve(spec).abspath()
    return (theme, str(importlib.resources.files('deform') / 'templates'))


def csrf_node(request):
    return colander.SchemaNode(
        colander.String(),
        name=CSRF_FIELD,
        widget=deform.widget.HiddenWidget(),
        default=get_csrf_token(request),
        missing='',
    )


def make_form(request, schema, buttons, action=None, formid='edit-form', **kw):
    """A deform form for ``schema`` bound to ``request``, with the CSRF token as a hidden field.

    Pyramid checks the token of every POST before a view runs; the field only carries it.
    """
    schema = schema.bind(request=request)
    schema.children.insert(0, csrf_node(request))
    return deform.Form(schema, buttons=buttons, action=action, formid=formid, **kw)


def validate(form, request):
    """The appstruct of a posted form without the CSRF field; raises ``deform.ValidationFailure``."""
    appstruct = form.validate(request.POST.items())
    appstruct.pop(CSRF_FIELD, None)
    return appstruct


def includeme(config):
    deform.Form.set_default_renderer(deform.ZPTRendererFactory(search_path(), translator=translate))


# Uploads -------------------------------------------------------------------------------------------------
DOCUMENT_TYPES = frozenset({
    'application/pdf', 'image/png', 'image/jpeg', 'image/webp',
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    'application/vnd.oasis.opendocument.text',
})  # fmt: skip
IMAGE_TYPES = frozenset({'image/png', 'image/jpeg', 'image/webp'})
#: A member each kind of zip-based document has, so a renamed zip is not taken for a document.
_ZIP_MEMBERS = {
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'word/document.xml',
    'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xl/workbook.xml',
    'application/vnd.oasis.opendocument.text': 'mimetype',
}


def uploaded_type(fp, filename):
    """The media type of an uploaded file found from its bytes, or None when it is not an allowed kind."""
    fp.seek(0)
    head = fp.read(16)
    fp.seek(0)
    mimetype = sniff_type(head, filename or '')
    member = _ZIP_MEMBERS.get(mimetype)
    if member is None:
        return mimetype
    try:
        with zipfile.ZipFile(fp) as archive:
            names = set(archive.namelist())
            if member not in names:
                return None
            if member == 'mimetype' and archive.read('mimetype').strip() != mimetype.encode('ascii'):
                return None
    except (zipfile.BadZipFile, OSError, KeyError):
        return None
    finally:
        fp.seek(0)
    return mimetype


class _MemoryTmpStore(dict):
    """deform's upload widget needs a store; a browser never refills a file field, so nothing is kept."""

    def preview_url(self, uid):
        return None


def file_node(name, title, allowed, description=None):
    """An optional upload field whose file must be one of the ``allowed`` media types by its content."""

    def check_type(node, value):
        if value in (colander.null, None) or not value.get('fp'):
            return
        mimetype = uploaded_type(value['fp'], value.get('filename'))
        if mimetype not in allowed:
            raise colander.Invalid(node, _('This kind of file cannot be uploaded here.'))
        value['mimetype'] = mimetype

    return colander.SchemaNode(
        deform.FileData(),
        name=name,
        title=title,
        description=description,
        missing=colander.null,
        validator=check_type,
        widget=deform.widget.FileUploadWidget(_MemoryTmpStore()),
    )
