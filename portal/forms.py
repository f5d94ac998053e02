# Over 400 lines: deform and colander glue, the text and digit rules and upload sniffing (split next).
"""Colander and deform glue shared by every content type's schema and every add and edit form.

:class:`ItemSchema` holds the fields every item has.  Types extend it with their own nodes.  Choices come
from vocabularies: tuples of ``(value, translation string)`` pairs, so a stored value never depends on the
interface language.

:func:`make_form` builds the deform form of every add and edit page: the type's schema bound to the
request, with the CSRF token as a hidden field, rendered with the theme's deform templates
(``themes/kaiku/deform``) ahead of deform's own, so no form carries an inline script.

Every text field of every schema follows one of two text rules (:func:`apply_text_rules`): a single-line
field (a title, a name, a postcode) is stripped of surrounding whitespace, NFC-normalised and refuses
control characters, line breaks, bidirectional overrides and invisible format characters such as the
zero-width space; a multi-line field (a ``TextAreaWidget``, or a node marked ``multiline=True``) keeps its
line breaks and tabs, the soft hyphen and the zero-width joiners, and refuses the rest.  The rules are not a
list kept by hand: every schema class of the application is walked when it starts, and every form
:func:`make_form` builds is walked again, so a new schema gets them without asking.  Password fields are
left as typed.  Numbers are read with the ASCII digits 0–9 only (:class:`AsciiInteger`, :class:`Number`),
and a pattern over user input says ``[0-9]``: ``\\d`` and ``str.isdigit`` also take ``٤`` and ``４``.  A
number with decimals is a :class:`Number` wherever it is typed, so ``62,23`` is read as a Finn writes it.
"""

import functools
import importlib.resources
import re
import struct
import sys
import unicodedata
import zipfile
import zlib

import colander
import deform
import deform.widget
from pyramid.csrf import get_csrf_token
from pyramid.path import AssetResolver
from pyramid.threadlocal import get_current_request

from portal import places
from portal.held_uploads import HeldUploads
from portal.i18n import LANGUAGE_TITLES, LANGUAGES, _
from portal.resources.files import sniff_type
from portal.spreadsheet import DECIMAL_COMMA_LANGUAGES, format_number

CSRF_FIELD = 'csrf_token'


# Text and number rules -----------------------------------------------------------------------------------
#: Unicode categories a single-line text may not hold: controls (C0, C1), format characters (the
#: bidirectional embeddings, overrides and isolates U+202A–U+202E and U+2066–U+2069, which make text read
#: differently from what it holds, the zero-width space, the soft hyphen...), line and paragraph
#: separators, surrogates and private use.
SINGLE_LINE_REFUSED = frozenset({'Cc', 'Cf', 'Zl', 'Zp', 'Cs', 'Co'})
#: A multi-line text refuses the same, but keeps its line breaks and tabs, and the format characters that
#: written text needs: the soft hyphen of long Finnish words and the zero-width (non-)joiners of emoji
#: sequences and of some scripts.
MULTI_LINE_REFUSED = frozenset({'Cc', 'Cf', 'Cs', 'Co'})
MULTI_LINE_ALLOWED = frozenset('\t\n\r\u00ad\u200c\u200d')
LINE_BREAKS = frozenset('\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029')


def refused_characters(value, multiline=False):
    """The characters of ``value`` that its kind of text field refuses, in order, each once."""
    found = []
    for char in value:
        if multiline:
            bad = unicodedata.category(char) in MULTI_LINE_REFUSED and char not in MULTI_LINE_ALLOWED
        else:
            bad = unicodedata.category(char) in SINGLE_LINE_REFUSED
        if bad and char not in found:
            found.append(char)
    return found


def prepare_single_line(value):
    """Surrounding whitespace stripped and NFC normalised; nothing left is no value."""
    if not isinstance(value, str):
        return value
    value = unicodedata.normalize('NFC', value.strip())
    return value or colander.null


def prepare_multi_line(value):
    """NFC, and every line ending a newline: a browser sends a textarea's lines ending in CR LF
    (HTML's form submission rule), so a text saved as it was shown would otherwise differ from the stored
    one and count as a change (a working copy made by a save that changed nothing)."""
    if not isinstance(value, str):
        return value
    return unicodedata.normalize('NFC', value.replace('\r\n', '\n').replace('\r', '\n'))


def _text_validator(multiline):
    def plain_text(node, value):
        if not isinstance(value, str):
            return
        found = refused_characters(value, multiline)
        if not found:
            return
        chars = ', '.join(f'U+{ord(char):04X}' for char in found[:5])
        if not multiline and any(char in LINE_BREAKS for char in found):
            raise colander.Invalid(
                node, _('Write this on one line, without line breaks (${chars}).', mapping={'chars': chars})
            )
        raise colander.Invalid(
            node, _('Remove the invisible or control characters (${chars}).', mapping={'chars': chars})
        )

    return plain_text


single_line_text = _text_validator(multiline=False)
multi_line_text = _text_validator(multiline=True)


def is_multiline(node):
    return bool(getattr(node, 'multiline', False)) or isinstance(
        node.widget, deform.widget.TextAreaWidget | deform.widget.RichTextWidget
    )


def _with_rule(validator, rule):
    if validator is None:
        return rule
    if isinstance(validator, colander.deferred):
        return colander.deferred(lambda node, kw: colander.All(rule, validator(node, kw)))
    return colander.All(rule, validator)


def _preparers(node):
    if node.preparer is None:
        return []
    return list(node.preparer) if isinstance(node.preparer, list | tuple) else [node.preparer]


def text_rule_of(node):
    """The text validator :func:`apply_text_rules` gave ``node``, or None."""
    return getattr(node, '_text_rule', None)


def apply_text_rules(node):
    """Give every ``String`` node under ``node`` (a schema instance or class) its text rule, once."""
    nodes = list(getattr(node, '__all_schema_nodes__', ())) if isinstance(node, type) else [node]
    while nodes:
        current = nodes.pop()
        nodes.extend(current.children)
        if not isinstance(current.typ, colander.String) or text_rule_of(current) is not None:
            continue
        if isinstance(current.widget, deform.widget.PasswordWidget | deform.widget.CheckedPasswordWidget):
            continue
        multiline = is_multiline(current)
        rule = multi_line_text if multiline else single_line_text
        prepare = prepare_multi_line if multiline else prepare_single_line
        current.preparer = [prepare, *_preparers(current)]
        current.validator = _with_rule(current.validator, rule)
        current._text_rule = rule
    return node


def schema_classes():
    """Every colander schema class of the application (colander's and deform's own left out)."""
    found, todo = [], [colander.SchemaNode]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.partition('.')[0] not in ('colander', 'deform'):
            found.append(cls)
    return found


def _walk_after_init(cls):
    """Make the instances of ``cls``, whose ``__init__`` adds nodes of its own, walked when made."""
    init = cls.__dict__['__init__']
    if getattr(init, 'walks_text_rules', False):
        return

    @functools.wraps(init)
    def __init__(self, *args, **kw):
        init(self, *args, **kw)
        apply_text_rules(self)

    __init__.walks_text_rules = True
    cls.__init__ = __init__


def apply_text_rules_everywhere():
    """Give the text rules to the nodes of every schema class, and to the nodes that a class's own
    ``__init__`` adds to each instance."""
    for cls in schema_classes():
        apply_text_rules(cls)
        if '__init__' in cls.__dict__:
            _walk_after_init(cls)


def _ascii_number(convert):
    def number(value):
        text = str(value).strip()
        if not text.isascii():
            raise ValueError(f'{text!r} is not written with the digits 0-9')
        return convert(text)

    return staticmethod(number)


class AsciiInteger(colander.Integer):
    """``colander.Integer``, which with Python's ``int`` would read ``١٩٨٥`` and ``１９８５`` as 1985, with
    the ASCII digits only."""

    num = _ascii_number(int)


#: A number as a person types it, once the spaces of ``150 000`` are gone and a decimal comma is a point.
NUMBER_RE = re.compile(r'^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)\Z')
MAX_NUMBER_CHARS = 30
NUMBER_SPACES = re.compile(r'[\s\u00a0\u202f]')


def reader_language(node):
    """The interface language of the request ``node`` is bound to (``make_form`` binds every form), or
    None for a schema used without a request (content files, scripts)."""
    request = (getattr(node, 'bindings', None) or {}).get('request')
    return getattr(request, 'locale_name', None) if request is not None else None


class Number(colander.SchemaType):
    """A number written the way people write it: ``62,23``, ``62.23`` or ``150 000``, with the digits
    0–9 only; the one number type of every form, content file and import.

    Whole numbers come out as ``int`` and others as ``float`` (so a content file keeps ``150000`` as it
    was written), or always as ``float`` with ``always_float=True``.  Infinity, NaN and exponents are
    refused.  A form shows the number back with the decimal separator of its reader: ``62,23`` in
    Finnish and Swedish.
    """

    def __init__(self, always_float=False):
        self.always_float = always_float

    def serialize(self, node, appstruct):
        if appstruct is colander.null or appstruct is None:
            return colander.null
        decimal = ',' if reader_language(node) in DECIMAL_COMMA_LANGUAGES else '.'
        return format_number(appstruct, decimal, places=12)

    def deserialize(self, node, cstruct):
        if cstruct is colander.null or cstruct is None:
            return colander.null
        if isinstance(cstruct, bool):
            raise colander.Invalid(node, _('Enter a number, such as 12 or 9.5.'))
        if isinstance(cstruct, (int, float)):
            value = float(cstruct)
            if value != value or value in (float('inf'), float('-inf')):
                raise colander.Invalid(node, _('Enter a number, such as 12 or 9.5.'))
        elif isinstance(cstruct, str):
            text = NUMBER_SPACES.sub('', cstruct).replace(',', '.').replace('\u2212', '-')
            if not text:
                return colander.null
            if len(text) > MAX_NUMBER_CHARS or not NUMBER_RE.match(text):
                raise colander.Invalid(node, _('Enter a number, such as 12 or 9.5.'))
            value = float(text)
        else:
            raise colander.Invalid(node, _('Enter a number, such as 12 or 9.5.'))
        if self.always_float:
            return value
        return int(value) if value.is_integer() else value


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
    schema = apply_text_rules(schema.bind(request=request))
    schema.children.insert(0, csrf_node(request))
    return deform.Form(schema, buttons=buttons, action=action, formid=formid, **kw)


def validate(form, request):
    """The appstruct of a posted form without the CSRF field; raises ``deform.ValidationFailure``."""
    appstruct = form.validate(request.POST.items())
    appstruct.pop(CSRF_FIELD, None)
    return appstruct


def includeme(config):
    deform.Form.set_default_renderer(deform.ZPTRendererFactory(search_path(), translator=translate))
    # At commit, after every include and scan has imported the schemas of the portal and its plugins.
    config.action(('portal.forms', 'text rules'), apply_text_rules_everywhere, order=sys.maxsize)


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


#: What a zip-based document may declare before anything in it is unpacked: members, bytes unpacked in
#: all, and unpacked bytes per byte of the upload.  Office documents stay far below these (their XML packs
#: about ten to one, their pictures hardly at all); a zip bomb declares hundreds of megabytes in a few
#: hundred kilobytes.
ZIP_MAX_MEMBERS = 5000
ZIP_MAX_UNPACKED = 200 * 1024 * 1024
ZIP_MAX_RATIO = 100
#: Below this many unpacked bytes the ratio is not asked: a small document of repetitive XML may pack
#: better than a hundred to one, and unpacking it costs nothing.
ZIP_RATIO_FROM = 10 * 1024 * 1024
#: The end of a zip's central directory: signature, two disk numbers, entries on this disk and in all,
#: the directory's size and offset, the comment's length.
_END_RECORD = struct.Struct('<4s4H2LH')
_END_SIGNATURE = b'PK\x05\x06'
#: The most a central directory entry of a document takes: 46 bytes and its name, extra field and comment
#: (office documents name their members in a few dozen characters).
_MAX_ENTRY = 46 + 512


class UnsafeArchive(ValueError):
    """A zip whose declarations (members, unpacked size, packing ratio) no document needs."""


def _check_end_record(fp, size):
    """Refuse a zip whose central directory lists more members, or takes more bytes, than a document
    needs, before :mod:`zipfile` parses every entry of it into memory."""
    tail_size = min(size, _END_RECORD.size + 0xFFFF)
    fp.seek(size - tail_size)
    tail = fp.read(tail_size)
    start = tail.rfind(_END_SIGNATURE)
    if start < 0 or len(tail) - start < _END_RECORD.size:
        raise zipfile.BadZipFile('no end of central directory')
    _sig, _disk, _cd_disk, _here, members, cd_size, _offset, _comment = _END_RECORD.unpack_from(tail, start)
    # Zip64 marks its counts and sizes with all ones, so it is refused here too: no document needs it.
    if members > ZIP_MAX_MEMBERS or cd_size > ZIP_MAX_MEMBERS * _MAX_ENTRY:
        raise UnsafeArchive(f'{members} members in a central directory of {cd_size} bytes')


def _check_declarations(archive, size):
    """Refuse a zip by what its members declare, before any of them is unpacked."""
    infos = archive.infolist()
    unpacked = sum(info.file_size for info in infos)
    packed_too_well = unpacked > ZIP_RATIO_FROM and unpacked > ZIP_MAX_RATIO * size
    if len(infos) > ZIP_MAX_MEMBERS or unpacked > ZIP_MAX_UNPACKED or packed_too_well:
        raise UnsafeArchive(f'{len(infos)} members unpacking to {unpacked} bytes from {size}')


def uploaded_type(fp, filename):
    """The media type of an uploaded file found from its bytes, or None when it is not an allowed kind.

    A zip-based document is judged by its declarations (:func:`_check_end_record`,
    :func:`_check_declarations`) before anything in it is unpacked, and then only the first bytes of the
    member that names its kind are read, so a member that inflates to gigabytes costs a few kilobytes.
    Such an archive raises :class:`UnsafeArchive`.
    """
    fp.seek(0)
    head = fp.read(16)
    fp.seek(0)
    mimetype = sniff_type(head, filename or '')
    member = _ZIP_MEMBERS.get(mimetype)
    if member is None:
        return mimetype
    try:
        size = fp.seek(0, 2)
        _check_end_record(fp, size)
        fp.seek(0)
        with zipfile.ZipFile(fp) as archive:
            _check_declarations(archive, size)
            if member not in set(archive.namelist()):
                return None
            if member == 'mimetype':
                expected = mimetype.encode('ascii')
                with archive.open('mimetype') as f:
                    if f.read(len(expected) + 2).strip() != expected:
                        return None
    except UnsafeArchive:
        raise
    except (zipfile.BadZipFile, OSError, KeyError, EOFError, NotImplementedError, RuntimeError, ValueError,
            zlib.error):  # fmt: skip
        return None
    finally:
        fp.seek(0)
    return mimetype


@colander.deferred
def _held_file_widget(node, kw):
    """An upload field whose file is held for the form's next round (:mod:`portal.held_uploads`); the
    theme's ``file_upload.pt`` says so beside the field."""
    return deform.widget.FileUploadWidget(HeldUploads(kw['request']))


def file_node(name, title, allowed, description=None):
    """An optional upload field whose file must be one of the ``allowed`` media types by its content."""

    def check_type(node, value):
        if value in (colander.null, None) or not value.get('fp'):
            return
        try:
            mimetype = uploaded_type(value['fp'], value.get('filename'))
        except UnsafeArchive as e:
            message = _('This file unpacks to far more data than a document holds, so it cannot be uploaded.')
            raise colander.Invalid(node, message) from e
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
        widget=_held_file_widget,
    )
