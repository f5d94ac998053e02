"""The door: venue staff check a card, record the visit of the check that found it valid, undo a visit."""

import datetime

import colander
from pyramid.httpexceptions import HTTPBadRequest
from pyramid.view import view_config

from kaiku_registry import HELSINKI, codes, today
from kaiku_registry.api import STATE_ERRORS
from kaiku_registry.i18n import _
from kaiku_registry.models import MAX_GROUP, UNDO_WINDOW, CardRegistry, RuleError
from kaiku_registry.pages import TEMPLATES, by_form_id, errors_of, lookup, my_site, post
from kaiku_registry.schemas import SECTOR_TITLES, VisitSchema
from portal import audit
from portal.security.policy import SESSION_KEY


def door_page(context, request, site, **extra):
    recent = [
        (visit, card.children if (card := context.card(visit.card_id)) is not None else 0)
        for visit in recent_visits(context, site)
    ]
    return {
        'site': site,
        'recent': recent,
        'sectors': SECTOR_TITLES,
        'helsinki': HELSINKI,
        'result': None,
        'errors': {},
        'recorded': None,
        'code_text': '',
        'check_token': None,
        'max_group': MAX_GROUP,
        'public_key': codes.public_key_text(request.registry.registry_public_key),
        **extra,
    }


def recent_visits(context, site, limit=10):
    """This site's visits of the last 30 minutes that can still be undone, newest first."""
    since = datetime.datetime.now(datetime.UTC) - UNDO_WINDOW
    return [visit for visit in context.recent_visits(site, since) if not visit.undone][:limit]


@view_config(
    context=CardRegistry,
    name='door',
    request_method='GET',
    renderer=TEMPLATES + 'door.pt',
    permission='registry.door',
)
def door(context, request):
    return door_page(context, request, my_site(context, request, 'venue'))


@view_config(
    context=CardRegistry,
    name='door',
    request_method='POST',
    renderer=TEMPLATES + 'door.pt',
    permission='registry.door',
)
def door_check(context, request):
    site = my_site(context, request, 'venue')
    code, _card, errors = lookup(context, request, site, 'door check')
    if errors:
        request.response.status_int = 400
        return door_page(context, request, site, errors=errors, code_text=post(request, 'code')[:200])
    result = context.verify(code, today())
    token = None
    if result.status == 'valid':
        token = request.registry.registry_door_checks.issue(result.card.id, *door_checker(request, site))
    return door_page(context, request, site, result=result, check_token=token)


def door_checker(request, site):
    """Whom a door check token is for: the site, the user and the user's session."""
    auth = request.session.get(SESSION_KEY)
    return site.id, request.authenticated_userid, auth.get('sid', '') if isinstance(auth, dict) else ''


#: Why a door check token cannot record a visit → (status, message).
DOOR_CHECK_ERRORS = {
    'missing': (400, _('Check the card again before recording the visit.')),
    'forged': (403, _('This check was made by another user or site: check the card again.')),
    'other_card': (403, _('This check was made by another user or site: check the card again.')),
    'expired': (400, _('The check is too old: check the card again before recording the visit.')),
    'check_used': (409, _('This check has recorded its visit already: check the card again for another.')),
    'gone': (409, _('The card is no longer in the registry: check the card again.')),
}


#: A community card's visit without its group, or with more clients than a group holds.
GROUP_ERROR = _(
    'Count the clients under 16 who came with the staff member: from 1 to ${max}.', mapping={'max': MAX_GROUP}
)


def door_error(context, request, site, reason, **extra):
    status, message = DOOR_CHECK_ERRORS[reason]
    request.response.status_int = status
    return door_page(context, request, site, errors={'code': message}, **extra)


@view_config(
    context=CardRegistry,
    name='door-record',
    request_method='POST',
    renderer=TEMPLATES + 'door.pt',
    permission='registry.door',
)
def door_record(context, request):
    """Record the visit of the card that this user's door check at this site found valid a moment ago:
    the check's token names the card and records one visit only."""
    site = my_site(context, request, 'venue')
    token = post(request, 'check')
    try:
        check = request.registry.registry_door_checks.read(token, *door_checker(request, site))
    except codes.DoorCheckError as e:
        return door_error(context, request, site, e.reason)
    card = context.card(check.card_id)
    if card is None:
        return door_error(context, request, site, 'gone')
    result = context.verify(card.code, today())
    try:
        cstruct = {name: post(request, name) for name in ('sector', 'children', 'event', 'group')}
        cstruct.update({name: post(request, name, 'false') for name in ('course', 'assistant')})
        values = VisitSchema().deserialize(cstruct)
        visit = context.record_visit(card, site, today(), check=check, **values)
    except colander.Invalid as e:
        request.response.status_int = 400
        return door_page(
            context, request, site, result=result, errors=errors_of(request, e), check_token=token
        )
    except RuleError as e:
        if e.code in DOOR_CHECK_ERRORS:
            return door_error(context, request, site, e.code)
        request.response.status_int = 409 if e.code in STATE_ERRORS else 400
        errors = {'group': GROUP_ERROR} if e.code == 'bad_group' else {'visit': e.message}
        return door_page(context, request, site, result=result, errors=errors, check_token=token)
    audit.record(
        request, 'registry.visit.record', detail={'visit': visit.id, 'card': card.id, 'site': site.id}
    )
    return door_page(context, request, site, recorded=visit)


@view_config(
    context=CardRegistry,
    name='door-undo',
    request_method='POST',
    renderer=TEMPLATES + 'door.pt',
    permission='registry.door',
)
def door_undo(context, request):
    site = my_site(context, request, 'venue')
    visit = by_form_id(request, context.visit, 'visit_id')
    if visit is None or visit.site_id != site.id:
        raise HTTPBadRequest(_('No such visit at your site.'))
    try:
        context.undo_visit(visit, site)
    except RuleError as e:
        request.response.status_int = 409
        return door_page(context, request, site, errors={'undo': e.message})
    audit.record(request, 'registry.visit.undo', detail={'visit': visit.id, 'site': site.id})
    return door_page(context, request, site, undone=visit)
