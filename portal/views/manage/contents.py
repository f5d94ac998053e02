"""A folder's management listing (``@@contents``) with its filters, its order and its bulk state change,
delete, cut and copy, and paste; an item's workflow state (``@@state``) and its deletion (``@@delete``)."""

from pyramid.httpexceptions import HTTPBadRequest, HTTPForbidden, HTTPSeeOther
from pyramid.view import view_config

from portal.i18n import _
from portal.resources.base import Container, Item
from portal.security import ADD, CONTENTS, DELETE, EDIT
from portal.views.manage.clipboard import clipboard_items, keep, paste
from portal.views.manage.common import THEME, flash, refuse, removal_refusal
from portal.views.manage.moving import move_to_position, reorder
from portal.workflow import MAX_COMMENT, STATES, allowed_transitions, state_title, transition


@view_config(context=Container, name='contents', renderer=THEME + 'contents.pt', permission=CONTENTS)
def contents(context, request):
    """The folder's items with type, state, modified time and author, filtered by title, type and state;
    bulk state change, delete, cut and copy; paste; the order changed a step, to a position or by
    dragging a row (static/contents.js posts the same position form)."""
    if request.method == 'POST':
        result = contents_post(context, request)
        if not isinstance(result, list):
            return result
        request.response.status_int = 400
        return listing(context, request, problems=result)
    return listing(context, request)


def contents_post(context, request):
    """The answer to a post of the contents page, or the problems of a paste that cannot happen."""
    if any(key in request.POST for key in ('up', 'down', 'move_to')):
        if not request.has_permission(EDIT, context):
            raise HTTPForbidden(_('You may not change the order of this folder.'))
        if 'move_to' in request.POST:
            position = request.POST.get('position', '').strip()
            if not position.isdigit():
                raise HTTPBadRequest(_('Give the position as a whole number from 1.'))
            return move_to_position(context, request, request.POST['move_to'], int(position))
        up = request.POST.get('up')
        return reorder(context, request, up or request.POST.get('down'), -1 if up else 1)
    if 'paste' in request.POST:
        return paste(context, request)
    return bulk_action(context, request)


#: The contents page's filters: ``?title=`` (words of the title), ``?type=`` and ``?state=``.
FILTERS = ('title', 'type', 'state')


def listing(context, request, problems=()):
    registry = request.registry
    wanted = {name: request.GET.get(name, '').strip()[:200] for name in FILTERS}
    words = wanted['title'].lower().split()
    rows, types = [], {}
    for position, item in enumerate(context.values(), start=1):
        if not request.has_permission('view', item):
            continue
        content_type = registry.content_types.get(item.type_name)
        types[item.type_name] = content_type.title if content_type else item.type_name
        title = str(item.text('title')).lower()
        if (
            any(word not in title for word in words)
            or (wanted['type'] and item.type_name != wanted['type'])
            or (wanted['state'] and item.state != wanted['state'])
        ):
            continue
        rows.append(
            {
                'item': item,
                'position': position,
                'type': types[item.type_name],
                'state': state_title(item.state),
            }
        )
    addable = registry.content_types.offered_in(context) if request.has_permission(ADD, context) else []
    op, kept = clipboard_items(request)
    return {
        'rows': rows,
        'addable': addable,
        'transitions': transition_choices(),
        'can_reorder': bool(request.has_permission(EDIT, context)),
        'filters': wanted,
        'filtered': any(wanted.values()),
        'type_choices': sorted(types.items(), key=lambda pair: str(pair[1])),
        'state_choices': STATES,
        'clipboard': {'op': op, 'count': len(kept)} if kept else None,
        'problems': problems,
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
    if action in ('cut', 'copy'):
        return keep(context, request, action, names)
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
    comment = comment_of(request)
    for item in items:
        allowed = {t.name for t in state_changes(item, request)}
        if action in allowed:
            transition(item, action, request.registry, comment)
            done += 1
    flash(request, _('State changed for ${n} of ${total} items.', mapping={'n': done, 'total': len(items)}))
    return HTTPSeeOther(request.resource_url(context, '@@contents'))


@view_config(context=Item, name='state', renderer=THEME + 'state.pt', permission=CONTENTS)
def state(context, request):
    """The item's workflow state and the transitions the requester may make."""
    allowed = state_changes(context, request)
    if request.method != 'POST':
        return {'transitions': allowed, 'state': state_title(context.state)}
    name = request.POST.get('transition', '')
    if name not in {t.name for t in allowed}:
        raise HTTPForbidden(_('That state change is not allowed.'))
    transition(context, name, request.registry, comment_of(request))
    return HTTPSeeOther(request.resource_url(context, '@@state'))


def comment_of(request):
    """The optional comment posted with a state change; one longer than the workflow keeps is refused."""
    comment = request.POST.get('comment', '').strip()
    if len(comment) > MAX_COMMENT:
        raise HTTPBadRequest(_('A comment may be at most ${n} characters long.', mapping={'n': MAX_COMMENT}))
    return comment


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
