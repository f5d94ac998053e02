"""Visits noted on paper at the door while the registry could not be reached, entered afterwards by the
venue's staff with their real day (at most :data:`~kaiku_registry.records.LATE_ENTRY` back): the card
must have been valid that day and every ticket rule holds.  Each is written to the audit log as a late
entry.  (Cards given on the paper form are registered on the issue page, see :mod:`.issuer`.)"""

import colander
from pyramid.view import view_config

from kaiku_registry import today
from kaiku_registry.api import STATE_ERRORS
from kaiku_registry.i18n import _
from kaiku_registry.models import LATE_ENTRY, MAX_GROUP, CardRegistry, RuleError
from kaiku_registry.pages import TEMPLATES, errors_of, lookup, my_site, post
from kaiku_registry.pages.door import GROUP_ERROR, kept_choices
from kaiku_registry.pages.issuer import rule_errors
from kaiku_registry.schemas import SECTOR_TITLES, LateVisitSchema
from portal import audit

FIELDS = ('code', 'day', 'sector', 'children', 'group', 'event', 'course', 'assistant')
#: Why a late visit is refused, by the field it concerns, in the reader's words.
LATE_VISIT_ERRORS = {
    'unknown': ('day', _('The card was not yet registered on that day.')),
    'expired': ('day', _('The card was no longer valid on that day.')),
    'closed': ('code', _('The card has been closed: its visits can no longer be entered.')),
    'too_many_children': ('children', _('The card allows fewer child tickets.')),
    'no_children_on_courses': ('children', _('Child tickets are not given for courses.')),
    'bad_group': ('group', GROUP_ERROR),
    'not_community': ('group', _('Only a community card admits a group: leave the group empty.')),
    'future_day': ('day', _('The date cannot be in the future.')),
    'too_long_ago': (
        'day',
        _('The date can be at most ${days} days back.', mapping={'days': LATE_ENTRY.days}),
    ),
}


def late_page(site, values=None, **extra):
    """The late-entry page; the sector chosen is the staff's, or the site's default sector (as at the
    door), so a paper visit is not counted in another sector by default."""
    return {
        'site': site,
        'sectors': SECTOR_TITLES,
        'late_days': LATE_ENTRY.days,
        'max_group': MAX_GROUP,
        'errors': {},
        'recorded': None,
        'same': (),
        **extra,
        'values': kept_choices(site, values),
    }


@view_config(
    context=CardRegistry,
    name='door-late',
    request_method='GET',
    renderer=TEMPLATES + 'late_visit.pt',
    permission='registry.door',
)
def late_visit_form(context, request):
    return late_page(my_site(context, request, 'venue'))


@view_config(
    context=CardRegistry,
    name='door-late',
    request_method='POST',
    renderer=TEMPLATES + 'late_visit.pt',
    permission='registry.door',
)
def late_visit(context, request):
    site = my_site(context, request, 'venue')
    cstruct = {name: post(request, name) for name in FIELDS}
    cstruct['course'] = cstruct['course'] or 'false'
    cstruct['assistant'] = cstruct['assistant'] or 'false'
    _code, card, errors = lookup(context, request, site, 'late visit')
    if not errors and card is None:
        errors = {'code': _('No card has this code. Check the code.')}
    try:
        values = LateVisitSchema().deserialize({name: cstruct[name] for name in FIELDS if name != 'code'})
    except colander.Invalid as e:
        errors = {**errors, **errors_of(request, e)}
    if errors:
        request.response.status_int = 400
        return late_page(site, errors=errors, values=cstruct)
    day = values.pop('day')
    same = context.same_visits(card, site, day, values['sector'], values['children'], values['group'])
    if same and post(request, 'again') != str(len(same)):
        # The same paper note entered twice is the likely mistake; a holder who came twice that day
        # is entered again on confirmation (``again`` counts the entries the staff saw).
        request.response.status_int = 409
        return late_page(site, values=cstruct, same=same)
    try:
        visit = context.record_late_visit(card, site, day, today(), **values)
    except RuleError as e:
        request.response.status_int = 409 if e.code in STATE_ERRORS else 400
        return late_page(site, errors=rule_errors(e, LATE_VISIT_ERRORS), values=cstruct)
    audit.record(
        request,
        'registry.visit.record_late',
        detail={'visit': visit.id, 'card': card.id, 'site': site.id, 'day': day.isoformat()},
    )
    return late_page(site, recorded=visit)
