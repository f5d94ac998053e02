"""An item's revisions (``@@history``): what each changed, and reverting to one."""

import re

from pyramid.httpexceptions import HTTPBadRequest, HTTPForbidden, HTTPNotFound, HTTPSeeOther
from pyramid.i18n import TranslationString
from pyramid.traversal import resource_path
from pyramid.view import view_config

from portal.audit import record
from portal.events import ObjectModified, notify
from portal.history import NOTE_ATTRIBUTE, diff_values, history_of, note_message
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
        before = readable(context, request, previous['values']) if previous else {}
        changes = diff_values(before, readable(context, request, shown['values']))
    return {
        'revisions': [
            {**rev, 'note': note_message(rev['note'])}
            for rev in (revisions.newest_first() if revisions else [])
        ],
        'shown': shown,
        'changes': changes,
        'can_revert': bool(request.has_permission(EDIT, context)),
        'transition_titles': {t.name: t.title for t in TRANSITIONS},
    }


def shown_note(request, note):
    """A revision's stored note in the reader's language, the titles in it translated too."""
    message = note_message(note)
    translate = request.localizer.translate
    mapping = {
        name: translate(value) if isinstance(value, TranslationString) else value
        for name, value in (getattr(message, 'mapping', None) or {}).items()
    }
    return translate(message, mapping=mapping or None)


def readable(context, request, values):
    """Stored values as a reader is shown them: a choice by its translated title, yes or no for a flag."""
    translate = request.localizer.translate
    try:
        nodes = {
            node.name: node for node in request.registry.content_types.of(context).make_schema().children
        }
    except LookupError:
        nodes = {}
    shown = {}
    for name, value in values.items():
        titles = dict(getattr(getattr(nodes.get(name), 'widget', None), 'values', None) or ())
        if isinstance(value, bool):
            value = translate(_('Yes') if value else _('No'))
        elif titles and isinstance(value, list | tuple | set | frozenset):
            value = [translate(titles.get(v, v)) for v in value]
        elif titles and isinstance(value, str):
            value = translate(titles.get(value, value))
        shown[name] = value
    return shown


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
