"""An item's revisions (``@@history``): what each changed, and reverting to one."""

import re

from pyramid.httpexceptions import HTTPBadRequest, HTTPForbidden, HTTPNotFound, HTTPSeeOther
from pyramid.traversal import resource_path
from pyramid.view import view_config

from portal.audit import record
from portal.events import ObjectModified, notify
from portal.history import NOTE_ATTRIBUTE, diff_values, history_of
from portal.i18n import _
from portal.resources.base import Item
from portal.security import EDIT, HISTORY
from portal.views.manage.common import THEME, flash
from portal.workflow import TRANSITIONS


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
        'transition_titles': {t.name: t.title for t in TRANSITIONS},
        'note_of': note_of,
    }


#: The notes the portal itself stores with a revision, as the reader reads them.
NOTES = {
    'initial': _('before the first recorded edit'),
    'created': _('created'),
    'import': _('imported from a file'),
}
REVERT_NOTE = re.compile(r'^revert to ([0-9]+)$')


def note_of(note):
    """A revision's stored note as a translation string when the portal wrote it, else as stored (a
    plugin's or a workspace's own words)."""
    reverted = REVERT_NOTE.match(note or '')
    if reverted:
        return _('reverted to revision ${n}', mapping={'n': reverted.group(1)})
    return NOTES.get(note, note)


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
