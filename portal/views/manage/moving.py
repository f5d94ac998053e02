"""Renaming an item, moving it to another folder and changing its place in its folder's order."""

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
