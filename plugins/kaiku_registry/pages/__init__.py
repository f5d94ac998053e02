"""The registry's web pages for each role, one room each: :mod:`.door` (venue staff), :mod:`.issuer` (issuer
staff: issuing, the site's cards, printing) and :mod:`.reports` (coordinators' statistics and CSV); the
dashboard and the public impact page are in :mod:`kaiku_registry.views`, the coordinators' pages in
:mod:`kaiku_registry.partners`.  Here is what the rooms share.

Every page acts for the requester's own site (venue staff, issuer staff) or area (coordinators): a card
of another site is answered as if it did not exist.  Codes and card lookups travel only in POST bodies,
every read of a card record is written to the audit log (by internal id, never the code), and failed
lookups are limited per user, with a ceiling per site that one user alone cannot reach.  Views stay
thin: the rules are the model's, and a view asks the registry's methods, never its trees.
"""

import math

import colander
from pyramid.httpexceptions import HTTPBadRequest, HTTPForbidden, HTTPTooManyRequests

from kaiku_registry import codes
from kaiku_registry.api import lookup_failed, lookup_wait
from kaiku_registry.i18n import _
from kaiku_registry.schemas import CodeSchema
from portal import audit

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


def errors_of(request, invalid):
    """The form's errors by field, in the reader's language (colander's ``asdict`` joins a field's
    messages into plain text, so they are translated while they are still translation strings)."""
    return invalid.asdict(translate=request.localizer.translate)


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
        return None, None, errors_of(request, e)
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


def render(request, template, values, status=200):
    """A page of ``template`` for a POST that answers with another page than its own; 400 with errors."""
    from pyramid.renderers import render_to_response

    response = render_to_response(TEMPLATES + template, values, request=request)
    response.status_int = 400 if status == 200 and values.get('errors') else status
    return response
