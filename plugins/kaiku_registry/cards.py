"""The life of a card and its visits: issuing, renewing, closing and replacing a card, verifying it at the
door, recording and undoing visits (:class:`CardLife`, mixed into
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
    EXPIRED,
    GENDERS,
    LIFE_SITUATIONS,
    MAX_CHILDREN,
    MAXIMUM_AGE,
    MINIMUM_AGE,
    SECTORS,
    UNDO_WINDOW,
    UNKNOWN,
    VALID,
    Card,
    RuleError,
    Verification,
    Visit,
    month_of,
    one_year_on,
    site_time_key,
)
from portal.clock import today as clock_today

#: Why a card that is not valid cannot be used, by its status.
STATUS_ERRORS = {
    EXPIRED: _('The card has expired.'),
    CLOSED: _('The card is closed.'),
    UNKNOWN: _('The card is not in the registry.'),
}


class CardLife:
    """The registry's methods for cards and visits; they keep the card and visit trees, their indexes and
    the counts (:class:`~kaiku_registry.statistics.Statistics`) in step."""

    def card_by_code(self, code):
        card_id = self.card_ids_by_code.get(code)
        return self.cards.get(card_id) if card_id is not None else None

    def cards_of_site(self, site_id):
        return [self.cards[card_id] for card_id in self.card_ids_by_site.get(site_id, ())]

    def _new_code(self):
        while True:
            code = codes.new_code()
            if code not in self.card_ids_by_code:
                return code

    def issue_card(self, site, today, birth_year, postcode, children, municipality=None, gender=None,
                   life_situation=None, community=False):  # fmt: skip
        """Register a new card at an issuing site; every rule of eligibility is checked here."""
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
            self._new_code(),
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
        self.card_count.change(1)
        self._track_expiry(card, 1)

    def renew_card(self, card, site, today):
        if card.site_id != site.id:
            raise RuleError('other_site', _('A card is renewed at the site that issued it.'))
        if card.closed_reason:
            raise RuleError('closed', _('A closed card cannot be renewed.'))
        self._track_expiry(card, -1)
        card.valid_until = one_year_on(today)
        pilot_end = self.pilot_ends.get(card.municipality)
        if pilot_end is not None:
            card.valid_until = min(card.valid_until, pilot_end)
        self._track_expiry(card, 1)
        return card

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
                     now=None, check=None):  # fmt: skip
        """Record one use of a valid card at a venue site; the rules of child tickets are checked here.

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
        if check is not None:
            kept = tuple((nonce, expires) for nonce, expires in card.door_checks if expires >= now)
            card.door_checks = (*kept, (check.nonce, check.expires))
        self.visits[visit.id] = visit
        self.visits_by_site_time.add(site_time_key(visit))
        ids = self.visit_ids_by_card.get(card.id)
        if ids is None:
            ids = self.visit_ids_by_card[card.id] = LLTreeSet()
        ids.add(visit.id)
        self.visit_count.change(1)
        card.uses += 1
        if card.first_use is None:
            card.first_use = day
            self._count(self._activation_key(card, day), 1)
        self._count_visit(visit, site, 1)
        return visit

    def recent_visits(self, site, since):
        """The site's visits recorded at or after ``since`` (an aware datetime), newest first."""
        keys = self.visits_by_site_time.keys((site.id, since.astimezone(datetime.UTC).date()), (site.id + 1,))
        found = [self.visits.get(visit_id) for _site, _day, visit_id in keys if _site == site.id]
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
        card = self.cards[visit.card_id]
        card.uses -= 1
        self._count_visit(visit, site, -1)
        if card.uses == 0 and card.first_use is not None:
            self._count(self._activation_key(card, card.first_use), -1)
            card.first_use = None
        return visit
