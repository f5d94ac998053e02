"""The card holder's rights: the complete export of what the registry holds about a card, and the erasure
of a card, for the issuing site's staff (their own site's cards) and the national administrator (any
card, found on the page :func:`national_cards`).

An erasure is asked, then confirmed on a second page; both are POSTs with the CSRF token.  The audit log
records that a card was erased by its internal id, never its code.
"""

import datetime
import json
from types import SimpleNamespace

from pyramid.httpexceptions import HTTPBadRequest
from pyramid.response import Response
from pyramid.view import view_config

from kaiku_registry import codes
from kaiku_registry.i18n import _
from kaiku_registry.models import CardRegistry
from kaiku_registry.pages import TEMPLATES, by_form_id, lookup, my_site, post, render
from kaiku_registry.pages.issuer import cards_values
from kaiku_registry.schemas import CLOSE_REASON_TITLES, SECTOR_TITLES
from portal import audit

NATIONAL = 'registry.all_areas'
#: What the national administrator's card lookups count against for the lookup limits (sites have
#: ids from 1, so no site shares it).
NATIONAL_DESK = SimpleNamespace(id=0, name='')


def export_day(iso):
    """A date of the export (ISO) as a date object, for the page to show in the reader's format."""
    return datetime.date.fromisoformat(iso)


def national(context, request):
    return bool(request.has_permission(NATIONAL, context))


def card_in_reach(context, request):
    """The card of the internal id in the form, when the requester may act on it: any card for the
    national administrator, a card of the requester's own issuing site for its staff; 400 otherwise."""
    site = None if national(context, request) else my_site(context, request, 'issuer')
    card = by_form_id(request, context.card, 'card_id')
    if card is None or (site is not None and card.site_id != site.id):
        raise HTTPBadRequest(_('No such card at your site.'))
    return site, card


@view_config(
    context=CardRegistry,
    name='all-cards',
    request_method='GET',
    renderer=TEMPLATES + 'cards.pt',
    permission=NATIONAL,
)
def national_cards(context, request):
    """The national administrator's page for finding any card by its code."""
    return cards_values(None)


@view_config(
    context=CardRegistry,
    name='all-cards',
    request_method='POST',
    renderer=TEMPLATES + 'cards.pt',
    permission=NATIONAL,
)
def national_card_search(context, request):
    _code, card, errors = lookup(context, request, NATIONAL_DESK, 'national search')
    page = cards_values(None)
    page.update(card=card, errors=errors, not_found=not errors and card is None)
    return page


@view_config(context=CardRegistry, name='card-export', request_method='POST', permission='registry.use')
def card_export(context, request):
    """Everything held about the card's holder: a readable page, or the same as JSON to download."""
    site, card = card_in_reach(context, request)
    exported = context.card_export(card)
    audit.record(request, 'registry.card.export', detail={'card': card.id, 'why': 'data subject request'})
    if post(request, 'format') == 'json':
        response = Response(
            json.dumps(exported, indent=2, ensure_ascii=False),
            charset='utf-8',
            content_type='application/json',
        )
        response.content_disposition = f'attachment; filename="card-{card.id}.json"'
        return response
    values = {
        'site': site,
        'card': card,
        'exported': exported,
        'sectors': dict(SECTOR_TITLES),
        'reasons': dict(CLOSE_REASON_TITLES),
        'day': export_day,
        'grouped': codes.grouped,
    }
    return render(request, 'export.pt', values)


@view_config(context=CardRegistry, name='card-erase', request_method='POST', permission='registry.use')
def card_erase(context, request):
    """Ask to erase the card (the first POST), and erase it when the second POST confirms."""
    site, card = card_in_reach(context, request)
    if post(request, 'confirm') != 'yes':
        chain = context.card_export(card)['cards']
        values = {
            'site': site,
            'card': card,
            'cards': len(chain),
            'visits': sum(len(each['visits']) for each in chain),
            'back': 'cards' if site is not None else 'all-cards',
        }
        return render(request, 'erase.pt', values)
    erased = context.erase_card(card)
    audit.record(
        request,
        'registry.card.erase',
        detail={'card': card.id, 'cards': erased, 'site': card.site_id},
    )
    message = _('The card was erased. Its visits remain only as anonymous counts in the statistics.')
    return render(request, 'cards.pt', {**cards_values(site), 'message': message})
