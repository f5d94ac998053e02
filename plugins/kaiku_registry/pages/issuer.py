"""Issuer staff's pages: issuing a card and printing it, finding a card of the site, renewing, closing and
replacing it (the holder's export and erasure are in :mod:`.holder`)."""

import colander
from pyramid.httpexceptions import HTTPBadRequest
from pyramid.view import view_config

from kaiku_registry import codes, today
from kaiku_registry.i18n import _
from kaiku_registry.models import CardRegistry, RuleError
from kaiku_registry.pages import TEMPLATES, by_form_id, errors_of, lookup, my_site, post, render
from kaiku_registry.schemas import (
    CARD_EVENT_TITLES,
    CLOSE_REASON_TITLES,
    CORRECTION_REASON_TITLES,
    GENDER_TITLES,
    LIFE_SITUATION_TITLES,
    CloseCardSchema,
    IssueCardSchema,
)
from portal import audit


def card_by_id(context, request, site):
    """A card of the requester's own issuing site, by the internal id in the form; 404 for any other."""
    card = by_form_id(request, context.card, 'card_id')
    if card is None or card.site_id != site.id:
        raise HTTPBadRequest(_('No such card at your site.'))
    return card


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
    site = my_site(context, request, 'issuer')
    fields = ('birth_year', 'postcode', 'children', 'gender', 'life_situation')
    cstruct = {name: post(request, name) for name in fields}
    try:
        values = IssueCardSchema().deserialize(cstruct)
        card = context.issue_card(site, today(), community=post(request, 'community') == 'true', **values)
    except colander.Invalid as e:
        return render(
            request,
            'issue.pt',
            issue_page(context, request, site, errors=errors_of(request, e), values=cstruct),
        )
    except RuleError as e:
        return render(
            request,
            'issue.pt',
            issue_page(context, request, site, errors={'form': e.message}, values=cstruct),
        )
    audit.record(request, 'registry.card.issue', detail={'card': card.id, 'site': site.id})
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
