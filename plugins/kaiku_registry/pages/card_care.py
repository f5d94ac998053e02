"""Issuer staff's care of a card after it was issued: printing it again, correcting the holder's children
count or postcode, and renewing it with the data confirmed or corrected.

Each act goes into the card's history (:attr:`~kaiku_registry.records.Card.history`) and the audit log (by
internal id, and which values changed, never the values).  The QR code carries the card's validity and
children count signed, so a card whose children count changed, or that was renewed, is printed again: the
answer is the print page.  A reprint alone prints the same code and the same QR code.
"""

import colander
from pyramid.view import view_config

from kaiku_registry import today
from kaiku_registry.i18n import _
from kaiku_registry.models import CardRegistry, RuleError
from kaiku_registry.pages import errors_of, my_site, post, render
from kaiku_registry.pages.issuer import card_by_id, cards, print_page
from kaiku_registry.schemas import CorrectCardSchema, RenewCardSchema
from portal import audit

#: The note on the print page after the children count changed.
REPRINT_NEEDED = _(
    'The number of children changed, and the QR code with it: print the card again and give it to the holder.'
)


def typed_values(request):
    """What the issuer typed in the card's form (shown again beside any error)."""
    return {name: post(request, name).strip() for name in ('children', 'postcode', 'reason')}


def checked(schema, typed):
    """``typed`` checked by ``schema``; a value left empty stays as it is."""
    return schema.deserialize({name: value or colander.null for name, value in typed.items()})


def card_page(context, request, card, **extra):
    page = cards(context, request)
    page.update(card=card, **extra)
    return render(request, 'cards.pt', page)


def reprint_page(context, request, card, note):
    page = print_page(context, request, card)
    page['note'] = note
    return render(request, 'print.pt', page)


@view_config(context=CardRegistry, name='card-reprint', request_method='POST', permission='registry.issue')
def reprint(context, request):
    site = my_site(context, request, 'issuer')
    card = card_by_id(context, request, site)
    try:
        context.reprint_card(card, site, today())
    except RuleError as e:
        return card_page(context, request, card, errors={'form': e.message})
    audit.record(request, 'registry.card.reprint', detail={'card': card.id, 'site': site.id})
    return reprint_page(context, request, card, _('The same card printed again: same code, same QR code.'))


@view_config(context=CardRegistry, name='card-correct', request_method='POST', permission='registry.issue')
def correct(context, request):
    """Correct the children count or postcode; a changed children count answers with the print page,
    since the card's QR code now says another number."""
    site = my_site(context, request, 'issuer')
    card = card_by_id(context, request, site)
    typed = typed_values(request)
    try:
        values = checked(CorrectCardSchema(), typed)
        changed = context.correct_card(card, site, today(), **values)
    except colander.Invalid as e:
        return card_page(context, request, card, errors=errors_of(request, e), care=typed)
    except RuleError as e:
        return card_page(context, request, card, errors={'form': e.message})
    if not changed:
        return card_page(context, request, card, message=_('Nothing was changed.'))
    audit.record(
        request,
        'registry.card.correct',
        detail={'card': card.id, 'site': site.id, 'changed': changed, 'reason': values['reason']},
    )
    if 'children' in changed:
        return reprint_page(context, request, card, REPRINT_NEEDED)
    return card_page(context, request, card, message=_('The correction was saved.'))


@view_config(context=CardRegistry, name='card-renew', request_method='POST', permission='registry.issue')
def renew(context, request):
    """Renew the card with the holder's data confirmed or corrected, and print it anew."""
    site = my_site(context, request, 'issuer')
    card = card_by_id(context, request, site)
    typed = typed_values(request)
    try:
        values = checked(RenewCardSchema(), typed)
        before = (card.children, card.postcode)
        context.renew_card(card, site, today(), **values)
    except colander.Invalid as e:
        return card_page(context, request, card, errors=errors_of(request, e), care=typed)
    except RuleError as e:
        return card_page(context, request, card, errors={'form': e.message})
    changed = [
        name for name, old in zip(('children', 'postcode'), before, strict=True) if getattr(card, name) != old
    ]
    audit.record(
        request, 'registry.card.renew', detail={'card': card.id, 'site': site.id, 'changed': changed}
    )
    return reprint_page(
        context, request, card, _('The card was renewed: print it again and give it to the holder.')
    )
