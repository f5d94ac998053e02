"""The registry's data: partners, their sites, pseudonymous cards, visits and running statistics.

Everything lives in one :class:`Registry` object under the site, in BTrees keyed by random 63-bit ids,
so that two processes adding records at the same moment do not fight over a counter.  Counts are
``BTrees.Length`` objects, whose conflicts ZODB resolves by adding both changes.

A card holds no identifying data: a random code, the issuing site, the home municipality, the dates of
validity, its status, and the holder's birth year, postcode and number of minor children (and, when the
holder wishes, gender and life situation from fixed lists).  A visit holds the card's internal id, the
venue site, the date, the sector and the tickets given.

Statistics are kept as running aggregates updated with each card and each visit (and taken back when a
visit is undone), so a report sums a few hundred counters instead of scanning millions of visits.  The
aggregate keys are tuples ``(measure, month, municipality, region, site id, sector)``.

The rules of the card are methods here and in :mod:`kaiku_registry.rules`; nothing here sees a request.
"""

import datetime
import hashlib
import secrets
from dataclasses import dataclass

from BTrees.Length import Length
from BTrees.LLBTree import LLTreeSet
from BTrees.LOBTree import LOBTree
from BTrees.OLBTree import OLBTree
from BTrees.OOBTree import OOBTree, OOTreeSet
from persistent import Persistent
from pyramid.authorization import Allow, Everyone

from kaiku_registry import codes
from portal.resources.base import Item

PARTNER_KINDS = ('municipality', 'wellbeing_county', 'issuer_ngo', 'venue_operator', 'kaikukeskus')
SITE_KINDS = ('issuer', 'venue')
SECTORS = ('culture', 'education', 'science', 'sport')
GENDERS = ('female', 'male', 'other', 'not_told')
LIFE_SITUATIONS = (
    'unemployed',
    'student',
    'retired',
    'disability',
    'family_leave',
    'low_income_work',
    'other',
    'not_told',
)
CLOSE_REASONS = ('lost', 'returned', 'replaced')
MINIMUM_AGE = 16
MAXIMUM_AGE = 120
MAX_CHILDREN = 20
UNDO_WINDOW = datetime.timedelta(minutes=30)
#: Partner staff are trained yearly; coordinators are warned this long before the year runs out.
TRAINING_VALID = datetime.timedelta(days=365)
TRAINING_WARNING = datetime.timedelta(days=60)
TRAINING_STATUSES = ('never', 'overdue', 'due_soon', 'ok')

VALID, EXPIRED, CLOSED, UNKNOWN = 'valid', 'expired', 'closed', 'unknown'


class RuleError(ValueError):
    """A request the card's rules refuse; ``code`` is stable, the message says why in plain words."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def _new_id(tree):
    while True:
        candidate = secrets.randbits(62) + 1
        if candidate not in tree:
            return candidate


def one_year_on(day):
    """The same calendar day a year later (28 February for 29 February)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def month_of(day):
    return f'{day.year:04d}-{day.month:02d}'


class Partner(Persistent):
    """An organisation of the network, its contact person (by title and work contact) and commitment."""

    def __init__(self, id, name, kind, municipality, region, contact_title='', contact_email=''):
        self.id = id
        self.name = name
        self.kind = kind
        self.municipality = municipality
        self.region = region
        self.contact_title = contact_title
        self.contact_email = contact_email
        self.commitment_signed = None
        self.trained = None

    contact_phone = ''

    def trained_within_year(self, today):
        return self.trained is not None and self.trained > today - datetime.timedelta(days=365)

    def training_due(self):
        """The day the staff's yearly training runs out, or None when no training is recorded."""
        return self.trained + TRAINING_VALID if self.trained is not None else None

    def training_status(self, today):
        """``never``, ``overdue``, ``due_soon`` (within :data:`TRAINING_WARNING`) or ``ok``."""
        due = self.training_due()
        if due is None:
            return 'never'
        if today >= due:
            return 'overdue'
        return 'due_soon' if due - today <= TRAINING_WARNING else 'ok'


class PartnerSite(Persistent):
    """A toimipiste: the unit of a partner that issues cards or receives visitors.  Access is per site."""

    def __init__(self, id, partner_id, name, kind, municipality, region, venue_path=''):
        self.id = id
        self.partner_id = partner_id
        self.name = name
        self.kind = kind
        self.municipality = municipality
        self.region = region
        self.venue_path = venue_path
        self.active = True


class Card(Persistent):
    """A pseudonymous card record (see the module docstring for what it may hold)."""

    closed_reason = None
    closed_on = None
    replaced_by = None
    gender = None
    life_situation = None
    first_use = None
    uses = 0

    def __init__(self, id, code, site_id, municipality, valid_from, valid_until, birth_year, postcode,
                 children, community=False):  # fmt: skip
        self.id = id
        self.code = code
        self.site_id = site_id
        self.municipality = municipality
        self.valid_from = valid_from
        self.valid_until = valid_until
        self.birth_year = birth_year
        self.postcode = postcode
        self.children = children
        self.community = community

    def status(self, today):
        if self.closed_reason:
            return CLOSED
        if today > self.valid_until:
            return EXPIRED
        if today < self.valid_from:
            return UNKNOWN
        return VALID

    def export(self):
        """The card's whole record, for a data subject's request."""
        return {
            'id': self.id,
            'code': self.code,
            'issuing_site': self.site_id,
            'municipality': self.municipality,
            'valid_from': self.valid_from.isoformat(),
            'valid_until': self.valid_until.isoformat(),
            'status': 'closed' if self.closed_reason else 'active',
            'closed_reason': self.closed_reason,
            'birth_year': self.birth_year,
            'postcode': self.postcode,
            'children': self.children,
            'gender': self.gender,
            'life_situation': self.life_situation,
            'community': self.community,
            'uses': self.uses,
        }


class Visit:
    """One use: one ticket, one course place or one course season pass (plus child tickets).

    Visits are many and small, so they are plain objects kept inside the BTree's buckets rather than
    persistent objects of their own; whoever changes one stores it again (``visits[id] = visit``).
    """

    undone = False

    def __init__(self, id, card_id, site_id, date, sector, children, assistant, event, course, recorded_at):
        self.id = id
        self.card_id = card_id
        self.site_id = site_id
        self.date = date
        self.sector = sector
        self.adults = 1
        self.children = children
        self.assistant = assistant
        self.event = event
        self.course = course
        self.recorded_at = recorded_at


@dataclass(frozen=True)
class Verification:
    """What the door sees: the status and how many child tickets the card allows."""

    status: str
    card: Card | None = None
    children: int = 0
    valid_until: datetime.date | None = None
    community: bool = False


class ApiToken(Persistent):
    """A site's API token, kept only as its SHA-256 digest."""

    def __init__(self, digest, site_id, created):
        self.digest = digest
        self.site_id = site_id
        self.created = created
        self.revoked = None


class Registry(Item):
    """All registry records of one site (see the module docstring).

    It is a content item of the portal (``site['registry']``), private, left out of the navigation and of
    content dumps, so that the plugin's views are reached by traversal under ``/registry``.
    """

    type_name = 'Registry'
    exclude_from_nav = True
    #: (site id, time recorded, visit id) of every visit, so a site's latest visits are a range read.
    #: Registries made before it existed get it with their next recorded visit.
    visits_by_site_time = None
    #: Anyone may read the public impact figures (aggregates with small counts hidden).
    local_acl = ((Allow, Everyone, 'view_impact'),)

    def __init__(self):
        super().__init__()
        self.tokens = OOBTree()
        #: Which site each staff user acts for (login → site id): access is per site.
        self.members = OOBTree()
        #: Which area each coordinator answers for (login → ('municipality' | 'region', name)).
        self.areas = OOBTree()
        self.partners = LOBTree()
        self.sites = LOBTree()
        self.cards = LOBTree()
        self.card_ids_by_code = OLBTree()
        self.card_ids_by_site = LOBTree()
        self.visits = LOBTree()
        self.visit_ids_by_card = LOBTree()
        self.aggregates = OOBTree()
        self.card_count = Length()
        self.visit_count = Length()
        self.pilot_ends = OOBTree()
        #: Open (not closed) cards by last day of validity, and by issuing site and that day, so that
        #: "active now" and "expiring soon" are sums over dates, not scans over cards.
        self.open_by_expiry = OOBTree()
        self.open_by_site_expiry = OOBTree()

    # people ------------------------------------------------------------------------------------------
    def set_member(self, login, site):
        """Make ``login`` act for ``site`` (None: for no site)."""
        if site is None:
            self.members.pop(login, None)
        else:
            self.members[login] = site.id

    def site_of(self, login):
        site_id = self.members.get(login) if login else None
        return self.sites.get(site_id) if site_id is not None else None

    def set_area(self, login, kind, name):
        if kind not in ('municipality', 'region'):
            raise RuleError('bad_area', 'An area is a municipality or a region.')
        self.areas[login] = (kind, name)

    def area_of(self, login):
        return self.areas.get(login) if login else None

    # partners and sites ---------------------------------------------------------------------------
    def add_partner(self, name, kind, municipality, region, **contact):
        if kind not in PARTNER_KINDS:
            raise RuleError('bad_kind', f'unknown partner kind {kind!r}')
        partner = Partner(_new_id(self.partners), name, kind, municipality, region, **contact)
        self.partners[partner.id] = partner
        return partner

    def add_site(self, partner, name, kind, municipality=None, region=None, venue_path=''):
        if kind not in SITE_KINDS:
            raise RuleError('bad_kind', f'unknown site kind {kind!r}')
        site = PartnerSite(
            _new_id(self.sites),
            partner.id,
            name,
            kind,
            municipality or partner.municipality,
            region or partner.region,
            venue_path,
        )
        self.sites[site.id] = site
        return site

    def site(self, site_id):
        return self.sites.get(site_id)

    def update_partner(self, partner, **values):
        """Change a partner's name, kind, place, contact or commitment (values validated by the caller)."""
        if values.get('kind', partner.kind) not in PARTNER_KINDS:
            raise RuleError('bad_kind', f'unknown partner kind {values["kind"]!r}')
        for name, value in values.items():
            setattr(partner, name, value)
        return partner

    def update_site(self, site, **values):
        if values.get('kind', site.kind) not in SITE_KINDS:
            raise RuleError('bad_kind', f'unknown site kind {values["kind"]!r}')
        for name, value in values.items():
            setattr(site, name, value)
        return site

    def sites_of_partner(self, partner):
        return [site for site in self.sites.values() if site.partner_id == partner.id]

    def members_of(self, site_ids):
        """``{login: site id}`` of the people who act for one of ``site_ids``."""
        site_ids = set(site_ids)
        return {login: site_id for login, site_id in self.members.items() if site_id in site_ids}

    def clear_area(self, login):
        self.areas.pop(login, None)

    # cards ------------------------------------------------------------------------------------------
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
            raise RuleError('not_issuer', 'Cards can be issued only at an active issuing site.')
        if not community:
            if not isinstance(birth_year, int) or birth_year > today.year - MINIMUM_AGE:
                raise RuleError('too_young', 'The holder must be 16 or over, or turn 16 this year.')
            if birth_year < today.year - MAXIMUM_AGE:
                raise RuleError('bad_birth_year', 'The birth year is not plausible.')
            if not (isinstance(postcode, str) and len(postcode) == 5 and postcode.isdigit()):
                raise RuleError('bad_postcode', 'A postcode has five digits.')
        if not isinstance(children, int) or not 0 <= children <= MAX_CHILDREN:
            raise RuleError('bad_children', f'The number of children must be from 0 to {MAX_CHILDREN}.')
        if gender not in (None, *GENDERS):
            raise RuleError('bad_gender', 'Unknown gender value.')
        if life_situation not in (None, *LIFE_SITUATIONS):
            raise RuleError('bad_life_situation', 'Unknown life situation value.')
        municipality = municipality or site.municipality
        valid_until = one_year_on(today)
        pilot_end = self.pilot_ends.get(municipality)
        if pilot_end is not None:
            if pilot_end < today:
                raise RuleError('pilot_ended', 'The pilot of this municipality has ended.')
            valid_until = min(valid_until, pilot_end)
        card = Card(
            _new_id(self.cards),
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

    def _track_expiry(self, card, delta):
        for tree, key in (
            (self.open_by_expiry, card.valid_until),
            (self.open_by_site_expiry, (card.site_id, card.valid_until)),
        ):
            counter = tree.get(key)
            if counter is None:
                counter = tree[key] = Length()
            counter.change(delta)

    def open_cards(self, first_day, last_day=None, site_id=None):
        """How many open cards are valid until a day from ``first_day`` to ``last_day`` (inclusive)."""
        if site_id is None:
            counters = self.open_by_expiry.values(first_day, last_day)
        else:
            counters = self.open_by_site_expiry.values(
                (site_id, first_day), (site_id, last_day or datetime.date.max)
            )
        return sum(counter() for counter in counters)

    def renew_card(self, card, site, today):
        if card.site_id != site.id:
            raise RuleError('other_site', 'A card is renewed at the site that issued it.')
        if card.closed_reason:
            raise RuleError('closed', 'A closed card cannot be renewed.')
        self._track_expiry(card, -1)
        card.valid_until = one_year_on(today)
        pilot_end = self.pilot_ends.get(card.municipality)
        if pilot_end is not None:
            card.valid_until = min(card.valid_until, pilot_end)
        self._track_expiry(card, 1)
        return card

    def close_card(self, card, reason, today=None):
        if reason not in CLOSE_REASONS:
            raise RuleError('bad_reason', 'Unknown reason for closing.')
        if card.closed_reason:
            raise RuleError('closed', 'The card is closed already.')
        card.closed_reason = reason
        card.closed_on = today or datetime.date.today()
        self._track_expiry(card, -1)
        return card

    def replace_card(self, card, site, today):
        """Close a lost card and issue a new one that keeps its children count and holder data."""
        if card.site_id != site.id:
            raise RuleError('other_site', 'A card is replaced at the site that issued it.')
        if card.closed_reason:
            raise RuleError('closed', 'A closed card cannot be replaced.')
        new = Card(
            _new_id(self.cards),
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
                     now=None):  # fmt: skip
        """Record one use of a valid card at a venue site; the rules of child tickets are checked here."""
        if site.kind != 'venue' or not site.active:
            raise RuleError('not_venue', 'Visits are recorded by an active venue site.')
        status = card.status(day)
        if status != VALID:
            raise RuleError(status, f'The card is {status}.')
        if sector not in SECTORS:
            raise RuleError('bad_sector', 'Unknown sector.')
        if not isinstance(children, int) or children < 0:
            raise RuleError('bad_children', 'The number of child tickets must be 0 or more.')
        if course and children:
            raise RuleError('no_children_on_courses', 'Child tickets are not given for courses.')
        if children > card.children:
            raise RuleError('too_many_children', f'This card allows at most {card.children} child tickets.')
        visit = Visit(
            _new_id(self.visits),
            card.id,
            site.id,
            day,
            sector,
            children,
            bool(assistant),
            event,
            bool(course),
            now or datetime.datetime.now(datetime.UTC),
        )
        self.visits[visit.id] = visit
        if self.visits_by_site_time is None:
            self.visits_by_site_time = OOTreeSet()
        self.visits_by_site_time.add((site.id, visit.recorded_at, visit.id))
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
        if self.visits_by_site_time is None:
            return []
        keys = self.visits_by_site_time.keys(
            (site.id, since), (site.id, datetime.datetime.max.replace(tzinfo=datetime.UTC))
        )
        return [
            self.visits[visit_id] for _site, _at, visit_id in reversed(list(keys)) if visit_id in self.visits
        ]

    def undo_visit(self, visit, site, now=None):
        """Take back a visit recorded by the same site within :data:`UNDO_WINDOW`."""
        now = now or datetime.datetime.now(datetime.UTC)
        if visit.site_id != site.id:
            raise RuleError('other_site', 'A visit is undone by the site that recorded it.')
        if visit.undone:
            raise RuleError('undone', 'The visit has been undone already.')
        if now - visit.recorded_at > UNDO_WINDOW:
            raise RuleError('too_late', 'A visit can be undone only within 30 minutes.')
        visit.undone = True
        self.visits[visit.id] = visit
        card = self.cards[visit.card_id]
        card.uses -= 1
        self._count_visit(visit, site, -1)
        if card.uses == 0 and card.first_use is not None:
            self._count(self._activation_key(card, card.first_use), -1)
            card.first_use = None
        return visit

    def _activation_key(self, card, day):
        issuer = self.sites.get(card.site_id)
        return (
            'activated',
            month_of(day),
            card.municipality,
            issuer.region if issuer else '',
            card.site_id,
            '',
        )

    def _count_visit(self, visit, site, sign):
        month = month_of(visit.date)
        base = (month, site.municipality, site.region, site.id, visit.sector)
        self._count(('adult_uses', *base), sign * visit.adults)
        if visit.children:
            self._count(('child_uses', *base), sign * visit.children)

    def _count(self, key, delta):
        counter = self.aggregates.get(key)
        if counter is None:
            counter = self.aggregates[key] = Length()
        counter.change(delta)

    def totals(self, measure, **match):
        """Sum the aggregates of ``measure``, filtered by month, municipality, region, site or sector."""
        fields = ('month', 'municipality', 'region', 'site', 'sector')
        checks = [(fields.index(name) + 1, wanted) for name, wanted in match.items()]
        total = 0
        for key, counter in self.aggregates.items((measure,), (measure, '\uffff')):
            if all(key[i] == wanted for i, wanted in checks):
                total += counter()
        return total

    # API tokens ------------------------------------------------------------------------------------
    def new_token(self, site, now=None):
        """Make an API token for ``site``; the token itself is returned once and never stored."""
        token = 'kk_' + secrets.token_urlsafe(32)
        digest = hashlib.sha256(token.encode('ascii')).hexdigest()
        self.tokens[digest] = ApiToken(digest, site.id, now or datetime.datetime.now(datetime.UTC))
        return token

    def site_for_token(self, token):
        """The active site a presented token belongs to, or None."""
        if not isinstance(token, str) or not token.startswith('kk_') or len(token) > 100:
            return None
        record = self.tokens.get(hashlib.sha256(token.encode('ascii', 'replace')).hexdigest())
        if record is None or record.revoked:
            return None
        site = self.sites.get(record.site_id)
        return site if site is not None and site.active else None

    def tokens_of(self, site):
        """The site's token records, newest first (digests and dates only: tokens are never kept)."""
        found = [record for record in self.tokens.values() if record.site_id == site.id]
        return sorted(found, key=lambda record: record.created, reverse=True)

    def revoke_tokens(self, site, now=None):
        count = 0
        for record in self.tokens.values():
            if record.site_id == site.id and not record.revoked:
                record.revoked = now or datetime.datetime.now(datetime.UTC)
                count += 1
        return count

    # retention -------------------------------------------------------------------------------------
    def apply_retention(self, today, years=2):
        """Delete visits older than ``years`` full calendar years, and cards closed or expired for
        longer; the running aggregates already hold their counts, so statistics stay whole.

        Returns ``(visits deleted, cards deleted)``.
        """
        cutoff = datetime.date(today.year - years, 1, 1)
        old_visits = [v for v in self.visits.values() if v.date < cutoff]
        for visit in old_visits:
            self._forget_visit(visit)
        old_cards = [
            card
            for card in self.cards.values()
            if card.valid_until < cutoff
            or (card.closed_reason and card.closed_on and card.closed_on < cutoff)
        ]
        for card in old_cards:
            for visit_id in list(self.visit_ids_by_card.get(card.id, ())):
                self._forget_visit(self.visits[visit_id])
            self.visit_ids_by_card.pop(card.id, None)
            if not card.closed_reason:
                self._track_expiry(card, -1)
            del self.cards[card.id]
            del self.card_ids_by_code[card.code]
            self.card_ids_by_site[card.site_id].remove(card.id)
            self.card_count.change(-1)
        return len(old_visits), len(old_cards)

    def _forget_visit(self, visit):
        del self.visits[visit.id]
        if self.visits_by_site_time is not None:
            self.visits_by_site_time.discard((visit.site_id, visit.recorded_at, visit.id))
        ids = self.visit_ids_by_card.get(visit.card_id)
        if ids is not None and visit.id in ids:
            ids.remove(visit.id)
        self.visit_count.change(-1)
