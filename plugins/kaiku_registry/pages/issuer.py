"""Issuer staff's pages: issuing a card and printing it, finding a card of the site, renewing, closing and
replacing it (the holder's export and erasure are in :mod:`.holder`)."""

import colander
from pyramid.httpexceptions import HTTPBadRequest
from pyramid.view import view_config

from kaiku_registry import codes, today
from kaiku_registry.i18n import _
from kaiku_registry.models import LATE_ENTRY, CardRegistry, RuleError
from kaiku_registry.pages import TEMPLATES, by_form_id, errors_of, lookup, my_site, post, render
from kaiku_registry.schemas import (
    CARD_EVENT_TITLES,
    CLOSE_REASON_TITLES,
    CORRECTION_REASON_TITLES,
    GENDER_TITLES,
    LIFE_SITUATION_TITLES,
    CloseCardSchema,
    IssueCardSchema,
    StockCardSchema,
)
from portal import audit


def card_by_id(context, request, site):
    """A card of the requester's own issuing site, by the internal id in the form; 404 for any other."""
    card = by_form_id(request, context.card, 'card_id')
    if card is None or card.site_id != site.id:
        raise HTTPBadRequest(_('No such card at your site.'))
    return card


#: The prefix of the community card form's fields in the page's errors (the page has two forms).
COMMUNITY = 'community-'


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
        'values': {'source': 'new', 'issued_on': today().strftime('%d.%m.%Y')},
        'community_values': {'source': 'new', 'issued_on': today().strftime('%d.%m.%Y')},
        'late_days': LATE_ENTRY.days,
        **extra,
    }


#: The card's rules a form can break, by the field they concern, and what the reader is told.
RULE_ERRORS = {
    'not_in_stock': ('code', _('This code is not in the card stock of your site.')),
    'code_issued': ('code', _('A card has been issued with this code already.')),
    'code_spoiled': ('code', _('This code has been marked spoiled: take another card.')),
    'code_lost': ('code', _('This code has been marked lost: take another card.')),
    'bad_code': ('code', _('This is not a card code: check the letters and numbers (e.g. ABCD-EFGH-JK).')),
    'future_day': ('issued_on', _('The date cannot be in the future.')),
    'too_long_ago': (
        'issued_on',
        _('The date can be at most ${days} days back.', mapping={'days': LATE_ENTRY.days}),
    ),
    'pilot_ended': ('form', _('The pilot of this municipality has ended.')),
    'not_issuer': ('form', _('Cards can be issued only at an active issuing site.')),
}


def rule_errors(error, fields=RULE_ERRORS, default='form', prefix=''):
    """A form's errors for a :class:`RuleError`, in the reader's language where the rule is known;
    ``prefix`` names the fields of the page's second form (the community card's)."""
    field, message = fields.get(error.code, (default, error.message))
    return {field if field == 'form' else prefix + field: message}


def issue_values(request):
    fields = ('birth_year', 'postcode', 'children', 'gender', 'life_situation', 'source', 'code', 'issued_on')
    return {name: post(request, name) for name in fields}


def stock_choice(request, cstruct, errors, prefix=''):
    """The pre-printed code and the day it was given when the form chose a card of the site's stock,
    None for a new random code; what is wrong goes into ``errors`` (its fields named with ``prefix``)."""
    source = cstruct['source'] or 'new'
    if source not in ('new', 'stock'):
        raise HTTPBadRequest(_('Choose a new code or a pre-printed code.'))
    if source == 'new' and cstruct['code'].strip():
        # A pre-printed card's code typed with the new-code choice left on: issuing a random code would
        # leave the card in the holder's hand unregistered.
        errors[prefix + 'source'] = _(
            'You typed a pre-printed code: choose the pre-printed card, or empty the code.'
        )
    if source != 'stock':
        return None
    try:
        return StockCardSchema().deserialize({name: cstruct[name] for name in ('code', 'issued_on')})
    except colander.Invalid as e:
        errors.update({prefix + name: message for name, message in errors_of(request, e).items()})
    return None


def issue_and_record(context, request, site, stock, **values):
    """Issue the card (by ``stock``'s pre-printed code, or a new one) and note it in the audit log, a
    card given on an earlier day as a late entry."""
    if stock is not None:
        card = context.issue_stock_card(site, stock['code'], stock['issued_on'], today(), **values)
    else:
        card = context.issue_card(site, today(), **values)
    late = stock is not None and stock['issued_on'] < today()
    detail = {'card': card.id, 'site': site.id}
    if values.get('community'):
        detail['community'] = True
    if stock is not None:
        detail['issued_on'] = stock['issued_on'].isoformat()
    audit.record(request, 'registry.card.issue_late' if late else 'registry.card.issue', detail=detail)
    return card


@view_config(
    context=CardRegistry,
    name='issue',
    request_method='GET',
    renderer=TEMPLATES + 'issue.pt',
    permission='registry.issue',
)
def issue_form(context, request):
    return issue_page(context, request, my_site(context, request, 'issuer'))


@view_config(context=CardRegistry, name='issue', request_method='POST', permission='registry.issue')
def issue(context, request):
    """Issue a card with a new random code, or with a pre-printed code of the site's stock on the day
    it was given (today, or up to 30 days back for a card given on the paper form)."""
    site = my_site(context, request, 'issuer')
    cstruct = issue_values(request)
    holder = ('birth_year', 'postcode', 'children', 'gender', 'life_situation')
    errors, values = {}, {}
    try:
        values = IssueCardSchema().deserialize({name: cstruct[name] for name in holder})
    except colander.Invalid as e:
        errors.update(errors_of(request, e))
    stock = stock_choice(request, cstruct, errors)
    if errors:
        return render(request, 'issue.pt', issue_page(context, request, site, errors=errors, values=cstruct))
    try:
        card = issue_and_record(context, request, site, stock, **values)
    except RuleError as e:
        return render(
            request, 'issue.pt', issue_page(context, request, site, errors=rule_errors(e), values=cstruct)
        )
    return render(request, 'print.pt', print_page(context, request, card))


@view_config(context=CardRegistry, name='issue-community', request_method='POST', permission='registry.issue')
def issue_community(context, request):
    """Issue the site's community card: no holder data, for its staff member leading a group of clients
    under 16; with a new code, or with a pre-printed code of the site's stock as any card."""
    site = my_site(context, request, 'issuer')
    cstruct = {name: post(request, name) for name in ('source', 'code', 'issued_on')}
    errors = {}
    stock = stock_choice(request, cstruct, errors, prefix=COMMUNITY)
    page = {'community_values': cstruct}
    if errors:
        return render(request, 'issue.pt', issue_page(context, request, site, errors=errors, **page))
    try:
        card = issue_and_record(
            context, request, site, stock, birth_year=None, postcode=None, children=0, community=True
        )
    except RuleError as e:
        errors = rule_errors(e, prefix=COMMUNITY)
        return render(request, 'issue.pt', issue_page(context, request, site, errors=errors, **page))
    return render(request, 'print.pt', print_page(context, request, card))


# Cards of the site --------------------------------------------------------------------------------
@view_config(
    context=CardRegistry,
    name='cards',
    request_method='GET',
    renderer=TEMPLATES + 'cards.pt',
    permission='registry.issue',
)
def cards(context, request):
    return cards_values(my_site(context, request, 'issuer'))


def cards_values(site):
    """What the card page shows before a card is found, for a site's staff or (``site`` None) the national
    administrator."""
    return {
        'site': site,
        'card': None,
        'errors': {},
        'reasons': CLOSE_REASON_TITLES[:2],
        'closed_titles': CLOSE_REASON_TITLES,
        'corrections': CORRECTION_REASON_TITLES,
        'events': dict(CARD_EVENT_TITLES),
        'care': {},
        'today': today(),
        'not_found': False,
        'message': None,
    }


@view_config(
    context=CardRegistry,
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


@view_config(context=CardRegistry, name='card-action', request_method='POST', permission='registry.issue')
def card_action(context, request):
    site = my_site(context, request, 'issuer')
    card = card_by_id(context, request, site)
    action = post(request, 'action')
    page = cards(context, request)
    try:
        if action == 'close':
            reason = CloseCardSchema().deserialize({'reason': post(request, 'reason')})['reason']
            context.close_card(card, reason, today())
            page['message'] = _('The card was closed.')
        elif action == 'replace':
            new = context.replace_card(card, site, today())
            audit.record(request, 'registry.card.replace', detail={'card': card.id, 'new': new.id})
            return render(request, 'print.pt', print_page(context, request, new))
        else:
            raise HTTPBadRequest(_('Unknown action.'))
    except colander.Invalid as e:
        page.update(card=card, errors=errors_of(request, e))
        return render(request, 'cards.pt', page)
    except RuleError as e:
        page.update(card=card, errors={'form': e.message})
        return render(request, 'cards.pt', page)
    audit.record(request, f'registry.card.{action}', detail={'card': card.id, 'site': site.id})
    page['card'] = card
    return render(request, 'cards.pt', page)
