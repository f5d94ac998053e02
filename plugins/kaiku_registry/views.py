"""The registry's web pages for each role, and the public impact page.

Every page acts for the requester's own site (venue staff, issuer staff) or area (coordinators): a card
of another site is answered as if it did not exist.  Codes and card lookups travel only in POST bodies,
every read of a card record is written to the audit log (by internal id, never the code), and failed
lookups are limited per user, with a ceiling per site that one user alone cannot reach.  Views stay
thin: the rules are the model's.
"""

import csv
import datetime
import io
import json
import math

import colander
from pyramid.httpexceptions import HTTPBadRequest, HTTPForbidden, HTTPTooManyRequests
from pyramid.response import Response
from pyramid.view import view_config

from kaiku_registry import HELSINKI, codes, today
from kaiku_registry.api import STATE_ERRORS, lookup_failed, lookup_wait
from kaiku_registry.i18n import _
from kaiku_registry.models import UNDO_WINDOW, Registry, RuleError
from kaiku_registry.reports import (
    bar_chart_svg,
    breakdown,
    expiring_by_site,
    public_count,
    summary,
    uses_by,
    uses_by_month_and_site,
)
from kaiku_registry.schemas import (
    CLOSE_REASON_TITLES,
    GENDER_TITLES,
    LIFE_SITUATION_TITLES,
    SECTOR_TITLES,
    CloseCardSchema,
    CodeSchema,
    IssueCardSchema,
    VisitSchema,
)
from portal import audit
from portal.pagecache import uncacheable
from portal.security.policy import SESSION_KEY

TEMPLATES = 'kaiku_registry:templates/'
ROLE_TITLES = {
    'VenueStaff': _('Venue staff'),
    'IssuerStaff': _('Issuer staff'),
    'Coordinator': _('Coordinator'),
    'NationalAdmin': _('National administrator'),
}


def query(request, name):
    try:
        return request.GET.get(name)
    except UnicodeDecodeError:
        return None


def post(request, name, default=''):
    try:
        return request.POST.get(name, default)
    except UnicodeDecodeError as e:
        raise HTTPBadRequest(_('The form holds characters that are not valid UTF-8.')) from e


def my_site(context, request, kind):
    """The site the requester acts for, which must be of ``kind``; 403 otherwise."""
    site = context.site_of(request.authenticated_userid)
    if site is None or site.kind != kind or not site.active:
        raise HTTPForbidden()
    return site


def errors_of(invalid):
    return dict(invalid.asdict().items())


def user_client(request):
    """The throttle key of the logged-in user: unknown codes lock out the user who typed them."""
    return f'user:{request.authenticated_userid}'


def guard_lookups(request, site):
    wait = lookup_wait(request.registry, site, user_client(request))
    if wait:
        raise HTTPTooManyRequests(
            _('Too many unknown codes: wait ${minutes} minutes.', mapping={'minutes': math.ceil(wait / 60)}),
            headers={'Retry-After': str(wait)},
        )


def lookup(context, request, site, why, may_see=None):
    """The card for the code in the form, audited; ``(code, card, errors)``.

    A card the requester may not see (``may_see(card)`` false) is answered as an unknown code is: it
    counts as a failed lookup, its read is not recorded, and the work done is the same, so neither the
    answer, the count nor the time tells that the code is another site's card."""
    guard_lookups(request, site)
    text = post(request, 'code').strip()
    try:
        CodeSchema().deserialize({'code': text})
    except colander.Invalid as e:
        return None, None, errors_of(e)
    try:
        code = codes.read(text, request.registry.registry_public_key)
    except codes.PayloadError:
        return None, None, {'code': _('The QR code has been altered or is not a card.')}
    if code is None:
        lookup_failed(request.registry, site, user_client(request))
        return None, None, {'code': _('This is not a card code: check the letters and numbers.')}
    card = context.card_by_code(code)
    if card is not None and may_see is not None and not may_see(card):
        card = None
    if card is None:
        lookup_failed(request.registry, site, user_client(request))
        return code, None, {}
    audit.record(request, 'registry.card.read', detail={'card': card.id, 'why': why, 'site': site.id})
    return code, card, {}


def by_form_id(request, find, field):
    """The record ``find`` (a registry method) gives for the internal id in the form's ``field``, or None."""
    try:
        return find(int(post(request, field)))
    except ValueError:
        return None


def card_by_id(context, request, site):
    """A card of the requester's own issuing site, by the internal id in the form; 404 for any other."""
    card = by_form_id(request, context.card, 'card_id')
    if card is None or card.site_id != site.id:
        raise HTTPBadRequest(_('No such card at your site.'))
    return card


# Dashboard ---------------------------------------------------------------------------------------
@view_config(context=Registry, renderer=TEMPLATES + 'home.pt', permission='registry.use')
def home(context, request):
    login = request.authenticated_userid
    return {
        'site': context.site_of(login),
        'area': context.area_of(login),
        'can': {
            name: bool(request.has_permission(f'registry.{name}', context))
            for name in ('door', 'issue', 'report', 'manage')
        },
    }


# The door ------------------------------------------------------------------------------------------
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
        'public_key': codes.public_key_text(request.registry.registry_public_key),
        **extra,
    }


def recent_visits(context, site, limit=10):
    """This site's visits of the last 30 minutes that can still be undone, newest first."""
    since = datetime.datetime.now(datetime.UTC) - UNDO_WINDOW
    return [visit for visit in context.recent_visits(site, since) if not visit.undone][:limit]


@view_config(
    context=Registry,
    name='door',
    request_method='GET',
    renderer=TEMPLATES + 'door.pt',
    permission='registry.door',
)
def door(context, request):
    return door_page(context, request, my_site(context, request, 'venue'))


@view_config(
    context=Registry,
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


def door_error(context, request, site, reason, **extra):
    status, message = DOOR_CHECK_ERRORS[reason]
    request.response.status_int = status
    return door_page(context, request, site, errors={'code': message}, **extra)


@view_config(
    context=Registry,
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
        cstruct = {name: post(request, name) for name in ('sector', 'children', 'event')}
        cstruct.update({name: post(request, name, 'false') for name in ('course', 'assistant')})
        values = VisitSchema().deserialize(cstruct)
        visit = context.record_visit(card, site, today(), check=check, **values)
    except colander.Invalid as e:
        request.response.status_int = 400
        return door_page(context, request, site, result=result, errors=errors_of(e), check_token=token)
    except RuleError as e:
        if e.code in DOOR_CHECK_ERRORS:
            return door_error(context, request, site, e.code)
        request.response.status_int = 409 if e.code in STATE_ERRORS else 400
        return door_page(
            context, request, site, result=result, errors={'visit': e.message}, check_token=token
        )
    audit.record(
        request, 'registry.visit.record', detail={'visit': visit.id, 'card': card.id, 'site': site.id}
    )
    return door_page(context, request, site, recorded=visit)


@view_config(
    context=Registry,
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


# Issuing -------------------------------------------------------------------------------------------
def print_page(context, request, card):
    key = request.registry.registry_signing_key
    payload = codes.sign_payload(key, card.code, card.valid_until, card.children) if key else card.code
    return {
        'card': card,
        'grouped': codes.grouped(card.code),
        'qr': codes.qr_svg(payload, request.localizer.translate(_('QR code of the card'))),
        'barcode': codes.code39_svg(card.code),
        'signed': key is not None,
    }


def issue_page(context, request, site, **extra):
    return {
        'site': site,
        'genders': GENDER_TITLES,
        'situations': LIFE_SITUATION_TITLES,
        'errors': {},
        'values': {},
        **extra,
    }


@view_config(
    context=Registry,
    name='issue',
    request_method='GET',
    renderer=TEMPLATES + 'issue.pt',
    permission='registry.issue',
)
def issue_form(context, request):
    return issue_page(context, request, my_site(context, request, 'issuer'))


@view_config(context=Registry, name='issue', request_method='POST', permission='registry.issue')
def issue(context, request):
    site = my_site(context, request, 'issuer')
    fields = ('birth_year', 'postcode', 'children', 'gender', 'life_situation')
    cstruct = {name: post(request, name) for name in fields}
    try:
        values = IssueCardSchema().deserialize(cstruct)
        card = context.issue_card(site, today(), community=post(request, 'community') == 'true', **values)
    except colander.Invalid as e:
        return render(
            request, 'issue.pt', issue_page(context, request, site, errors=errors_of(e), values=cstruct)
        )
    except RuleError as e:
        return render(
            request,
            'issue.pt',
            issue_page(context, request, site, errors={'form': e.message}, values=cstruct),
        )
    audit.record(request, 'registry.card.issue', detail={'card': card.id, 'site': site.id})
    return render(request, 'print.pt', print_page(context, request, card))


def render(request, template, values, status=200):
    from pyramid.renderers import render_to_response

    response = render_to_response(TEMPLATES + template, values, request=request)
    response.status_int = 400 if status == 200 and values.get('errors') else status
    return response


# Cards of the site --------------------------------------------------------------------------------
@view_config(
    context=Registry,
    name='cards',
    request_method='GET',
    renderer=TEMPLATES + 'cards.pt',
    permission='registry.issue',
)
def cards(context, request):
    site = my_site(context, request, 'issuer')
    return {
        'site': site,
        'card': None,
        'errors': {},
        'reasons': CLOSE_REASON_TITLES[:2],
        'today': today(),
        'not_found': False,
        'message': None,
    }


@view_config(
    context=Registry,
    name='cards',
    request_method='POST',
    renderer=TEMPLATES + 'cards.pt',
    permission='registry.issue',
)
def card_search(context, request):
    site = my_site(context, request, 'issuer')
    _code, card, errors = lookup(
        context, request, site, 'issuer search', may_see=lambda card: card.site_id == site.id
    )
    page = cards(context, request)
    page.update(card=card, errors=errors, not_found=not errors and card is None)
    return page


@view_config(context=Registry, name='card-action', request_method='POST', permission='registry.issue')
def card_action(context, request):
    site = my_site(context, request, 'issuer')
    card = card_by_id(context, request, site)
    action = post(request, 'action')
    page = cards(context, request)
    try:
        if action == 'renew':
            context.renew_card(card, site, today())
            page['message'] = _('The card was renewed.')
        elif action == 'close':
            reason = CloseCardSchema().deserialize({'reason': post(request, 'reason')})['reason']
            context.close_card(card, reason, today())
            page['message'] = _('The card was closed.')
        elif action == 'replace':
            new = context.replace_card(card, site, today())
            audit.record(request, 'registry.card.replace', detail={'card': card.id, 'new': new.id})
            return render(request, 'print.pt', print_page(context, request, new))
        elif action == 'export':
            audit.record(
                request, 'registry.card.export', detail={'card': card.id, 'why': 'data subject request'}
            )
            response = Response(
                json.dumps(card.export(), indent=2, ensure_ascii=False),
                charset='utf-8',
                content_type='application/json',
            )
            response.content_disposition = f'attachment; filename="card-{card.id}.json"'
            return response
        else:
            raise HTTPBadRequest(_('Unknown action.'))
    except colander.Invalid as e:
        page.update(card=card, errors=errors_of(e))
        return render(request, 'cards.pt', page)
    except RuleError as e:
        page.update(card=card, errors={'form': e.message})
        return render(request, 'cards.pt', page)
    audit.record(request, f'registry.card.{action}', detail={'card': card.id, 'site': site.id})
    page['card'] = card
    return render(request, 'cards.pt', page)


# Statistics ----------------------------------------------------------------------------------------
def report_area(context, request):
    """The area the requester may report on: their own for a coordinator, any for a national admin."""
    login = request.authenticated_userid
    national = bool(request.has_permission('registry.all_areas', context))
    area = context.area_of(login)
    municipality, region = query(request, 'municipality') or None, query(request, 'region') or None
    if not national:
        if area is None:
            raise HTTPForbidden()
        kind, name = area
        if kind == 'municipality':
            municipality, region = name, None
        else:
            region = name
            if municipality and municipality not in context.site_municipalities(region=name):
                municipality = None
    return municipality, region


@view_config(context=Registry, name='stats', renderer=TEMPLATES + 'stats.pt', permission='registry.report')
def stats(context, request):
    municipality, region = report_area(context, request)
    match = {k: v for k, v in (('municipality', municipality), ('region', region)) if v}
    months = breakdown(context, 'adult_uses', 'month', **match)
    return {
        'municipality': municipality,
        'region': region,
        'figures': summary(context, today(), municipality=municipality, region=region),
        'by_municipality': uses_by(context, 'municipality', **match),
        'by_site': [
            (context.site(site_id), adults, children)
            for site_id, adults, children in uses_by(context, 'site', **match)
        ],
        'months': months,
        'chart': bar_chart_svg(
            request.localizer.translate(_('Uses by adults per month')), list(months.items())
        ),
        'expiring': expiring_by_site(context, today(), municipality, region),
        'sectors': SECTOR_TITLES,
        'municipalities': sorted(context.site_municipalities()),
        'regions': sorted(context.site_regions()),
    }


@view_config(context=Registry, name='stats.csv', permission='registry.report')
def stats_csv(context, request):
    municipality, region = report_area(context, request)
    match = {k: v for k, v in (('municipality', municipality), ('region', region)) if v}
    out = io.StringIO()
    writer = csv.writer(out)
    sectors = [sector for sector, _title in SECTOR_TITLES]
    writer.writerow(['month', 'site', *(f'adults_{s}' for s in sectors), *(f'children_{s}' for s in sectors)])
    for month, site_id, adults, children in uses_by_month_and_site(context, **match):
        site = context.site(site_id)
        name = site.name if site else str(site_id)
        if name[:1] in ('=', '+', '-', '@'):
            name = "'" + name
        writer.writerow(
            [month, name, *(adults.get(s, 0) for s in sectors), *(children.get(s, 0) for s in sectors)]
        )
    response = Response(out.getvalue().encode('utf-8-sig'), content_type='text/csv', charset='utf-8')
    response.content_disposition = 'attachment; filename="kaikukortti-statistics.csv"'
    return response


# Public --------------------------------------------------------------------------------------------
@view_config(context=Registry, name='impact', renderer=TEMPLATES + 'impact.pt', permission='view_impact')
def impact(context, request):
    """The public impact page of one municipality: aggregates only, counts from 1 to 4 hidden."""
    uncacheable(request)  # its figures move with the registry's records, not with the catalog
    choices = sorted({site.municipality for site in context.sites.values()})
    asked = query(request, 'municipality')
    chosen = asked if asked in choices else None
    page = {'choices': choices, 'chosen': chosen, 'unknown': bool(asked) and chosen is None}
    if chosen is None:
        return page
    figures = summary(context, today(), municipality=chosen)
    adults, children = {}, {}
    for _municipality, row_adults, row_children in uses_by(context, 'municipality', municipality=chosen):
        adults, children = row_adults, row_children
    months = breakdown(context, 'adult_uses', 'month', municipality=chosen)
    shown_months = [(month, public_count(count)) for month, count in months.items()]
    page.update(
        figures={name: public_count(value) for name, value in figures.items()},
        sectors=[
            (title, public_count(adults.get(sector, 0)), public_count(children.get(sector, 0)))
            for sector, title in SECTOR_TITLES
        ],
        months=shown_months,
        chart=bar_chart_svg(
            request.localizer.translate(_('Uses by adults per month')),
            [(month, count if isinstance(count, int) else 0) for month, count in shown_months],
        ),
    )
    return page
