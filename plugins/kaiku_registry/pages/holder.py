"""The holder's own view of their card: with the card's code and their year of birth, anyone sees the card's
validity, its number of child tickets and its uses this year, and nothing else, without logging in.

The pair is the key: a code with the wrong year of birth is answered exactly as a code no card has (the
same page, the same work: one card lookup and one counted failure), so the page tells no one whether a
code is a card.  Failures are limited per client address (its /64 network for IPv6) and per code, in the
registry's lookup throttle (:class:`portal.security.Throttle`, shared by every process), so neither one
address trying many codes nor many addresses trying one code's years get far.  Each card shown is
written to the audit log by its internal id.  A deployment may turn the page off with
``kaiku_registry.holder_view = false``: it then answers 404.
"""

import math

import colander
from pyramid.httpexceptions import HTTPNotFound, HTTPTooManyRequests
from pyramid.view import view_config

from kaiku_registry import codes, today
from kaiku_registry.i18n import _
from kaiku_registry.models import CardRegistry
from kaiku_registry.pages import TEMPLATES, errors_of, post
from kaiku_registry.schemas import HolderLookupSchema
from portal import audit
from portal.pagecache import uncacheable
from portal.security import client_network

#: Failed tries allowed within the lookup throttle's window: per client address, and per code.
ADDRESS_FAILURES = 10
CODE_FAILURES = 5


def holder_limits(request, code=None):
    """The throttle keys a try counts against: the client's address and, once read, the code."""
    limits = [(f'holder-addr:{client_network(request)}', ADDRESS_FAILURES)]
    if code is not None:
        limits.append((f'holder-code:{code}', CODE_FAILURES))
    return tuple(limits)


def guard(request, code=None):
    wait = request.registry.lookup_throttle.retry_after(holder_limits(request, code))
    if wait:
        raise HTTPTooManyRequests(
            _('Too many tries: wait ${minutes} minutes.', mapping={'minutes': math.ceil(wait / 60)}),
            headers={'Retry-After': str(wait)},
        )


def holder_page(request, **extra):
    if not request.registry.registry_settings.holder_view:
        raise HTTPNotFound()
    uncacheable(request)
    request.response.cache_control.no_store = True
    return {'errors': {}, 'card': None, 'not_found': False, 'values': {}, **extra}


@view_config(
    context=CardRegistry,
    name='my-card',
    request_method='GET',
    renderer=TEMPLATES + 'holder.pt',
    permission='registry.holder_view',
)
def holder_form(context, request):
    return holder_page(request)


@view_config(
    context=CardRegistry,
    name='my-card',
    request_method='POST',
    renderer=TEMPLATES + 'holder.pt',
    permission='registry.holder_view',
)
def holder_lookup(context, request):
    page = holder_page(request)
    guard(request)
    typed = {'code': post(request, 'code').strip(), 'birth_year': post(request, 'birth_year').strip()}
    try:
        values = HolderLookupSchema().deserialize(typed)
        code = codes.read(values['code'], request.registry.registry_public_key)
    except colander.Invalid as e:
        request.response.status_int = 400
        return {**page, 'errors': errors_of(request, e), 'values': typed}
    except codes.PayloadError:
        code = None
    if code is None:
        request.registry.lookup_throttle.failed(holder_limits(request))
        request.response.status_int = 400
        return {**page, 'errors': {'code': _('This is not a card code: check the letters and numbers.')}}
    guard(request, code)
    card = context.card_by_code(code)
    if card is None or card.birth_year != values['birth_year']:
        request.registry.lookup_throttle.failed(holder_limits(request, code))
        return {**page, 'not_found': True}
    audit.record(request, 'registry.card.holder_view', detail={'card': card.id})
    day = today()
    return {
        **page,
        'card': card,
        'status': card.status(day),
        'uses': context.uses_in_year(card, day.year),
        'year': day.year,
    }
