"""The registry's data: partners, their sites, pseudonymous cards, visits and running statistics.

Everything lives in one :class:`Registry` object under the site, in BTrees keyed by random 63-bit ids,
so that two processes adding records at the same moment do not fight over a counter.  Counts are
``BTrees.Length`` objects, whose conflicts ZODB resolves by adding both changes.

A card holds no identifying data: a random code, the issuing site, the home municipality, the dates of
validity, its status, and the holder's birth year, postcode and number of minor children (and, when the
holder wishes, gender and life situation from fixed lists).  A visit holds the card's internal id, the
venue site, the date, the sector and the tickets given.

Statistics are kept as running aggregates updated with each card and each visit (and taken back when a
visit is undone), so a report reads a few small counters instead of scanning millions of visits.  Each
count is kept at once in the eight *slices* of :data:`SLICES` (the whole registry, a region, a
municipality and a site, each in total and per month), every slice a :class:`Tally` of
``(measure, sector) → count``; a report reads the one slice family that holds the dimensions it groups by
(see :meth:`Registry.counts`).  Open cards are counted the same way by their last day of validity
(:attr:`Registry.open_tallies`), so "valid now" and "expiring soon" read a dozen small objects.

A partner's or site's municipality is always one of :mod:`portal.places`' municipalities, stored by its
official Finnish name, and its region is derived from it (a value given for the region must agree), so a
place lies in exactly one region.  A coordinator's area is such a municipality or region.

The rules of the card are methods here and in :mod:`kaiku_registry.rules`; nothing here sees a request.
"""

import datetime
import functools
import hashlib
import logging
import secrets
from dataclasses import dataclass

from BTrees.Length import Length
from BTrees.LLBTree import LLTreeSet
from BTrees.LOBTree import LOBTree
from BTrees.OLBTree import OLBTree
from BTrees.OOBTree import OOBTree, OOTreeSet
from persistent import Persistent
from pyramid.authorization import Allow, Everyone
from ZODB.POSException import ConflictError

from kaiku_registry import codes
from portal import places
from portal.resources.base import Item

log = logging.getLogger(__name__)

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
#: str.isdigit() is true of '٤' and '４' too.
ASCII_DIGITS = frozenset('0123456789')
#: The shape of the stored registry this code writes (see :meth:`Registry.upgrade`).
SHAPE = 4
#: The kinds of area a coordinator may answer for.
AREA_KINDS = ('municipality', 'region')


class RuleError(ValueError):
    """A request the card's rules refuse; ``code`` is stable, the message says why in plain words."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


class VisitTree(LOBTree):
    """An ``LOBTree`` for records every writer adds to (visits, each card's visit list), whose inner
    nodes hold at most 16 children instead of 500.

    Adding a key makes the BTree mark every inner node on its way as read (``readCurrent``), and a
    bucket that splits changes its parent node; a transaction that marked a node that another one changed
    meanwhile conflicts.  Under a node of 500 children every split conflicts with every transaction
    adding at the same time; under nodes of 16 only with those adding among the same few buckets, at the
    cost of a tree a level or two deeper.
    """

    max_internal_size = 16


class SiteTimeSet(OOTreeSet):
    """The set behind :attr:`Registry.visits_by_site_time`, with small inner nodes (see
    :class:`VisitTree`)."""

    max_internal_size = 16


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


def site_time_key(visit):
    """The visit's key in :attr:`Registry.visits_by_site_time`."""
    return (visit.site_id, visit.recorded_at.astimezone(datetime.UTC).date(), visit.id)


def place_of(municipality, region=None):
    """The table's municipality for a code or a Finnish or Swedish name; ``region``, when given, must be
    its region (by code or name).  Raises :class:`RuleError` otherwise."""
    place = places.find_municipality(municipality)
    if place is None:
        raise RuleError('bad_municipality', f'unknown municipality {municipality!r}')
    if region not in (None, '') and places.region_named(region) != place.region:
        raise RuleError('bad_region', f'{place.name_fi} does not lie in {region!r}')
    return place


def area_place(kind, name):
    """The table's municipality or region an area ``(kind, name)`` names, or None."""
    if kind == 'municipality':
        return places.find_municipality(name)
    if kind == 'region':
        return places.region_named(name)
    return None


def in_area(area, municipality):
    """True when ``municipality`` (a stored name) lies in ``area`` ``(kind, name)``; an unknown place or
    area lies in none."""
    place = places.municipality_named(municipality)
    found = area_place(*area) if area else None
    if place is None or found is None:
        return False
    return found == (place if area[0] == 'municipality' else place.region)


class _Placed:
    """A partner's or site's wellbeing services county, derived from its municipality."""

    @property
    def county(self):
        place = places.municipality_named(self.municipality)
        return place.county.name_fi if place is not None and place.county is not None else ''


class Partner(_Placed, Persistent):
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


class PartnerSite(_Placed, Persistent):
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
    #: ``(nonce, expires)`` of the door checks already used to record a visit and not yet run out, so
    #: that a check records one visit only; kept on the card, which every visit writes anyway.
    door_checks = ()

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

    def _p_resolveConflict(self, old, committed, new):
        """Two visits of one card at once: both count.  Only when each transaction changed nothing but
        the number of uses are the changes added up; any other change (the first use, which also counts
        the card as activated, a closing, a renewal) is a conflict, and the request runs again."""
        changed = {
            name
            for state in (committed, new)
            for name in old.keys() | state.keys()
            if state.get(name) != old.get(name)
        }
        if changed - {'uses'}:
            raise ConflictError(f'card changed in {sorted(changed - {"uses"})}')
        resolved = dict(committed)
        resolved['uses'] = committed.get('uses', 0) + new.get('uses', 0) - old.get('uses', 0)
        return resolved

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


@functools.total_ordering
class Visit:
    """One use: one ticket, one course place or one course season pass (plus child tickets).

    Visits are many and small, so they are plain objects kept inside the BTree's buckets rather than
    persistent objects of their own; whoever changes one stores it again (``visits[id] = visit``).

    Two visits are equal when they hold the same values.  A bucket's conflict resolution compares the
    values it read back from each transaction's copy of the bucket, and a visit equal only to itself
    made every two visits recorded at once in one bucket a conflict.
    """

    undone = False

    def __eq__(self, other):
        return type(other) is type(self) and other.__dict__ == self.__dict__

    def __lt__(self, other):
        if type(other) is not type(self):
            return NotImplemented
        return (self.id, self.undone) < (other.id, other.undone)

    def __hash__(self):
        return hash(self.id)

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


class Tally(Persistent):
    """A few running counts (``key → int``) kept as one small persistent object.

    Two transactions that change the same tally at once both win: :meth:`_p_resolveConflict` adds the
    changes each made to the counts they started from, as ``BTrees.Length`` does for a single count.
    Zero counts are dropped, so a tally holds only what happened.
    """

    def __init__(self):
        self.counts = {}

    def add(self, key, delta):
        if delta:
            _add_to(self.counts, key, delta)
            self._p_changed = True

    def get(self, key, default=0):
        return self.counts.get(key, default)

    def items(self):
        return self.counts.items()

    def _p_resolveConflict(self, old, committed, new):
        counts = dict(committed['counts'])
        before, after = old['counts'], new['counts']
        for key in before.keys() | after.keys():
            _add_to(counts, key, after.get(key, 0) - before.get(key, 0))
        return {**committed, 'counts': counts}


def _add_to(counts, key, delta):
    total = counts.get(key, 0) + delta
    if total:
        counts[key] = total
    else:
        counts.pop(key, None)


#: The statistics slices: a family name and the dimensions its keys hold after the name, in order.  A
#: count is added to one slice of every family, so each family alone holds every count.
SLICES = (
    ('all', ()),
    ('all-month', ('month',)),
    ('region', ('region',)),
    ('region-month', ('region', 'month')),
    ('area', ('region', 'municipality')),
    ('area-month', ('region', 'municipality', 'month')),
    ('site', ('region', 'municipality', 'site')),
    ('site-month', ('region', 'municipality', 'site', 'month')),
)
DIMENSIONS = ('month', 'municipality', 'region', 'site', 'sector')
#: The greatest string a name may sort below, for range reads over one prefix.
HIGHEST = '\uffff'


def slice_keys(month, municipality, region, site_id):
    """The key of every slice (see :data:`SLICES`) a count of these dimensions goes to."""
    return (
        ('all',),
        ('all-month', month),
        ('region', region),
        ('region-month', region, month),
        ('area', region, municipality),
        ('area-month', region, municipality, month),
        ('site', region, municipality, site_id),
        ('site-month', region, municipality, site_id, month),
    )


def with_prefix(tree, prefix):
    """``(key, value)`` of the tuple keys of ``tree`` that begin with ``prefix``.

    The upper bound is the prefix with its last item's successor (a string followed by NUL, an int
    plus one), so that the bound is never compared with an item of another type.
    """
    last = prefix[-1]
    upper = (*prefix[:-1], last + '\0' if isinstance(last, str) else last + 1)
    return tree.items(prefix, upper, excludemax=True)


def slice_family(dimensions):
    """The smallest slice family whose keys hold all of ``dimensions`` (sector lives inside a tally)."""
    wanted = set(dimensions) - {'sector'}
    for family, names in SLICES:
        if wanted <= set(names):
            return family, names
    raise ValueError(f'unknown dimensions {sorted(wanted)}')


class _Bulk:
    """The state of :meth:`Registry.bulk`: pending count changes and the next id of each tree."""

    def __init__(self, registry):
        self.registry = registry
        self.counts = {}  # (measure, month, municipality, region, site id, sector) → change
        self.expiry = {}  # (issuing site id, last day of validity) → change
        self.next_ids = {}

    def new_id(self, tree):
        candidate = self.next_ids.get(id(tree))
        if candidate is None or candidate >= 2**62 or candidate in tree:
            candidate = (_new_id(tree) >> 1) + 1  # a random start, with room to count up from it
            while candidate in tree:
                candidate = (_new_id(tree) >> 1) + 1
        self.next_ids[id(tree)] = candidate + 1
        return candidate

    def flush(self):
        """Apply the pending changes to the tallies, one change per tally and entry."""
        registry = self.registry
        changes = {}
        for key, delta in self.counts.items():
            measure, month, municipality, region, site_id, sector = key
            for slice_key in slice_keys(month, municipality, region, site_id):
                entries = changes.setdefault((True, slice_key), {})
                entries[(measure, sector)] = entries.get((measure, sector), 0) + delta
        for (site_id, day), delta in self.expiry.items():
            for key in registry._expiry_keys(site_id, day):
                entries = changes.setdefault((False, key), {})
                entries[day] = entries.get(day, 0) + delta
        self.counts, self.expiry = {}, {}
        for (statistics, key), entries in sorted(changes.items(), key=lambda item: item[0][1]):
            tree = registry.tallies if statistics else registry.open_tallies
            tally = tree.get(key)
            for entry, delta in entries.items():
                if delta:
                    if tally is None:
                        tally = tree[key] = Tally()
                    tally.add(entry, delta)

    def __enter__(self):
        if self.registry._v_bulk is not None:
            raise RuntimeError('bulk() does not nest')
        self.registry._v_bulk = self
        return self

    def __exit__(self, *exc):
        self.registry._v_bulk = None
        if exc[0] is None:
            self.flush()


class ApiToken(Persistent):
    """A site's API token, kept only as its SHA-256 digest."""

    def __init__(self, digest, site_id, created):
        self.digest = digest
        self.site_id = site_id
        self.created = created
        self.revoked = None


def _update(record, kinds, values):
    """Set ``values`` on a partner or site whose kind must stay one of ``kinds``; nothing is set otherwise.
    A new municipality brings its region with it."""
    if values.get('kind', record.kind) not in kinds:
        raise RuleError('bad_kind', f'unknown kind {values["kind"]!r}')
    if 'municipality' in values or 'region' in values:
        place = place_of(values.get('municipality', record.municipality), values.get('region'))
        values = {**values, 'municipality': place.name_fi, 'region': place.region.name_fi}
    for name, value in values.items():
        setattr(record, name, value)
    return record


class Registry(Item):
    """All registry records of one site (see the module docstring).

    It is a content item of the portal (``site['registry']``), private, left out of the navigation and of
    content dumps, so that the plugin's views are reached by traversal under ``/registry``.
    """

    type_name = 'Registry'
    exclude_from_nav = True
    #: (site id, day recorded (UTC), visit id) of every visit, so a site's latest visits are a range
    #: read of a day or two.  The visit's random id, not the time, orders a day's keys: visits recorded
    #: at once by one site land in different buckets instead of all in the last one.
    visits_by_site_time = None
    #: Anyone may read the public impact figures (aggregates with small counts hidden).
    local_acl = ((Allow, Everyone, 'view_impact'),)
    #: The shape of the stored data: registries made before :data:`SHAPE` 2 (Length counters under
    #: ``aggregates`` and ``open_by_*`` trees) are brought up to date by :meth:`upgrade` on start.
    shape = 1
    tallies = None
    open_tallies = None
    #: While :meth:`bulk` runs: the pending tally changes and the next ids, kept out of the database.
    _v_bulk = None

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
        self.visits = VisitTree()
        self.visits_by_site_time = SiteTimeSet()
        self.visit_ids_by_card = VisitTree()
        #: The statistics: slice key (see :data:`SLICES`) → :class:`Tally` of (measure, sector) → count.
        self.tallies = OOBTree()
        self.card_count = Length()
        self.visit_count = Length()
        self.pilot_ends = OOBTree()
        #: Open (not closed) cards by the last day of their validity: (family, ..., month of that day) →
        #: :class:`Tally` of day → count, for the whole registry (``('all', month)``), the issuing site's
        #: area (``('area', region, municipality, month)``) and the issuing site (``('site', region,
        #: municipality, site id, month)``), so that "active now" and "expiring soon" read a few tallies.
        self.open_tallies = OOBTree()
        self.shape = SHAPE

    def _new_id(self, tree):
        return self._v_bulk.new_id(tree) if self._v_bulk is not None else _new_id(tree)

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
        """Make ``login`` answer for a municipality or region of the table (by code or name)."""
        found = area_place(kind, name)
        if found is None:
            raise RuleError('bad_area', 'An area is a municipality or a region.')
        self.areas[login] = (kind, found.name_fi)

    def area_of(self, login):
        return self.areas.get(login) if login else None

    # partners and sites ---------------------------------------------------------------------------
    def add_partner(self, name, kind, municipality, region=None, **contact):
        """A new partner in ``municipality`` (a code or name of the table); its region is derived."""
        if kind not in PARTNER_KINDS:
            raise RuleError('bad_kind', f'unknown partner kind {kind!r}')
        place = place_of(municipality, region)
        partner = Partner(
            self._new_id(self.partners), name, kind, place.name_fi, place.region.name_fi, **contact
        )
        self.partners[partner.id] = partner
        return partner

    def add_site(self, partner, name, kind, municipality=None, region=None, venue_path=''):
        if kind not in SITE_KINDS:
            raise RuleError('bad_kind', f'unknown site kind {kind!r}')
        place = place_of(municipality or partner.municipality, region)
        site = PartnerSite(
            self._new_id(self.sites), partner.id, name, kind, place.name_fi, place.region.name_fi, venue_path
        )
        self.sites[site.id] = site
        return site

    def site(self, site_id):
        return self.sites.get(site_id)

    def update_partner(self, partner, **values):
        """Change a partner's name, kind, place, contact or commitment (values validated by the caller)."""
        return _update(partner, PARTNER_KINDS, values)

    def update_site(self, site, **values):
        """Change a site's name, kind, place, venue link or activity (values validated by the caller)."""
        return _update(site, SITE_KINDS, values)

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
            if not (isinstance(postcode, str) and len(postcode) == 5 and set(postcode) <= ASCII_DIGITS):
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

    def _track_expiry(self, card, delta):
        bulk = self._v_bulk
        if bulk is not None:
            key = (card.site_id, card.valid_until)
            bulk.expiry[key] = bulk.expiry.get(key, 0) + delta
            return
        for key in self._expiry_keys(card.site_id, card.valid_until):
            self._tally(self.open_tallies, key, card.valid_until, delta)

    def _expiry_keys(self, site_id, day):
        """The keys of the open-card tallies a card of ``site_id`` valid until ``day`` counts in."""
        issuer = self.sites.get(site_id)
        region, municipality = (issuer.region, issuer.municipality) if issuer else ('', '')
        month = month_of(day)
        return (
            ('all', month),
            ('area', region, municipality, month),
            ('site', region, municipality, site_id, month),
        )

    def open_cards(self, first_day, last_day=None, site_id=None, municipality=None, region=None):
        """How many open cards are valid until a day from ``first_day`` to ``last_day`` (inclusive),
        in the whole registry or of the issuing sites of an area or of one issuing site."""
        return sum(
            count for _key, count in self._open_counts(first_day, last_day, site_id, municipality, region)
        )

    def open_cards_by_site(self, first_day, last_day=None, municipality=None, region=None):
        """``{site id: open cards valid until a day in the range}`` for the issuing sites of an area."""
        totals = {}
        for key, count in self._open_counts(first_day, last_day, None, municipality, region, by_site=True):
            totals[key[3]] = totals.get(key[3], 0) + count
        return {site_id: count for site_id, count in totals.items() if count}

    def _open_counts(self, first_day, last_day, site_id, municipality, region, by_site=False):
        """``(key, count)`` of the open-card tallies that match, counting only days in the range."""
        first, last = month_of(first_day), month_of(last_day) if last_day else HIGHEST
        if site_id is not None or by_site:
            family = ('site',)
        elif municipality is not None or region is not None:
            family = ('area',)
        else:
            family = ('all',)
        prefix = family
        if family != ('all',) and region is not None:
            prefix = (*family, region) if municipality is None else (*family, region, municipality)
            if site_id is not None and municipality is not None:
                prefix = (*prefix, site_id)
        if len(prefix) == {'all': 1, 'area': 3, 'site': 4}[family[0]]:
            # the whole key but the month is known: read only the months asked for
            found = self.open_tallies.items((*prefix, first), (*prefix, last))
        else:
            found = with_prefix(self.open_tallies, prefix)
        for key, tally in found:
            if not first <= key[-1] <= last:
                continue
            if family != ('all',) and (
                (region is not None and key[1] != region)
                or (municipality is not None and key[2] != municipality)
                or (site_id is not None and key[3] != site_id)
            ):
                continue
            for day, count in tally.items():
                if first_day <= day and (last_day is None or day <= last_day):
                    yield key, count

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
            raise RuleError('not_venue', 'Visits are recorded by an active venue site.')
        if check is not None:
            if check.card_id != card.id:
                raise RuleError('other_card', 'The check was made for another card.')
            if any(nonce == check.nonce for nonce, _expires in card.door_checks):
                raise RuleError('check_used', 'This check has recorded a visit already.')
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
        """Add ``delta`` to the count of ``key`` = ``(measure, month, municipality, region, site id,
        sector)`` in every slice."""
        bulk = self._v_bulk
        if bulk is not None:
            bulk.counts[key] = bulk.counts.get(key, 0) + delta
            return
        measure, month, municipality, region, site_id, sector = key
        for slice_key in slice_keys(month, municipality, region, site_id):
            self._tally(self.tallies, slice_key, (measure, sector), delta)

    def _tally(self, tree, key, entry, delta):
        tally = tree.get(key)
        if tally is None:
            tally = tree[key] = Tally()
        tally.add(entry, delta)

    def counts(self, by=(), **match):
        """``(key, tally)`` of the statistics slices that hold the counts matching ``match`` (month,
        municipality, region, site), from the smallest slice family that holds ``by`` and ``match``.

        The names in a key are those of :data:`SLICES` for the family; a caller adds up the tallies'
        ``(measure, sector)`` counts.
        """
        family, names = slice_family([*by, *match])
        if 'site' in match and ('region' not in match or 'municipality' not in match):
            # A site's counts lie under the area (or areas) they were made in: read each by its prefix.
            return [
                pair
                for region, municipality in self._areas_of_site(match['site'])
                if match.get('region', region) == region
                and match.get('municipality', municipality) == municipality
                for pair in self.counts(by, **{**match, 'region': region, 'municipality': municipality})
            ]
        if 'municipality' in match and 'region' not in match:
            # A municipality lies in a region or two: read each one's slices by their key prefix.
            return [
                pair
                for region in self._regions_of(match['municipality'])
                for pair in self.counts(by, **match, region=region)
            ]
        prefix = [family]
        for name in names:
            if name not in match:
                break
            prefix.append(match[name])
        checks = [(i + 1, match[name]) for i, name in enumerate(names) if name in match]
        prefix = tuple(prefix)
        if len(prefix) == len(names) + 1:
            tally = self.tallies.get(prefix)
            return [(prefix, tally)] if tally is not None else []
        return [
            (key, tally)
            for key, tally in with_prefix(self.tallies, prefix)
            if len(key) == len(names) + 1 and all(key[i] == wanted for i, wanted in checks)
        ]

    def _areas_of_site(self, site_id):
        """The (region, municipality) pairs counts of ``site_id`` were made in (from its slices' keys)."""
        return sorted(
            {(key[1], key[2]) for key, _tally in with_prefix(self.tallies, ('site',)) if key[3] == site_id}
        )

    def _regions_of(self, municipality):
        """The regions counts of ``municipality`` were made in (read from the keys of its slices)."""
        return sorted(
            {key[1] for key in self.tallies.keys(('area',), ('area', HIGHEST)) if key[2] == municipality}
        )

    def totals(self, measure, **match):
        """Sum the counts of ``measure``, filtered by month, municipality, region, site or sector."""
        sector = match.pop('sector', None)
        return sum(
            count
            for _key, tally in self.counts(**match)
            for (name, in_sector), count in tally.items()
            if name == measure and (sector is None or in_sector == sector)
        )

    # bulk loading ----------------------------------------------------------------------------------
    def bulk(self):
        """A context in which cards and visits are recorded by the same methods and rules, but the
        statistics tallies are changed once per context instead of once per record, and new records
        get consecutive ids from a random start (so that a batch fills a few BTree buckets instead of
        touching thousands).  For loading large amounts (imports, benchmarks); the counts at the end
        are what recording one by one gives.  If the block raises, the pending counts are dropped and
        the records it made are not: abort the transaction.  Not for concurrent use within one registry
        object (the state is a volatile attribute of this object, so a ghosted registry counts at once).
        """
        return _Bulk(self)

    # shape upgrades ---------------------------------------------------------------------------------
    def needs_upgrade(self):
        return self.shape < SHAPE

    def upgrade(self):
        """Bring a registry stored by older code up to :data:`SHAPE`; returns whether anything changed.

        Shape 1 → 2: the Length counters under ``aggregates`` (keyed ``(measure, month, municipality,
        region, site id, sector)``) move into the statistics slices, and the open-card counters
        ``open_by_expiry`` / ``open_by_site_expiry`` into :attr:`open_tallies`.  Nothing is lost: the
        totals before and after are the same.

        Shape 2 → 3: places typed as free text become the municipality table's (:meth:`_settle_places`).

        Shape 3 → 4: :attr:`visits_by_site_time` is keyed by the day a visit was recorded instead of its
        time, and holds every visit (registries made before it existed held only later ones); it is
        made again from the visits.
        """
        if self.shape >= SHAPE:
            return False
        if self.shape < 2:
            self._move_counters()
        if self.shape < 3:
            self._settle_places()
        if self.shape < 4:
            self.visits_by_site_time = SiteTimeSet(site_time_key(visit) for visit in self.visits.values())
        self.shape = SHAPE
        return True

    def _move_counters(self):
        if self.tallies is None:
            self.tallies = OOBTree()
        if self.open_tallies is None:
            self.open_tallies = OOBTree()
        old = self.__dict__
        with self.bulk():
            for key, counter in old.get('aggregates', {}).items():
                if counter():
                    self._count(key, counter())
            for (site_id, day), counter in old.get('open_by_site_expiry', {}).items():
                if counter():
                    card = Card(0, '', site_id, '', day, day, None, None, 0)
                    self._track_expiry(card, counter())
        for name in ('aggregates', 'open_by_expiry', 'open_by_site_expiry'):
            if name in old:
                delattr(self, name)

    def _settle_places(self):
        """Give every partner, site, card, coordinator's area and pilot end the table's name of its
        municipality (or region), and partners and sites the region of their municipality, whatever
        region was typed; the statistics' keys take the same names.  A value the table does not know is
        logged and kept as it was: it lies in no area, so no coordinator's scope reaches it until it is
        corrected."""
        names = {}

        def settle(value, what):
            if value not in names:
                place = places.find_municipality(value)
                names[value] = place.name_fi if place else value
                if place is None:
                    log.warning('registry: %s has an unknown municipality %r (in no area)', what, value)
            return names[value]

        for kind, records in (('partner', self.partners), ('site', self.sites)):
            for record in records.values():
                municipality = settle(record.municipality, f'{kind} {record.id}')
                place = places.municipality_named(municipality)
                region = place.region.name_fi if place else record.region
                if (record.municipality, record.region) != (municipality, region):
                    record.municipality, record.region = municipality, region
        for card in self.cards.values():
            if card.municipality and settle(card.municipality, f'card {card.id}') != card.municipality:
                card.municipality = names[card.municipality]
        for login, (kind, name) in list(self.areas.items()):
            found = area_place(kind, name)
            if found is None:
                log.warning('registry: the area %r of %s is unknown; it covers no place', name, login)
            elif found.name_fi != name:
                self.areas[login] = (kind, found.name_fi)
        for municipality, day in list(self.pilot_ends.items()):
            settled = settle(municipality, 'a pilot end')
            if settled != municipality:
                del self.pilot_ends[municipality]
                self.pilot_ends[settled] = day
        self._rekey(self.tallies, names)
        self._rekey(self.open_tallies, names)

    @staticmethod
    def _rekey(tree, names):
        """Move the tallies of ``tree`` whose municipality or region got the table's name under the new
        keys, adding up tallies that meet.  A count keeps the region it was made in (a card's home
        municipality is counted in the issuing site's region), so regions are renamed, not derived."""
        regions = {}

        def region(name):
            if name not in regions:
                found = places.region_named(name)
                regions[name] = found.name_fi if found else name
            return regions[name]

        moved = {}
        for key in list(tree.keys()):
            family = key[0]
            if family in ('area', 'area-month', 'site', 'site-month'):
                new = (family, region(key[1]), names.get(key[2], key[2]), *key[3:])
            elif family in ('region', 'region-month'):
                new = (family, region(key[1]), *key[2:])
            else:
                continue
            if new != key:
                moved.setdefault(new, []).append(tree.pop(key))
        for new, tallies in moved.items():
            target = tree.get(new)
            if target is None:
                target = tree[new] = Tally()
            for tally in tallies:
                for entry, count in tally.items():
                    target.add(entry, count)

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
        self.visits_by_site_time.discard(site_time_key(visit))
        ids = self.visit_ids_by_card.get(visit.card_id)
        if ids is not None and visit.id in ids:
            ids.remove(visit.id)
        self.visit_count.change(-1)
