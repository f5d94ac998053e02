"""What the editing views share: the action tabs of an item, the refusal of a delete, move or rename,
form pages and messages for the next page."""

from portal.i18n import LANGUAGE_TITLES, _
from portal.resources.base import RemovalRefused, check_removable
from portal.security import CONTENTS, DELETE, EDIT, HISTORY, MANAGE, MANAGE_USERS, VIEW_AUDIT
from portal.views.catalogue import is_venues_folder
from portal.workflow import state_title

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
    offer('import', _('Import venues'), MANAGE, is_venues_folder(context, request))
    offer('working-copy', _('Working copy'), CONTENTS, getattr(context, 'working_copy', None) is not None)
    # translations: one tab a language other than the item's own (portal.views.manage.translate)
    declared = request.registry.content_types.get(context.type_name) is not None
    if declared and request.has_permission(EDIT, context):
        for lang, title in LANGUAGE_TITLES:
            if lang != context.language:
                url = request.resource_url(context, '@@translate', query={'to': lang})
                current = view == 'translate' and request.GET.get('to') == lang
                language = request.localizer.translate(title)
                actions.append((url, _('Translation: ${language}', mapping={'language': language}), current))
    offer('rename', _('Rename'), EDIT, context.__parent__ is not None and not owned)
    offer('move', _('Move'), DELETE, context.__parent__ is not None and not owned)
    offer('sharing', _('Sharing'), MANAGE_USERS, context.is_container or getattr(context, 'shareable', False))
    offer('delete', _('Delete'), DELETE, context.__parent__ is not None and not owned)
    if context.__parent__ is None:
        offer('review', _('Review queue'), CONTENTS)
        offer('users', _('Users'), MANAGE_USERS)
        offer('audit', _('Audit log'), VIEW_AUDIT)
        offer('translations', _('Translations to do'), CONTENTS)
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


def form_page(request, form, title, status=200, **extra):
    request.response.status_int = status
    return {'form_html': form if isinstance(form, str) else form.render(), 'page_title': title, **extra}


def flash(request, message):
    """Keep a message for the next page, translated now (the session keeps plain text only)."""
    request.session.flash(request.localizer.translate(message))


def content_type_of(request, item):
    return request.registry.content_types.of(item)
