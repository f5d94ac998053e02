"""Cut, copy and paste between folders (the contents view's bulk actions and its Paste button).

Cutting or copying keeps the chosen items' paths in the session; pasting into a folder checks every item
first and changes nothing when one may not go there, with the same rules as the move form (a cut item must
be movable by the requester, its type addable here, the requester allowed to add here, its name free
here); a copied item needs only to be visible to the requester and not owned by the site or a plugin, and
gets a free name here.  A cut is pasted once; a copy may be pasted again.
"""

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.traversal import find_resource, resource_path

from portal.i18n import _
from portal.resources.base import RemovalRefused, check_removable
from portal.resources.copying import copy_tree
from portal.resources.names import free_name
from portal.security import DELETE, VIEW
from portal.views.manage.common import flash, removal_refusal
from portal.views.manage.moving import move_item, placement_error

#: The session key of the clipboard: ``{'op': 'cut' or 'copy', 'paths': [...]}``.
CLIPBOARD = 'portal.clipboard'


def keep(context, request, op, names):
    """Put the named children of ``context`` on the clipboard."""
    paths = [resource_path(context[name]) for name in names]
    request.session[CLIPBOARD] = {'op': op, 'paths': paths}
    message = {
        'cut': _('${n} items cut: open another folder and paste them there.', mapping={'n': len(paths)}),
        'copy': _('${n} items copied: open a folder and paste them there.', mapping={'n': len(paths)}),
    }[op]
    flash(request, message)
    return HTTPSeeOther(request.resource_url(context, '@@contents'))


def clipboard_items(request):
    """``(op, items)`` on the clipboard that still exist; ``(None, [])`` when it is empty."""
    kept = request.session.get(CLIPBOARD) or {}
    items = []
    for path in kept.get('paths', ()):
        try:
            items.append(find_resource(request.root, path))
        except KeyError:
            continue
    return (kept.get('op'), items) if items else (None, [])


def copy_refusal(request, item):
    """Why ``item`` may not be copied by the requester, or None."""
    try:
        check_removable(
            item,
            lambda each: request.has_permission(VIEW, each),
            request.registry.content_types.is_protected,
        )
    except RemovalRefused:
        return _('This item, or something in it, cannot be copied.')
    return None


def paste(context, request):
    """Paste the clipboard into ``context``: all or nothing.  Returns a redirect, or the problems
    ``[(title, message)]`` for the contents page to show (400)."""
    op, items = clipboard_items(request)
    if not items:
        flash(request, _('There is nothing to paste.'))
        return HTTPSeeOther(request.resource_url(context, '@@contents'))
    problems = []
    for item in items:
        if op == 'cut':
            problem = removal_refusal(request, item, DELETE) or placement_error(request, item, context)
        else:
            problem = copy_refusal(request, item) or placement_error(request, item, context, keep_name=False)
        if problem is not None:
            problems.append((item, problem))
    if problems:
        return problems
    for item in items:
        if op == 'cut':
            if item.__parent__ is not context:
                move_item(request, item, context)
            continue
        copied = copy_tree(item, request.registry.content_types, request.authenticated_userid)
        name = free_name(context, item.__name__, item.type_name.lower())
        context.add(name, copied, registry=request.registry)  # the audit log records the addition
    if op == 'cut':
        del request.session[CLIPBOARD]
    flash(request, _('${n} items pasted.', mapping={'n': len(items)}))
    return HTTPSeeOther(request.resource_url(context, '@@contents'))
