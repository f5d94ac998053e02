"""Working copies on the web: editing a published item (``@@edit``) saves a working copy
(:mod:`portal.workingcopy`) and ``@@working-copy`` shows it beside the published text, with the steps
the requester may take: submit it for review (Editors), publish it or send it back (Publishers), or cancel
it (whoever may edit).  Every step is a POST with the CSRF token, answered with a redirect.
"""

from pyramid.httpexceptions import HTTPBadRequest, HTTPForbidden, HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config

from portal import workingcopy
from portal.events import ObjectModified, notify
from portal.history import NOTE_ATTRIBUTE, diff_values, history_of
from portal.i18n import _
from portal.resources.base import Item
from portal.security import CONTENTS, EDIT, PUBLISH, SUBMIT
from portal.views.manage.common import THEME, content_type_of, flash
from portal.workingcopy import DRAFT, PENDING, WorkingCopyError

#: Each step: (title, permission, the copy states it starts from).
STEPS = {
    'submit': (_('Submit for review'), SUBMIT, (DRAFT,)),
    'publish': (_('Publish'), PUBLISH, (DRAFT, PENDING)),
    'send_back': (_('Send back'), PUBLISH, (PENDING,)),
    'cancel': (_('Cancel the working copy'), EDIT, (DRAFT, PENDING)),
}
COPY_STATES = {DRAFT: _('Draft'), PENDING: _('Pending review')}


class _Files:
    """Where :func:`portal.views.manage.editing.store_files` puts the uploads of a working copy."""

    def __init__(self, file_fields):
        self.file_fields = file_fields


def edit_working_copy(context, request, schema, store_files):
    """The ``@@edit`` round of a published item: the form is filled from its working copy (or, before
    there is one, from the item), and saving it saves the copy, never the published item."""
    from portal.views.manage.editing import edit_round

    names = content_type_of(request, context).field_names()

    def current():
        copy = context.working_copy
        return dict(copy.values) if copy is not None else context.field_values(names)

    def apply(values):
        holder = _Files(context.file_fields)
        stored = store_files(holder, values, request)
        new = context.working_copy is None
        copy = workingcopy.check_out(context, context.field_values(names), request.authenticated_userid)
        changed = copy.update(values, {name: getattr(holder, name) for name in stored})
        if new and not changed:  # a save that changed nothing makes no copy
            workingcopy.cancel(context)
            return
        if changed:
            history = history_of(context, create=True)
            history.add(dict(copy.values), changed, request.authenticated_userid, note='working copy')
        flash(request, _('Saved as a working copy. The published version stays until the copy is published.'))

    return edit_round(context, request, schema, _('Edit the working copy'), current, apply)


@view_config(context=Item, name='working-copy', renderer=THEME + 'working_copy.pt', permission=CONTENTS)
def working_copy(context, request):
    """The working copy beside the published version, and the steps the requester may take (POST)."""
    copy = context.working_copy
    if copy is None:
        raise HTTPNotFound(_('This item has no working copy.'))
    if request.method == 'POST':
        return take_step(context, request)
    names = content_type_of(request, context).field_names()
    published = context.field_values(names)
    steps = [
        (name, title)
        for name, (title, permission, sources) in STEPS.items()
        if copy.state in sources and request.has_permission(permission, context)
    ]
    return {
        'copy': copy,
        'copy_state': COPY_STATES[copy.state],
        'changes': diff_values(published, {name: copy.values.get(name) for name in names}),
        'files': sorted(copy.files),
        'steps': steps,
        'can_edit': bool(request.has_permission(EDIT, context)),
    }


def take_step(context, request):
    name = request.POST.get('step', '')
    if name not in STEPS:
        raise HTTPBadRequest(_('There is no such step.'))
    _title, permission, sources = STEPS[name]
    if not request.has_permission(permission, context):
        raise HTTPForbidden(_('You may not take this step.'))
    if context.working_copy.state not in sources:
        raise HTTPBadRequest(_('The working copy cannot take this step now.'))
    try:
        if name == 'submit':
            workingcopy.submit(context, request.authenticated_userid)
            flash(request, _('The working copy was submitted for review.'))
        elif name == 'send_back':
            workingcopy.send_back(context)
            flash(request, _('The working copy was sent back.'))
        elif name == 'cancel':
            workingcopy.cancel(context)
            flash(request, _('The working copy was cancelled.'))
            return HTTPSeeOther(request.resource_url(context))
        else:
            setattr(request, NOTE_ATTRIBUTE, 'working copy published')
            changed = workingcopy.check_in(context)
            if changed:
                notify(ObjectModified(context, changed), request.registry)
            flash(request, _('The working copy was published.'))
            return HTTPSeeOther(request.resource_url(context))
    except WorkingCopyError as e:  # a step the copy's state no longer allows (two people at once)
        raise HTTPBadRequest(_('The working copy cannot take this step now.')) from e
    return HTTPSeeOther(request.resource_url(context, '@@working-copy'))
