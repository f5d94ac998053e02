"""The door: venue staff check a card (typed, or scanned with the phone's camera: static/door-scan.js), record
the visit of the check that found it valid (its event picked from the site's list or typed as a new one,
which joins the list), undo a visit, and keep the site's list of events."""

import functools
import importlib.resources

import colander
from pyramid.httpexceptions import HTTPBadRequest
from pyramid.view import view_config

from kaiku_registry import codes, today
from kaiku_registry.api import STATE_ERRORS
from kaiku_registry.i18n import _
from kaiku_registry.models import MAX_GROUP, UNDO_WINDOW, CardRegistry, RuleError
from kaiku_registry.pages import TEMPLATES, by_form_id, errors_of, lookup, my_site, post
from kaiku_registry.partners.sites import change_site_events
from kaiku_registry.records import OTHER_SECTOR, SECTORS
from kaiku_registry.schemas import SECTOR_TITLES, VisitSchema
from portal import audit, clock
from portal.security.policy import SESSION_KEY
from portal.security.tweens import CSP

#: The fallback barcode decoder, copied from node_modules by ``make scanner`` (see the Makefile).
SCANNER_FILES = ('vendor/zxing-wasm/zxing-reader.js', 'vendor/zxing-wasm/zxing_reader.wasm')
#: The door page's Content-Security-Policy: the site's own, with WebAssembly allowed to compile for the
#: decoder (``'wasm-unsafe-eval'`` lets WebAssembly compile, not JavaScript's eval).
DOOR_CSP = CSP.replace("script-src 'self'", "script-src 'self' 'wasm-unsafe-eval'")


@functools.cache
def scanner_present():
    static = importlib.resources.files('kaiku_registry') / 'static'
    return all((static / name).is_file() for name in SCANNER_FILES)


def scanner(request):
    """The decoder's script and WebAssembly URLs for the door page's camera scanning, or None when they
    were not copied (the browser's own BarcodeDetector is then the only reader)."""
    if not scanner_present():
        return None
    decoder, wasm = (request.static_url(f'kaiku_registry:static/{name}') for name in SCANNER_FILES)
    return {'decoder': decoder, 'wasm': wasm}


def door_page(context, request, site, **extra):
    request.response.headers['Content-Security-Policy'] = DOOR_CSP
    recent = [
        (visit, card.children if (card := context.card(visit.card_id)) is not None else 0)
        for visit in recent_visits(context, site)
    ]
    return {
        'site': site,
        'recent': recent,
        'sectors': SECTOR_TITLES,
        'new_event': NEW_EVENT,
        'result': None,
        'errors': {},
        'recorded': None,
        'code_text': '',
        'check_token': None,
        'max_group': MAX_GROUP,
        'public_key': codes.public_key_text(request.registry.registry_public_key),
        'scanner': scanner(request),
        **extra,
        'values': kept_choices(site, extra.get('values')),
    }


def kept_choices(site, chosen):
    """What the visit form shows chosen: what the staff chose (after a refusal), a sector that is not
    one of the list replaced by the site's default sector."""
    values = dict(chosen or {})
    if values.get('sector') not in SECTORS:
        values['sector'] = site.sector or OTHER_SECTOR
    return values


def recent_visits(context, site, limit=10):
    """This site's visits of the last 30 minutes that can still be undone, newest first."""
    since = clock.now() - UNDO_WINDOW
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


#: The field of the door's form that a rule's refusal concerns (others are shown above the form).
RULE_FIELDS = {'too_many_children': 'children', 'no_children_on_courses': 'children', 'bad_sector': 'sector'}
#: The choice of the event list that means "type a new one".
NEW_EVENT = '_new'


def chosen_event(site, chosen):
    """``(event, new)``: the event picked from the site's list or typed as a new one ('' for none), and
    whether it is new; None when the pick is not on the list."""
    choice, typed = chosen['event_choice'], chosen['event_new'].strip()
    if choice == NEW_EVENT or (not choice and typed):
        return typed, bool(typed) and typed not in site.events
    if not choice:
        return '', False
    return (choice, False) if choice in site.events else (None, False)


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
    typed = ('sector', 'children', 'event_choice', 'event_new', 'group')
    chosen = {name: post(request, name) for name in typed}
    chosen.update({name: post(request, name, 'false') for name in ('course', 'assistant')})
    again = {'result': result, 'check_token': token, 'values': chosen}
    event, is_new = chosen_event(site, chosen)
    if event is None:
        request.response.status_int = 400
        return door_page(
            context, request, site, errors={'event': _('Choose an event from the list.')}, **again
        )
    try:
        cstruct = {name: chosen[name] for name in ('sector', 'children', 'course', 'assistant', 'group')}
        values = VisitSchema().deserialize({**cstruct, 'event': event})
        visit = context.record_visit(card, site, today(), check=check, **values)
    except colander.Invalid as e:
        request.response.status_int = 400
        return door_page(context, request, site, errors=errors_of(request, e), **again)
    except RuleError as e:
        if e.code in DOOR_CHECK_ERRORS:
            return door_error(context, request, site, e.code)
        request.response.status_int = 409 if e.code in STATE_ERRORS else 400
        if e.code == 'bad_group':
            errors = {'group': GROUP_ERROR}
        else:
            errors = {RULE_FIELDS.get(e.code, 'visit'): e.message}
        return door_page(context, request, site, errors=errors, **again)
    if is_new:
        context.add_site_event(site, event)
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


@view_config(
    context=CardRegistry,
    name='door-events',
    request_method='GET',
    renderer=TEMPLATES + 'door_events.pt',
    permission='registry.door',
)
def door_events(context, request):
    """The venue site's list of events, kept by its own staff."""
    return events_page(my_site(context, request, 'venue'))


@view_config(
    context=CardRegistry,
    name='door-events',
    request_method='POST',
    renderer=TEMPLATES + 'door_events.pt',
    permission='registry.door',
)
def door_events_change(context, request):
    site = my_site(context, request, 'venue')
    message, errors, text = change_site_events(context, request, site)
    if errors:
        request.response.status_int = 400
    else:
        audit.record(request, 'registry.site.edit', detail={'site': site.id, 'fields': ['events']})
    return events_page(site, errors=errors, message=message, event_text=text)


def events_page(site, errors=None, message=None, event_text=''):
    from pyramid.renderers import get_renderer

    macros = get_renderer(TEMPLATES + 'partners_macros.pt').implementation()
    return {'site': site, 'errors': errors or {}, 'message': message, 'event_text': event_text, 'pm': macros}
