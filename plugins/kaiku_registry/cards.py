"""The life of a card and its visits: issuing, renewing, correcting, reprinting, closing and replacing a card,
verifying it at the door, recording and undoing visits (:class:`CardLife`, mixed into
:class:`~kaiku_registry.registry.CardRegistry`).

Every rule of the card is checked here, and nothing here sees a request.
"""

import datetime

from BTrees.LLBTree import LLTreeSet

from kaiku_registry import codes
from kaiku_registry.i18n import _
from kaiku_registry.records import (
    ASCII_DIGITS,
    CLOSE_REASONS,
    CLOSED,
    CORRECTION_REASONS,
    EXPIRED,
    GENDERS,
    LATE_ENTRY,
    LIFE_SITUATIONS,
    MAX_CHILDREN,
    MAX_GROUP,
    MAXIMUM_AGE,
    MINIMUM_AGE,
    SECTORS,
    UNDO_WINDOW,
    UNKNOWN,
    VALID,
    Card,
    CardEvent,
    RuleError,
    Verification,
    Visit,
    month_of,
    one_year_on,
    site_time_key,
)
from portal.clock import today as clock_today

#: Why a card of another site, or a closed one, cannot be corrected or printed again.
OWN_CARD_ERRORS = {
    'corrected': (
        _('A card is corrected at the site that issued it.'),
        _('A closed card cannot be corrected.'),
    ),
    'reprinted': (
        _('A card is printed again at the site that issued it.'),
        _('A closed card cannot be printed again.'),
    ),
}
#: Why a card that is not valid cannot be used, by its status.
STATUS_ERRORS = {
    EXPIRED: _('The card has expired.'),
    CLOSED: _('The card is closed.'),
    UNKNOWN: _('The card is not in the registry.'),
}


def late_day_check(day, today):
    """Refuse a day that cannot be entered afterwards: after ``today`` or more than :data:`LATE_ENTRY`
    before it."""
    if not isinstance(day, datetime.date) or day > today:
        raise RuleError('future_day', _('The date cannot be in the future.'))
    if day < today - LATE_ENTRY:
        raise RuleError(
            'too_long_ago', _('The date can be at most ${n} days back.', mapping={'n': LATE_ENTRY.days})
        )


class CardLife:
    """The registry's methods for cards and visits; they keep the card and visit trees, their indexes and
    the counts (:class:`~kaiku_registry.statistics.Statistics`) in step."""

    #: The counts of erased cards' issues and activations (see :meth:`erase_card`), made when first needed.
    erased_tally = None

    def card_by_code(self, code):
        card_id = self.card_ids_by_code.get(code)
        return self.cards.get(card_id) if card_id is not None else None

    def cards_of_site(self, site_id):
        return [self.cards[card_id] for card_id in self.card_ids_by_site.get(site_id, ())]

    def _new_code(self):
        while True:
            code = codes.new_code()
            # A code printed ahead in the card stock is not yet a card's, and never becomes another's.
            if code not in self.card_ids_by_code and code not in (self.stock_codes or ()):
                return code

    def issue_card(self, site, today, birth_year, postcode, children, municipality=None, gender=None,
                   life_situation=None, community=False, code=None):  # fmt: skip
        """Register a new card at an issuing site; every rule of eligibility is checked here.  ``code``
        is a pre-printed code the caller has checked (see :meth:`~kaiku_registry.stock.CardStock.
        issue_stock_card`), None for a new random one; ``today`` is the day the card was given."""
        if site.kind != 'issuer' or not site.active:
            raise RuleError('not_issuer', _('Cards can be issued only at an active issuing site.'))
        if not community:
            if not isinstance(birth_year, int) or birth_year > today.year - MINIMUM_AGE:
                raise RuleError('too_young', _('The holder must be 16 or over, or turn 16 this year.'))
            if birth_year < today.year - MAXIMUM_AGE:
                raise RuleError('bad_birth_year', _('The birth year is not plausible.'))
            if not (isinstance(postcode, str) and len(postcode) == 5 and set(postcode) <= ASCII_DIGITS):
                raise RuleError('bad_postcode', _('A postcode has five digits.'))
        if not isinstance(children, int) or not 0 <= children <= MAX_CHILDREN:
            raise RuleError(
                'bad_children',
                _('The number of children must be from 0 to ${n}.', mapping={'n': MAX_CHILDREN}),
            )
        if gender not in (None, *GENDERS):
            raise RuleError('bad_gender', _('Unknown gender value.'))
        if life_situation not in (None, *LIFE_SITUATIONS):
            raise RuleError('bad_life_situation', _('Unknown life situation value.'))
        municipality = municipality or site.municipality
        valid_until = one_year_on(today)
        pilot_end = self.pilot_ends.get(municipality)
        if pilot_end is not None:
            if pilot_end < today:
                raise RuleError('pilot_ended', _('The pilot of this municipality has ended.'))
            valid_until = min(valid_until, pilot_end)
        card = Card(
            self._new_id(self.cards),
            code or self._new_code(),
            site.id,
            municipality,
            today,
            valid_until,
            None if community else birth_year,
            None if community else postcode,
            children,
            community,
        )
        card.gender = gender
        card.life_situation = life_situation
        self._store_card(card)
        self._count(('cards', month_of(today), municipality, site.region, site.id, ''), 1)
        return card

    def _store_card(self, card):
        self.cards[card.id] = card
        self.card_ids_by_code[card.code] = card.id
        ids = self.card_ids_by_site.get(card.site_id)
        if ids is None:
            ids = self.card_ids_by_site[card.site_id] = LLTreeSet()
        ids.add(card.id)
        self.visit_ids_by_card[card.id] = LLTreeSet()
        self.card_count.change(1)
        self._track_expiry(card, 1)

    def renew_card(self, card, site, today, children=None, postcode=None):
        """Renew the card for a year from ``today``, with the children count and postcode the holder
        confirmed (a changed value is a correction for the reason ``renewal``)."""
        if card.site_id != site.id:
            raise RuleError('other_site', _('A card is renewed at the site that issued it.'))
        if card.closed_reason:
            raise RuleError('closed', _('A closed card cannot be renewed.'))
        events = self._corrections(card, today, 'renewal', children, postcode)
        self._track_expiry(card, -1)
        card.valid_until = one_year_on(today)
        pilot_end = self.pilot_ends.get(card.municipality)
        if pilot_end is not None:
            card.valid_until = min(card.valid_until, pilot_end)
        card.renewed_on = today
        self._track_expiry(card, 1)
        self._apply(card, [*events, CardEvent(today, 'renewal', new=card.valid_until)])
        return card

    def correct_card(self, card, site, today, reason, children=None, postcode=None):
        """Correct the holder's children count or postcode, for one of :data:`CORRECTION_REASONS`; each
        change goes into the card's history.  Returns the names of the values that changed: a changed
        children count changes what the card's QR code says, so the card is to be printed again."""
        self._own_open_card(card, site, 'corrected')
        if reason not in CORRECTION_REASONS:
            raise RuleError('bad_reason', _('Choose the reason for the correction from the list.'))
        return self._apply(card, self._corrections(card, today, reason, children, postcode))

    def reprint_card(self, card, site, today):
        """Note in the card's history that it was printed again (same code; its QR code changes only with
        the data it carries: the validity and the children count)."""
        self._own_open_card(card, site, 'reprinted')
        self._apply(card, [CardEvent(today, 'reprint')])
        return card

    def _own_open_card(self, card, site, done):
        if card.site_id != site.id:
            raise RuleError('other_site', OWN_CARD_ERRORS[done][0])
        if card.closed_reason:
            raise RuleError('closed', OWN_CARD_ERRORS[done][1])

    def _corrections(self, card, today, reason, children, postcode):
        """The history entries that setting ``children`` and ``postcode`` (None: unchanged) would make;
        every value is checked before anything changes."""
        events = []
        if children is not None and children != card.children:
            if not isinstance(children, int) or not 0 <= children <= MAX_CHILDREN:
                raise RuleError(
                    'bad_children',
                    _('The number of children must be from 0 to ${n}.', mapping={'n': MAX_CHILDREN}),
                )
            events.append(CardEvent(today, 'children', card.children, children, reason))
        if postcode is not None and postcode != card.postcode:
            if card.community:
                raise RuleError('community', _('A community card has no postcode.'))
            if not (isinstance(postcode, str) and len(postcode) == 5 and set(postcode) <= ASCII_DIGITS):
                raise RuleError('bad_postcode', _('A postcode has five digits.'))
            events.append(CardEvent(today, 'postcode', card.postcode, postcode, reason))
        return events

    def _apply(self, card, events):
        for event in events:
            if event.what in ('children', 'postcode'):
                setattr(card, event.what, event.new)
        card.history = (*card.history, *events)
        return [event.what for event in events if event.what in ('children', 'postcode')]

    def uses_in_year(self, card, year):
        """How many uses of the card (visits not undone) fall in ``year``."""
        found = (self.visits.get(visit_id) for visit_id in self.visit_ids_by_card.get(card.id, ()))
        return sum(1 for visit in found if visit is not None and not visit.undone and visit.date.year == year)

    def same_visits(self, card, site, day, sector, children=0, group=0):
        """The card's visits (not undone) that ``site`` recorded for ``day`` with the same sector and
        tickets, oldest first: a visit noted on paper may be entered twice by mistake."""
        found = (self.visits.get(visit_id) for visit_id in self.visit_ids_by_card.get(card.id, ()))
        same = [
            visit
            for visit in found
            if visit is not None
            and not visit.undone
            and (visit.site_id, visit.date, visit.sector, visit.children, visit.group)
            == (site.id, day, sector, children, group)
        ]
        return sorted(same, key=lambda visit: visit.recorded_at)

    def close_card(self, card, reason, today=None):
        if reason not in CLOSE_REASONS:
            raise RuleError('bad_reason', _('Unknown reason for closing.'))
        if card.closed_reason:
            raise RuleError('closed', _('The card is closed already.'))
        card.closed_reason = reason
        card.closed_on = today or clock_today()
        self._track_expiry(card, -1)
        return card

    def replace_card(self, card, site, today):
        """Close a lost card and issue a new one that keeps its children count and holder data."""
        if card.site_id != site.id:
            raise RuleError('other_site', _('A card is replaced at the site that issued it.'))
        if card.closed_reason:
            raise RuleError('closed', _('A closed card cannot be replaced.'))
        new = Card(
            self._new_id(self.cards),
            self._new_code(),
            card.site_id,
            card.municipality,
            today,
            card.valid_until if card.valid_until >= today else one_year_on(today),
            card.birth_year,
            card.postcode,
            card.children,
            card.community,
        )
        new.gender = card.gender
        new.life_situation = card.life_situation
        self._store_card(new)
        card.closed_reason = 'replaced'
        card.closed_on = today
        self._track_expiry(card, -1)
        card.replaced_by = new.id
        new.replaces = card.id
        return new

    # verification and visits ------------------------------------------------------------------------
    def verify(self, code, today):
        """The status of the card with ``code`` on ``today`` (the registry wins over the printed card)."""
        card = self.card_by_code(code) if code else None
        if card is None:
            return Verification(UNKNOWN)
        status = card.status(today)
        return Verification(
            status,
            card,
            card.children if status == VALID else 0,
            card.valid_until,
            card.community,
        )

    def record_visit(self, card, site, day, sector, children=0, assistant=False, event='', course=False,
                     now=None, check=None, group=0):  # fmt: skip
        """Record one use of a valid card at a venue site; the rules of child tickets are checked here.
        A community card's use admits its staff member and ``group`` clients under 16 (and no child
        tickets); a holder's card admits no group.

        ``check`` is the door check the visit is recorded on (a :class:`~kaiku_registry.codes.DoorCheck`,
        whose token the caller has verified): each check records one visit only.
        """
        now = now or datetime.datetime.now(datetime.UTC)
        if site.kind != 'venue' or not site.active:
            raise RuleError('not_venue', _('Visits are recorded by an active venue site.'))
        if check is not None:
            if check.card_id != card.id:
                raise RuleError('other_card', _('The check was made for another card.'))
            if any(nonce == check.nonce for nonce, _expires in card.door_checks):
                raise RuleError('check_used', _('This check has recorded a visit already.'))
        status = card.status(day)
        if status != VALID:
            raise RuleError(status, STATUS_ERRORS.get(status, STATUS_ERRORS[UNKNOWN]))
        if sector not in SECTORS:
            raise RuleError('bad_sector', _('Unknown sector.'))
        if not isinstance(children, int) or children < 0:
            raise RuleError('bad_children', _('The number of child tickets must be 0 or more.'))
        if course and children:
            raise RuleError('no_children_on_courses', _('Child tickets are not given for courses.'))
        if children > card.children:
            raise RuleError(
                'too_many_children',
                _('This card allows at most ${n} child tickets.', mapping={'n': card.children}),
            )
        if card.community and (not isinstance(group, int) or not 1 <= group <= MAX_GROUP):
            message = _('A community card admits a group of 1 to ${n} clients.', mapping={'n': MAX_GROUP})
            raise RuleError('bad_group', message)
        if group and not card.community:
            raise RuleError('not_community', _('Only a community card admits a group.'))
        visit = Visit(
            self._new_id(self.visits),
            card.id,
            site.id,
            day,
            sector,
            children,
            bool(assistant),
            event,
            bool(course),
            now,
        )
        if group:
            visit.group = group
        if check is not None:
            kept = tuple((nonce, expires) for nonce, expires in card.door_checks if expires >= now)
            card.door_checks = (*kept, (check.nonce, check.expires))
        self.visits[visit.id] = visit
        self.visits_by_site_time.add(site_time_key(visit))
        ids = self.visit_ids_by_card.get(card.id)
        if ids is None:  # made when the card was issued; made here only if it went missing (check says so)
            ids = self.visit_ids_by_card[card.id] = LLTreeSet()
        ids.add(visit.id)
        self.visit_count.change(1)
        card.uses += 1
        if card.first_use is None:
            card.first_use = day
            self._count(self._activation_key(card, day), 1)
        self._count_visit(visit, site, 1)
        return visit

    def record_late_visit(self, card, site, day, today, sector, children=0, assistant=False, event='',
                          course=False, group=0, now=None):  # fmt: skip
        """Enter afterwards a visit noted on paper at the door on ``day`` while the registry could not
        be reached: the day is at most :data:`LATE_ENTRY` back and not after ``today``, and every rule of
        :meth:`record_visit` holds on that day (the card was valid then)."""
        late_day_check(day, today)
        return self.record_visit(card, site, day, sector, children, assistant, event, course, now=now,
                                 group=group)  # fmt: skip

    def recent_visits(self, site, since):
        """The site's visits recorded at or after ``since`` (an aware datetime), newest first."""
        ids = self.visits_by_site_time.visit_ids(site.id, since.astimezone(datetime.UTC).date())
        found = [self.visits.get(visit_id) for visit_id in ids]
        found = [visit for visit in found if visit is not None and visit.recorded_at >= since]
        return sorted(found, key=lambda visit: visit.recorded_at, reverse=True)

    def undo_visit(self, visit, site, now=None):
        """Take back a visit recorded by the same site within :data:`UNDO_WINDOW`."""
        now = now or datetime.datetime.now(datetime.UTC)
        if visit.site_id != site.id:
            raise RuleError('other_site', _('A visit is undone by the site that recorded it.'))
        if visit.undone:
            raise RuleError('undone', _('The visit has been undone already.'))
        if now - visit.recorded_at > UNDO_WINDOW:
            raise RuleError('too_late', _('A visit can be undone only within 30 minutes.'))
        visit.undone = True
        self.visits[visit.id] = visit
        card = self.cards.get(visit.card_id)  # None when the card has been erased since
        self._count_visit(visit, site, -1)
        if card is None:
            return visit
        card.uses -= 1
        if card.uses == 0 and card.first_use is not None:
            self._count(self._activation_key(card, card.first_use), -1)
            card.first_use = None
        return visit
