"""The onboarding workspace: the coordinators' page, its forms, and the public summary.

The page shows the municipality's status, the working pair, the progress as a bar and as "n of m", the steps
with their items (overdue ones marked in words and with an icon, not by colour alone) and, when a plugin
registered a figures provider, its live figures.  Editing goes through small forms: the settings (status and
the working pair), one form per step (status, owner, due date and notes of the step and of each of its items),
and the status of many steps at once.  Every change sends :class:`portal.events.ObjectModified`, so the
history and the audit log follow it as they follow any other edit.

People who may view the workspace but not see its working data (anyone, once its summary is published) get
the summary: the status and the progress of each step, without owners, dates, notes or contacts.
"""

import deform
from pyramid.httpexceptions import HTTPBadRequest, HTTPNotFound, HTTPSeeOther
from pyramid.renderers import get_renderer
from pyramid.view import view_config

from portal.clock import today
from portal.events import ObjectModified, notify
from portal.forms import make_form, validate, vocabulary_title
from portal.history import NOTE_ATTRIBUTE, baseline
from portal.i18n import _
from portal.resources.base import Localized
from portal.resources.workspace import (
    EDIT_WORKSPACE,
    STATUSES,
    TASK_STATUSES,
    VIEW_WORKSPACE,
    Workspace,
    WorkspaceError,
    WorkspaceSettingsSchema,
    is_overdue,
    progress_of,
    step_form_schema,
)
from portal.security import VIEW
from portal.views.manage import FORM_PAGE, edit_round, flash, form_page
from portal.workflow import is_published

THEME = 'kaiku_theme:templates/'


def guide_texts(workspace, step, lang, guide):
    """The step's title and its items' texts in ``lang`` from the guide, or as copied in when the guide no
    longer has the step or its checklist has changed length."""
    source = guide.get(step['step']) if guide is not None else None
    items = step.get('items', ())
    if source is None or source.type_name != 'Step':
        title, texts = Localized(step['title'], workspace.language), ()
    else:
        title = source.text('title', lang)
        texts_lang = lang if source.texts.get(lang, {}).get('checklist') else source.language
        texts = [Localized(text, texts_lang) for text in source.text('checklist', texts_lang)]
    if len(texts) != len(items):
        texts = [Localized(item['text'], workspace.language) for item in items]
    return title, texts


def step_rows(request, workspace, day, private):
    """The steps as the templates show them, with the guide's titles in the reader's language."""
    lang = request.locale_name
    guide = workspace.guide_item()
    rows = []
    for number, step in enumerate(workspace.steps, 1):
        title, texts = guide_texts(workspace, step, lang, guide)
        items = step.get('items', ())
        row = {
            'number': number,
            'name': step['step'],
            'title': title,
            'status': step['status'],
            'status_title': vocabulary_title(TASK_STATUSES, step['status']),
            'checklist': [],
            'item_progress': progress_of(items) if items else None,
        }
        if private:
            row.update(task_fields(step, day))
            row['edit_url'] = request.resource_url(workspace, '@@step', step['step'])
        for item, text in zip(items, texts, strict=True):
            entry = {'text': text, 'status_title': vocabulary_title(TASK_STATUSES, item['status'])}
            if private:
                entry.update(task_fields(item, day))
            row['checklist'].append(entry)
        rows.append(row)
    return rows


def task_fields(task, day):
    return {
        'owner': task.get('owner', ''),
        'due': task.get('due'),
        'notes': task.get('notes', ''),
        'overdue': is_overdue(task, day),
    }


def page_values(request, context, day, private=False):
    """What the summary shows; ``private`` adds each step's owner, due date, notes and edit link."""
    return {
        'status_title': vocabulary_title(STATUSES, context.status),
        'progress': context.progress(),
        'steps': step_rows(request, context, day, private),
        'published': is_published(context),
        'wm': get_renderer(THEME + 'workspace_macros.pt').implementation(),
    }


@view_config(context=Workspace, renderer=THEME + 'workspace.pt', permission=VIEW)
def workspace(context, request):
    """The whole workspace for its coordinators and Administrators; the public summary for everyone else."""
    day = today()
    if not request.has_permission(VIEW_WORKSPACE, context):
        request.override_renderer = THEME + 'workspace_summary.pt'
        return page_values(request, context, day)
    values = page_values(request, context, day, private=True)
    return {
        **values,
        'overdue': [row for row in values['steps'] if row['overdue']],
        'can_edit': bool(request.has_permission(EDIT_WORKSPACE, context)),
        'statuses': TASK_STATUSES,
        'figures': request.registry.workspace_figures.figures(context, day),
        'messages': request.session.pop_flash(),
    }


@view_config(context=Workspace, name='summary', renderer=THEME + 'workspace_summary.pt', permission=VIEW)
def summary(context, request):
    """The public summary, also for the coordinators who want to see what the public sees."""
    return page_values(request, context, today())


def save(context, request, changed, note):
    """Record a change the way every edit is recorded: a revision with a note, then the event."""
    setattr(request, NOTE_ATTRIBUTE, note)
    notify(ObjectModified(context, changed), request.registry)


@view_config(context=Workspace, name='edit', renderer=FORM_PAGE, permission=EDIT_WORKSPACE)
def edit(context, request):
    """The settings: title, the municipality's status and the working pair."""
    schema = WorkspaceSettingsSchema()

    def apply(values):
        changed = context.update(values)
        if changed:
            save(context, request, changed, 'settings')
            flash(request, _('Changes saved.'))

    def current():
        return context.field_values([node.name for node in schema.children])

    return edit_round(context, request, schema, _('Edit the workspace'), current, apply)


def step_appstruct(step):
    appstruct = {key: step[key] for key in ('status', 'owner', 'due', 'notes') if key in step}
    for index, item in enumerate(step.get('items', ())):
        appstruct[f'item-{index}'] = {
            key: item[key] for key in ('status', 'owner', 'due', 'notes') if key in item
        }
    return appstruct


@view_config(context=Workspace, name='step', renderer=FORM_PAGE, permission=EDIT_WORKSPACE)
def step(context, request):
    """One step's form, at ``@@step/<name of the guide step>``."""
    name = request.subpath[0] if len(request.subpath) == 1 else ''
    try:
        current = context.step(name)
    except WorkspaceError as e:
        raise HTTPNotFound(_('The workspace has no such step.')) from e
    buttons = (deform.Button('save', _('Save')), deform.Button('cancel', _('Cancel')))
    action = request.resource_url(context, '@@step', name)
    step_title, texts = guide_texts(context, current, request.locale_name, context.guide_item())
    schema = step_form_schema(current, texts)
    form = make_form(request, schema, buttons, action=action, formid='step-form')
    number = [s['step'] for s in context.steps].index(name) + 1
    title = _('Step ${n}: ${title}', mapping={'n': number, 'title': step_title})
    if request.method != 'POST':
        return form_page(request, form.render(step_appstruct(current)), title)
    if 'cancel' in request.POST:
        return HTTPSeeOther(request.resource_url(context, anchor=f'step-{name}'))
    try:
        values = validate(form, request)
    except deform.ValidationFailure as failure:
        return form_page(request, failure.render(), title, status=400)
    baseline(context, request.registry)
    if context.set_step(name, values):
        save(context, request, ['steps'], f'step {name}')
        flash(request, _('Step ${n} saved.', mapping={'n': number}))
    return HTTPSeeOther(request.resource_url(context, anchor=f'step-{name}'))


@view_config(context=Workspace, name='statuses', request_method='POST', permission=EDIT_WORKSPACE)
def statuses(context, request):
    """Give many steps one status in one submit (the form on the workspace page)."""
    names = request.POST.getall('names')
    status = request.POST.get('status', '')
    if status not in dict(TASK_STATUSES):
        raise HTTPBadRequest(_('Choose one of the listed statuses.'))
    if not names:
        flash(request, _('Choose at least one step.'))
        return HTTPSeeOther(request.resource_url(context, anchor='steps'))
    baseline(context, request.registry)
    try:
        changed = context.set_statuses(names, status)
    except WorkspaceError as e:
        raise HTTPBadRequest(_('The workspace has no such step.')) from e
    if changed:
        save(context, request, ['steps'], f'status {status}: {", ".join(changed)}')
    flash(
        request,
        _('Status changed for ${n} of ${total} steps.', mapping={'n': len(changed), 'total': len(names)}),
    )
    return HTTPSeeOther(request.resource_url(context, anchor='steps'))
