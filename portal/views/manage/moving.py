"""Renaming an item, moving it to another folder and changing its place in its folder's order; the
checks and the move that cut and paste (:mod:`.clipboard`) share with the move form."""

from pyramid.httpexceptions import HTTPBadRequest, HTTPSeeOther
from pyramid.location import lineage
from pyramid.traversal import find_resource, resource_path
from pyramid.view import view_config

from portal.audit import record
from portal.i18n import _
from portal.resources.base import Item, check_name
from portal.security import ADD, DELETE, EDIT
from portal.views.manage.common import THEME, content_type_of, refuse, removal_refusal


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
    values['error'] = placement_error(request, context, target)
    if values['error']:
        request.response.status_int = 400
        return values
    if target is not parent:
        move_item(request, context, target)
    return HTTPSeeOther(request.resource_url(context))


def placement_error(request, item, target, keep_name=True):
    """Why ``item`` may not be put into ``target`` by the requester (a translation string), or None: the
    target must be a folder outside the item, where the item's type may be added and the requester may
    add; with ``keep_name`` (a move, not a copy) the name must be free there too."""
    content_type = content_type_of(request, item)
    if target is None or not getattr(target, 'is_container', False):
        return _('There is no folder at that path.')
    if any(location is item for location in lineage(target)):
        return _('An item cannot be moved into itself.')
    if not content_type.addable_in(target.type_name):
        return _('This kind of item cannot be put into that folder.')
    if not request.has_permission(ADD, target):
        return _('You may not add items to that folder.')
    if keep_name and item.__name__ in target and target is not item.__parent__:
        return _('That folder already has an item with this name.')
    return None


def move_item(request, item, target):
    """Move ``item`` into ``target`` under its own name (checked by the caller) and record it."""
    old_path = resource_path(item)
    item.__parent__.remove(item.__name__, registry=request.registry)
    target.add(item.__name__, item, registry=request.registry)
    record(request, 'move', resource_path(item), detail={'from': old_path})


def reorder(context, request, name, step):
    """Move the child ``name`` one place up (``step`` -1) or down (+1) in the folder's order."""
    names = context.keys()
    if name not in names:
        raise HTTPBadRequest(_('There is no such item in this folder.'))
    return move_to_position(context, request, name, names.index(name) + 1 + step)


def move_to_position(context, request, name, position):
    """Put the child ``name`` at ``position`` (from 1; beyond either end means that end) of the folder's
    order: the keyboard's way to what dragging a row does."""
    names = context.keys()
    if name not in names:
        raise HTTPBadRequest(_('There is no such item in this folder.'))
    position = min(max(position, 1), len(names))
    if names.index(name) != position - 1:
        names.remove(name)
        names.insert(position - 1, name)
        context.set_order(names)
        record(request, 'reorder', resource_path(context), detail={'item': name, 'position': position})
    return HTTPSeeOther(request.resource_url(context, '@@contents'))
