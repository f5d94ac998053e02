"""Adding and editing items: the add form of a type, the edit form of an item and the edit round that
refuses to overwrite what someone else saved in between (409 with both versions).

The forms come from the content type declarations (``registry.content_types``): the add form of a type
is its schema, the edit form the same schema filled with the item's values.
"""

import hashlib
import json

import colander
import deform
from pyramid.httpexceptions import HTTPNotFound, HTTPRequestEntityTooLarge, HTTPSeeOther
from pyramid.view import view_config

from portal.events import ObjectModified, notify
from portal.forms import CSRF_FIELD, DOCUMENT_TYPES, IMAGE_TYPES, file_node, make_form, validate
from portal.held_uploads import HeldUploads
from portal.history import baseline
from portal.i18n import _, requested_language
from portal.resources.base import Container, Item
from portal.resources.files import StoredFile
from portal.resources.names import free_name
from portal.security import ADD, EDIT
from portal.views.manage.common import FORM_PAGE, content_type_of, form_page
from portal.views.manage.workingcopy import edit_working_copy
from portal.workingcopy import needs_working_copy

FILE_FIELDS = {
    'file': (_('File'), DOCUMENT_TYPES, _('PDF, PNG, JPEG, WebP, DOCX, XLSX or ODT.')),
    'picture': (_('Picture'), IMAGE_TYPES, _('PNG, JPEG or WebP.')),
}


def form_schema(content_type, editing=False):
    """The type's schema, with an upload field for each of its file fields."""
    schema = content_type.schema()
    for name in content_type.factory.file_fields:
        title, allowed, help_text = FILE_FIELDS.get(name, (name, DOCUMENT_TYPES, None))
        if editing:
            help_text = _('${types} Leave empty to keep the current file.', mapping={'types': help_text})
        schema.add(file_node(name, title, allowed, help_text))
    return schema


def check_body_size(request):
    """Refuse (413) a request body larger than the upload limit before anything reads it."""
    limit = request.registry.portal_settings.max_upload_bytes
    if request.content_length is not None and request.content_length > limit + 64 * 1024:
        raise HTTPRequestEntityTooLarge(
            _('A file may be at most ${mb} MB.', mapping={'mb': round(limit / 1024 / 1024, 1)})
        )


def store_files(item, values, request):
    """Move uploaded files out of ``values`` onto ``item``; return the names of the fields set."""
    limit = request.registry.portal_settings.max_upload_bytes
    stored = []
    for name in item.file_fields:
        upload = values.pop(name, colander.null)
        if upload in (colander.null, None) or not upload.get('fp'):
            continue
        data = upload['fp'].read(limit + 1)
        if len(data) > limit:
            raise HTTPRequestEntityTooLarge(
                _('A file may be at most ${mb} MB.', mapping={'mb': round(limit / 1024 / 1024, 1)})
            )
        setattr(item, name, StoredFile(data, upload.get('filename') or name, mimetype=upload['mimetype']))
        stored.append(name)
    return stored


@view_config(context=Container, name='add', renderer=FORM_PAGE, permission=ADD)
def add(context, request):
    """The add form of the type named by ``?type=``, when that type may be added here."""
    type_name = request.params.get('type', '')
    content_type = request.registry.content_types.get(type_name)
    if content_type is None or not content_type.offered_in(context.type_name):
        raise HTTPNotFound(_('That kind of item cannot be added here.'))
    action = request.resource_url(context, '@@add', query={'type': type_name})
    buttons = (deform.Button('save', _('Add')), deform.Button('cancel', _('Cancel')))
    check_body_size(request)
    form = make_form(request, form_schema(content_type), buttons, action=action)
    title = _('Add ${type}', mapping={'type': request.localizer.translate(content_type.title)})
    if request.method != 'POST':
        return form_page(request, form, title)
    if 'cancel' in request.POST:
        return HTTPSeeOther(request.resource_url(context, '@@contents'))
    try:
        values = validate(form, request)
    except deform.ValidationFailure as failure:
        return form_page(request, failure.render(), title, status=400)
    item = content_type.create()
    store_files(item, values, request)
    HeldUploads(request).release()
    item.update(values)
    item.creator = request.authenticated_userid
    name = free_name(context, values.get('title'), content_type.name.lower())
    context.add(name, item, registry=request.registry)
    return HTTPSeeOther(request.resource_url(item))


#: The hidden field of an edit form that carries the fingerprint of the values the form was filled from.
BASE_FIELD = 'base'


def base_node():
    return colander.SchemaNode(
        colander.String(), name=BASE_FIELD, widget=deform.widget.HiddenWidget(), missing=''
    )


def compared_fields(form):
    """The fields of an edit form whose saved values a save compares: not the CSRF token, not the base,
    not file uploads (a file field is never filled in again)."""
    return [
        field
        for field in form.children
        if field.name not in (CSRF_FIELD, BASE_FIELD) and not isinstance(field.schema.typ, deform.FileData)
    ]


def shown_values(form, values):
    """``values`` as the form shows them (colander's cstructs), by field name, for the compared fields."""
    return {
        field.name: field.schema.serialize(values.get(field.name, colander.null))
        for field in compared_fields(form)
    }


def fingerprint(form, values):
    """A digest of the values an edit form was filled from.  The form carries it; a save whose
    fingerprint is not that of the values saved now started from values someone else has changed since."""
    shown = json.dumps(shown_values(form, values), sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(shown.encode('utf-8')).hexdigest()[:32]


def readable(request, field, cstruct):
    """A saved value the way a person reads it: choices by their translated titles, lists one a line."""
    if cstruct in (colander.null, None):
        return ''
    values = getattr(field.widget, 'values', None)
    choices = dict(pair for pair in values if isinstance(pair, tuple) and len(pair) == 2) if values else {}
    if isinstance(cstruct, (list, tuple, set)):
        return '\n'.join(readable(request, field, each) for each in cstruct)
    if isinstance(cstruct, dict):
        return '\n'.join(str(value) for value in cstruct.values() if value not in (colander.null, None, ''))
    title = choices.get(cstruct, cstruct)
    return request.localizer.translate(title) if hasattr(title, 'domain') else str(title)


def edit_conflict(request, form, mine, saved):
    """The other person's saved values of the fields where they differ from ``mine``: (title, text)."""
    ours, theirs = shown_values(form, mine), shown_values(form, saved)
    return [
        (request.localizer.translate(field.title), readable(request, field, theirs[field.name]))
        for field in compared_fields(form)
        if ours[field.name] != theirs[field.name]
    ]


def edit_round(context, request, schema, title, current, apply, action=None):
    """One round of an item's ``@@edit`` form: on GET the form filled with ``current()``; on cancel back to
    the item; invalid input shown beside its fields (400); valid values handed to ``apply(values)`` after
    the history's baseline is taken, then back to the item.

    The form carries the fingerprint of the values it was filled from (:func:`fingerprint`; a post
    without one, which no form of ours makes, is not compared).  When someone else saved the item in
    between, nothing is written: the form comes back (409) with the
    person's own values in it, the other person's saved version of each field that differs beside it,
    and the fingerprint of the saved values, so saving again replaces them deliberately (when theirs
    equal the person's own values there is nothing to choose, and the save goes on).  Two people who
    save the same item at the same moment get the same answer, since the save that lost the conflict
    runs again and sees the other's values.
    """
    schema = schema.clone()
    schema.add(base_node())
    buttons = (deform.Button('save', _('Save')), deform.Button('cancel', _('Cancel')))
    form = make_form(request, schema, buttons, action=action or request.resource_url(context, '@@edit'))
    if request.method != 'POST':
        values = current()
        return form_page(request, form.render({**values, BASE_FIELD: fingerprint(form, values)}), title)
    if 'cancel' in request.POST:
        return HTTPSeeOther(request.resource_url(context))
    try:
        values = validate(form, request)
    except deform.ValidationFailure as failure:
        return form_page(request, failure.render(), title, status=400)
    based_on = values.pop(BASE_FIELD, '')
    saved = current()
    if based_on and based_on != fingerprint(form, saved):
        mine = {name: value for name, value in values.items() if name in shown_values(form, values)}
        conflict = edit_conflict(request, form, mine, saved)
        if conflict:
            return form_page(
                request,
                form.render({**mine, BASE_FIELD: fingerprint(form, saved)}),
                title,
                status=409,
                conflict=conflict,
            )
    baseline(context, request.registry)
    apply(values)
    return HTTPSeeOther(request.resource_url(context))


@view_config(context=Item, name='edit', renderer=FORM_PAGE, permission=EDIT)
def edit(context, request):
    """The edit form of the item's own texts and attributes.  ``?lang=`` names the interface language;
    naming another language than the item's own leads to that translation's form (``@@translate``)."""
    lang = requested_language(request)
    if lang and lang != context.language:
        return HTTPSeeOther(request.resource_url(context, '@@translate', query={'to': lang}))
    content_type = content_type_of(request, context)
    check_body_size(request)
    owned = context.__parent__ is None or request.registry.content_types.is_protected(context)
    if not owned and needs_working_copy(context):  # published stays live until its copy is published
        schema = form_schema(content_type, editing=True)
        return edit_working_copy(context, request, schema, store_files)

    def apply(values):
        changed = store_files(context, values, request)
        HeldUploads(request).release()
        changed += context.update(values)
        if changed:
            notify(ObjectModified(context, changed), request.registry)

    def current():
        return context.field_values(content_type.field_names())

    return edit_round(context, request, form_schema(content_type, editing=True), _('Edit'), current, apply)
