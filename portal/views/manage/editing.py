"""Editing the site: add, edit, delete, change state, and the management listing of a folder.

The forms come from the content type declarations (``registry.content_types``): the add form of a type
is its schema, the edit form the same schema filled with the item's values.  Each view reads the request,
calls the item's or container's own methods and picks a template; the models send the events (added,
removed, state changed) and the edit view sends :class:`portal.events.ObjectModified` with the names of
the fields that changed, so the catalog, the audit log and the history follow every change.
"""

import hashlib
import json
import re
import unicodedata

import colander
import deform
from pyramid.httpexceptions import (
    HTTPBadRequest,
    HTTPForbidden,
    HTTPNotFound,
    HTTPRequestEntityTooLarge,
    HTTPSeeOther,
)
from pyramid.location import lineage
from pyramid.traversal import find_resource, resource_path
from pyramid.view import view_config

from portal.audit import audit_actions, audit_log, parse_day, record
from portal.events import ObjectModified, notify
from portal.forms import CSRF_FIELD, DOCUMENT_TYPES, IMAGE_TYPES, file_node, make_form, validate
from portal.history import NOTE_ATTRIBUTE, baseline, diff_values, history_of
from portal.i18n import _
from portal.resources.base import Container, Item, RemovalRefused, check_name, check_removable
from portal.resources.files import StoredFile
from portal.resources.site import Site
from portal.resources.workspace import Workspace
from portal.security import (
    ADD,
    CONTENTS,
    DELETE,
    EDIT,
    HISTORY,
    MANAGE_USERS,
    VIEW_AUDIT,
    get_principals,
    normalize_login,
)
from portal.views.public import page_number
from portal.workflow import allowed_transitions, state_title, transition

THEME = 'kaiku_theme:templates/'
FORM_PAGE = THEME + 'form_page.pt'


def edit_actions(request, context):
    """(url, title, current) of the editing views the requester may use on ``context``."""
    actions = []
    view = request.view_name
    owned = request.registry.content_types.is_protected(context)

    def offer(name, title, permission, condition=True):
        if condition and request.has_permission(permission, context):
            url = request.resource_url(context, f'@@{name}' if name else '')
            actions.append((url, title, view == name))

    offer('', _('View'), 'view')
    offer('edit', _('Edit'), getattr(context, 'edit_permission', EDIT))
    offer('contents', _('Contents'), CONTENTS, context.is_container)
    offer(
        'state',
        _('State: ${state}', mapping={'state': request.localizer.translate(state_title(context.state))}),
        CONTENTS,
        not owned,
    )
    offer('history', _('History'), HISTORY)
    offer('rename', _('Rename'), EDIT, context.__parent__ is not None and not owned)
    offer('move', _('Move'), DELETE, context.__parent__ is not None and not owned)
    offer('sharing', _('Sharing'), MANAGE_USERS, context.is_container or getattr(context, 'shareable', False))
    offer('delete', _('Delete'), DELETE, context.__parent__ is not None and not owned)
    if context.__parent__ is None:
        offer('users', _('Users'), MANAGE_USERS)
        offer('audit', _('Audit log'), VIEW_AUDIT)
    return actions


REFUSALS = {
    (RemovalRefused.OWNED, False): _(
        'This item belongs to the site or one of its parts and cannot be deleted, moved or renamed.'
    ),
    (RemovalRefused.OWNED, True): _(
        'This folder holds an item that belongs to the site or one of its parts, so it cannot be deleted, '
        'moved or renamed.'
    ),
    (RemovalRefused.DENIED, False): _('You may not delete, move or rename this item.'),
    (RemovalRefused.DENIED, True): _(
        'This folder holds items you may not change, so you cannot delete, move or rename it.'
    ),
}


def removal_refusal(request, item, permission):
    """Why ``item`` may not be deleted, moved or renamed by the requester (a translation string), or
    None when it may: the requester needs ``permission`` on it and on everything inside it, and nothing
    in it may belong to the site or a plugin (:func:`portal.resources.base.check_removable`)."""
    try:
        check_removable(
            item,
            lambda each: request.has_permission(permission, each),
            request.registry.content_types.is_protected,
        )
    except RemovalRefused as refused:
        return REFUSALS[refused.reason, refused.inside]
    return None


def refuse(request, values, refusal):
    """The page of a delete, move or rename that may not happen: its reason, and 403."""
    request.response.status_int = 403
    return {**values, 'refusal': refusal}


def slugify(title, fallback='item'):
    """A URL name from a title: ASCII letters and digits joined by dashes, at most 60 characters."""
    name = unicodedata.normalize('NFKD', title or '').encode('ascii', 'ignore').decode('ascii').lower()
    name = re.sub(r'[^a-z0-9]+', '-', name).strip('-')[:60].strip('-')
    return name or fallback


def free_name(container, title, fallback):
    base = slugify(title, fallback)
    name, n = base, 1
    while name in container:
        n += 1
        name = f'{base}-{n}'
    return name


def form_page(request, form, title, status=200, **extra):
    request.response.status_int = status
    return {'form_html': form if isinstance(form, str) else form.render(), 'page_title': title, **extra}


def flash(request, message):
    """Keep a message for the next page, translated now (the session keeps plain text only)."""
    request.session.flash(request.localizer.translate(message))


def content_type_of(request, item):
    return request.registry.content_types.of(item)


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
    if content_type is None or not content_type.addable_in(context.type_name):
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


def edit_round(context, request, schema, title, current, apply):
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
    form = make_form(request, schema, buttons, action=request.resource_url(context, '@@edit'))
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
    content_type = content_type_of(request, context)
    check_body_size(request)

    def apply(values):
        changed = store_files(context, values, request)
        changed += context.update(values)
        if changed:
            notify(ObjectModified(context, changed), request.registry)

    def current():
        return context.field_values(content_type.field_names())

    return edit_round(context, request, form_schema(content_type, editing=True), _('Edit'), current, apply)


@view_config(context=Item, name='delete', renderer=THEME + 'confirm.pt', permission=DELETE)
def delete(context, request):
    parent = context.__parent__
    if parent is None:
        raise HTTPBadRequest(_('The site itself cannot be deleted.'))
    page = {
        'items': [context],
        'action': request.resource_url(context, '@@delete'),
        'question': _('Delete this item and everything in it?'),
        'refusal': None,
    }
    refusal = removal_refusal(request, context, DELETE)
    if refusal is not None:
        return refuse(request, page, refusal)
    if request.method != 'POST':
        return page
    if 'confirm' not in request.POST:
        return HTTPSeeOther(request.resource_url(context))
    parent.remove(context.__name__, registry=request.registry)
    return HTTPSeeOther(request.resource_url(parent, '@@contents'))


@view_config(context=Item, name='state', renderer=THEME + 'state.pt', permission=CONTENTS)
def state(context, request):
    """The item's workflow state and the transitions the requester may make."""
    allowed = state_changes(context, request)
    if request.method != 'POST':
        return {'transitions': allowed, 'state': state_title(context.state)}
    name = request.POST.get('transition', '')
    if name not in {t.name for t in allowed}:
        raise HTTPForbidden(_('That state change is not allowed.'))
    transition(context, name, request.registry)
    return HTTPSeeOther(request.resource_url(context, '@@state'))


@view_config(context=Container, name='contents', renderer=THEME + 'contents.pt', permission=CONTENTS)
def contents(context, request):
    """The folder's items with type, state, modified time and author; bulk state change and delete."""
    registry = request.registry
    if request.method == 'POST' and ('up' in request.POST or 'down' in request.POST):
        if not request.has_permission(EDIT, context):
            raise HTTPForbidden(_('You may not change the order of this folder.'))
        up = request.POST.get('up')
        return reorder(context, request, up or request.POST.get('down'), -1 if up else 1)
    if request.method == 'POST':
        result = bulk_action(context, request)
        if result is not None:
            return result
    rows = []
    for item in context.values():
        if not request.has_permission('view', item):
            continue
        content_type = registry.content_types.get(item.type_name)
        rows.append(
            {
                'item': item,
                'type': content_type.title if content_type else item.type_name,
                'state': state_title(item.state),
            }
        )
    addable = registry.content_types.addable_to(context) if request.has_permission(ADD, context) else []
    return {
        'rows': rows,
        'addable': addable,
        'transitions': transition_choices(),
        'can_reorder': bool(request.has_permission(EDIT, context)),
    }


def state_changes(item, request):
    """The transitions the requester may make on ``item``: none on a container the site or a plugin
    owns, whose owner decides who sees it."""
    if request.registry.content_types.is_protected(item):
        return []
    return allowed_transitions(item, request.has_permission)


def transition_choices():
    from portal.workflow import TRANSITIONS

    return [(t.name, t.title) for t in TRANSITIONS]


def bulk_action(context, request):
    """Apply a state change or a deletion to the chosen items; items not allowed are left as they are."""
    names = [name for name in request.POST.getall('names') if name in context]
    action = request.POST.get('action', '')
    if not names:
        flash(request, _('Choose at least one item.'))
        return HTTPSeeOther(request.resource_url(context, '@@contents'))
    items = [context[name] for name in names]
    if action == 'delete':
        request.override_renderer = THEME + 'confirm.pt'
        page = {
            'items': items,
            'action': request.resource_url(context, '@@contents'),
            'question': _('Delete these items and everything in them?'),
            'bulk': 'delete',
            'refusal': None,
        }
        for item in items:
            refusal = removal_refusal(request, item, DELETE)
            if refusal is not None:
                shown = [item] if request.has_permission('view', item) else []
                return refuse(request, {**page, 'items': shown}, refusal)
        if 'confirm' not in request.POST:
            return page
        for name in names:
            context.remove(name, registry=request.registry)
        flash(request, _('${n} items deleted.', mapping={'n': len(names)}))
        return HTTPSeeOther(request.resource_url(context, '@@contents'))
    done = 0
    for item in items:
        allowed = {t.name for t in state_changes(item, request)}
        if action in allowed:
            transition(item, action, request.registry)
            done += 1
    flash(request, _('State changed for ${n} of ${total} items.', mapping={'n': done, 'total': len(items)}))
    return HTTPSeeOther(request.resource_url(context, '@@contents'))


AUDIT_PAGE = 100
AUDIT_FILTERS = ('action', 'actor', 'path', 'since', 'until')


@view_config(context=Site, name='audit', renderer=THEME + 'audit.pt', permission=VIEW_AUDIT)
def audit(context, request):
    """The audit log, newest first, filtered by action, person, path and days (``YYYY-MM-DD``)."""
    try:
        params = {key: request.GET.get(key, '').strip()[:200] for key in AUDIT_FILTERS}
    except UnicodeDecodeError as e:
        raise HTTPBadRequest(_('The address contains characters that are not valid UTF-8.')) from e
    page = page_number(request)
    since, until = parse_day(params['since']), parse_day(params['until'], end=True)
    errors = [
        label
        for key, label in (('since', _('From')), ('until', _('To')))
        if params[key] and (since if key == 'since' else until) is None
    ]
    entries, more = [], False
    log_ = audit_log(request, create=False)
    if log_ is not None and not errors:
        entries, more = log_.query(
            action=params['action'] or None,
            actor=params['actor'].lower() or None,
            path=params['path'] or None,
            since=since,
            until=until,
            offset=(page - 1) * AUDIT_PAGE,
            limit=AUDIT_PAGE,
        )
    query = {key: value for key, value in params.items() if value}
    newer = request.resource_url(context, '@@audit', query={**query, 'page': page - 1})
    older = request.resource_url(context, '@@audit', query={**query, 'page': page + 1})
    return {
        'entries': entries,
        'params': params,
        'actions': list(audit_actions(request.registry).items()),
        'action_titles': audit_actions(request.registry),
        'errors': errors,
        'page': page,
        'previous_url': newer if page > 1 else None,
        'next_url': older if more else None,
    }


@view_config(context=Item, name='history', renderer=THEME + 'history.pt', permission=HISTORY)
def history(context, request):
    """The item's revisions; ``?rev=N`` shows what revision N changed; a POST reverts to a revision."""
    revisions = history_of(context)
    if request.method == 'POST':
        return revert(context, request, revisions)
    number = request.GET.get('rev', '')
    shown = None
    changes = []
    if number:
        valid = revisions is not None and re.fullmatch(r'[0-9]{1,9}', number)
        shown = revisions.get(int(number)) if valid else None
        if shown is None:
            raise HTTPNotFound(_('There is no such revision.'))
        previous = revisions.get(shown['number'] - 1)
        changes = diff_values(previous['values'] if previous else {}, shown['values'])
    return {
        'revisions': revisions.newest_first() if revisions is not None else [],
        'shown': shown,
        'changes': changes,
        'can_revert': bool(request.has_permission(EDIT, context)),
    }


def revert(context, request, revisions):
    if not request.has_permission(EDIT, context):
        raise HTTPForbidden(_('You may not edit this item.'))
    number = request.POST.get('revision', '')
    valid = revisions is not None and re.fullmatch(r'[0-9]{1,9}', number)
    target = revisions.get(int(number)) if valid else None
    if target is None:
        raise HTTPBadRequest(_('There is no such revision.'))
    setattr(request, NOTE_ATTRIBUTE, f'revert to {target["number"]}')
    changed = context.update(target['values'])
    if changed:
        notify(ObjectModified(context, changed), request.registry)
        record(request, 'revert', resource_path(context), detail={'revision': target['number']})
        flash(request, _('Reverted to revision ${n}.', mapping={'n': target['number']}))
    else:
        flash(request, _('Revision ${n} is the same as the current one.', mapping={'n': target['number']}))
    return HTTPSeeOther(request.resource_url(context, '@@history'))


# Rename, move, reorder ----------------------------------------------------------------------------------
@view_config(context=Item, name='rename', renderer=THEME + 'rename.pt', permission=EDIT)
def rename(context, request):
    parent = context.__parent__
    if parent is None:
        raise HTTPBadRequest(_('The site itself cannot be renamed.'))
    values = {'name': context.__name__, 'error': None, 'refusal': None}
    refusal = removal_refusal(request, context, EDIT)
    if refusal is not None:
        return refuse(request, values, refusal)
    if request.method != 'POST':
        return values
    new_name = request.POST.get('name', '').strip()
    values['name'] = new_name
    if new_name == context.__name__:
        return HTTPSeeOther(request.resource_url(context))
    try:
        check_name(new_name)
    except ValueError:
        values['error'] = _('Use lower-case letters, digits, dots, dashes and underscores only.')
    else:
        if new_name in parent:
            values['error'] = _('This name is in use in this folder.')
    if values['error']:
        request.response.status_int = 400
        return values
    old_path = resource_path(context)
    old_name = context.__name__
    order = list(parent.order)
    parent.remove(old_name, registry=request.registry)
    parent.add(new_name, context, registry=request.registry)
    if order:
        parent.set_order([new_name if name == old_name else name for name in order])
    record(request, 'rename', resource_path(context), detail={'from': old_path})
    return HTTPSeeOther(request.resource_url(context))


@view_config(context=Item, name='move', renderer=THEME + 'move.pt', permission=DELETE)
def move(context, request):
    """Move the item into another folder, given by its path, where its type may be added."""
    parent = context.__parent__
    if parent is None:
        raise HTTPBadRequest(_('The site itself cannot be moved.'))
    values = {'target': resource_path(parent), 'error': None, 'refusal': None}
    refusal = removal_refusal(request, context, DELETE)
    if refusal is not None:
        return refuse(request, values, refusal)
    if request.method != 'POST':
        return values
    path = request.POST.get('target', '').strip()
    values['target'] = path
    try:
        target = find_resource(request.root, path) if path.startswith('/') else None
    except KeyError:
        target = None
    content_type = content_type_of(request, context)
    inside = target is not None and any(location is context for location in lineage(target))
    if target is None or not getattr(target, 'is_container', False):
        values['error'] = _('There is no folder at that path.')
    elif inside:
        values['error'] = _('An item cannot be moved into itself.')
    elif not content_type.addable_in(target.type_name):
        values['error'] = _('This kind of item cannot be put into that folder.')
    elif not request.has_permission(ADD, target):
        values['error'] = _('You may not add items to that folder.')
    elif context.__name__ in target and target is not parent:
        values['error'] = _('That folder already has an item with this name.')
    if values['error']:
        request.response.status_int = 400
        return values
    if target is parent:
        return HTTPSeeOther(request.resource_url(context))
    old_path = resource_path(context)
    parent.remove(context.__name__, registry=request.registry)
    target.add(context.__name__, context, registry=request.registry)
    record(request, 'move', resource_path(context), detail={'from': old_path})
    return HTTPSeeOther(request.resource_url(context))


def reorder(context, request, name, step):
    """Move the child ``name`` one place up (``step`` -1) or down (+1) in the folder's order."""
    names = context.keys()
    if name not in names:
        raise HTTPBadRequest(_('There is no such item in this folder.'))
    index = names.index(name)
    other = index + step
    if 0 <= other < len(names):
        names[index], names[other] = names[other], names[index]
        context.set_order(names)
        record(request, 'reorder', resource_path(context), detail={'item': name})
    return HTTPSeeOther(request.resource_url(context, '@@contents'))


@view_config(context=Container, name='sharing', renderer=THEME + 'sharing.pt', permission=MANAGE_USERS)
@view_config(context=Workspace, name='sharing', renderer=THEME + 'sharing.pt', permission=MANAGE_USERS)
def sharing(context, request):
    """Local roles: give a user a role on this folder and everything in it, or take it away (also on a
    workspace, where the local WorkspaceCoordinator role makes its holder a coordinator of it)."""
    roles = request.registry.roles
    values = {'roles': list(roles.values()), 'error': None, 'login': ''}
    if request.method == 'POST':
        principals = get_principals(request)
        removing = request.POST.get('remove', '')
        login = normalize_login(removing.removeprefix('user:') or request.POST.get('login', ''))
        user = principals.get_user(login)
        role = request.POST.get('role', '')
        if user is None:
            values['error'] = _('There is no such user.')
        elif not removing and role not in roles:
            values['error'] = _('Choose a role.')
        if values['error']:
            values['login'] = login
            request.response.status_int = 400
        else:
            held = set((context.local_roles or {}).get(user.principal, ()))
            held = set() if removing else held | {role}
            context.set_local_roles(user.principal, sorted(held))
            record(
                request,
                'user-edit',
                resource_path(context),
                detail={'user': user.login, 'local_roles': sorted(held)},
            )
            return HTTPSeeOther(request.resource_url(context, '@@sharing'))
    values['granted'] = sorted((context.local_roles or {}).items())
    return values
