"""The registry's records: partners, their sites, pseudonymous cards, visits and API tokens, the trees that
hold visits, and the lists of values the rules accept.

A card holds no identifying data: a random code, the issuing site, the home municipality, the dates of
validity, its status, and the holder's birth year, postcode and number of minor children (and, when the
holder wishes, gender and life situation from fixed lists).  A visit holds the card's internal id, the
venue site, the date, the sector and the tickets given.

A partner's or site's municipality is always one of :mod:`portal.places`' municipalities, stored by its
official Finnish name, and its region is derived from it (a value given for the region must agree), so a
place lies in exactly one region.  A coordinator's area is such a municipality or region.

Databases made before this module existed name these classes ``kaiku_registry.models.<Class>``, which
still resolves (see :mod:`kaiku_registry.models`).
"""

import datetime
import functools
import secrets
from dataclasses import dataclass

from BTrees.LOBTree import LOBTree
from BTrees.OOBTree import OOTreeSet
from persistent import Persistent
from ZODB.POSException import ConflictError

from kaiku_registry.areas import AREA_KINDS, area_place, in_area  # noqa: F401 (kept where they were)
from kaiku_registry.errors import RuleError
from portal import places

PARTNER_KINDS = ('municipality', 'wellbeing_county', 'issuer_ngo', 'venue_operator', 'kaikukeskus')
SITE_KINDS = ('issuer', 'venue')
SECTORS = ('culture', 'education', 'science', 'sport')
#: The sector suggested for a venue site by its venue page's categories (the first that matches), and for
#: any other venue.
SECTOR_BY_CATEGORY = (
    ('swimming', 'sport'),
    ('sport', 'sport'),
    ('course', 'education'),
    ('science', 'science'),
)
OTHER_SECTOR = 'culture'
#: The most events a site's list keeps.
MAX_SITE_EVENTS = 200
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
#: Why the issuing site corrected a card's children count or postcode (``renewal``: checked at renewal).
CORRECTION_REASONS = ('typing_error', 'family_changed', 'moved', 'renewal')
MINIMUM_AGE = 16
MAXIMUM_AGE = 120
MAX_CHILDREN = 20
#: A community card's visit admits its staff member and a group of clients under 16 (a school class at
#: most), counted at the door.
MAX_GROUP = 40
UNDO_WINDOW = datetime.timedelta(minutes=30)
#: A card given on the paper form, or a visit noted on paper while the registry could not be reached, is
#: entered afterwards with its real date, at most this long ago.
LATE_ENTRY = datetime.timedelta(days=30)
#: Partner staff are trained yearly; coordinators are warned this long before the year runs out.
TRAINING_VALID = datetime.timedelta(days=365)
TRAINING_WARNING = datetime.timedelta(days=60)
TRAINING_STATUSES = ('never', 'overdue', 'due_soon', 'ok')

VALID, EXPIRED, CLOSED, UNKNOWN = 'valid', 'expired', 'closed', 'unknown'
#: The card id of a visit whose card has been erased: no card has it (ids run from 1).
ERASED_CARD = 0
#: str.isdigit() is true of '٤' and '４' too.
ASCII_DIGITS = frozenset('0123456789')


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
    """The door's list of shapes 4 and 5 (one tree of ``(site id, day, visit id)`` keys), kept so that
    stored ones load until shape 6 makes a :class:`~kaiku_registry.site_days.SiteDays` of them: a site's
    concurrent visits split its buckets and changed inner nodes every writer had read as current.
    """

    max_internal_size = 16
    max_leaf_size = 120


def new_id(tree):
    """A random id from 1 to 2**62 that ``tree`` does not hold yet."""
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
    """The visit's key in :attr:`CardRegistry.visits_by_site_time`."""
    return (visit.site_id, visit.recorded_at.astimezone(datetime.UTC).date(), visit.id)


def suggested_sector(categories):
    """The sector of :data:`SECTORS` that a venue of these catalogue categories most likely gives."""
    return next((sector for category, sector in SECTOR_BY_CATEGORY if category in categories), OTHER_SECTOR)


def place_of(municipality, region=None):
    """The table's municipality for a code or a Finnish or Swedish name; ``region``, when given, must be
    its region (by code or name).  Raises :class:`RuleError` otherwise."""
    place = places.find_municipality(municipality)
    if place is None:
        raise RuleError('bad_municipality', f'unknown municipality {municipality!r}')
    if region not in (None, '') and places.region_named(region) != place.region:
        raise RuleError('bad_region', f'{place.name_fi} does not lie in {region!r}')
    return place


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
    """A toimipiste: the unit of a partner that issues cards or receives visitors.  Access is per site.

    A venue site has a default sector, which the door preselects, and a list of its events, which the
    door offers to choose from.
    """

    sector = None
    events = ()

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
    #: The internal id of the lost card this one replaced (the other end of its ``replaced_by``).
    replaces = None
    gender = None
    life_situation = None
    first_use = None
    uses = 0
    #: ``(nonce, expires)`` of the door checks already used to record a visit and not yet run out, so
    #: that a check records one visit only; kept on the card, which every visit writes anyway.
    door_checks = ()
    #: The day of the last renewal: the current period of validity runs from it (``valid_from`` stays the
    #: day of issue, which the statistics count by).
    renewed_on = None
    #: What the issuing site did to the card after issuing it, oldest first: :class:`CardEvent`\ s.
    history = ()

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

    @property
    def valid_since(self):
        """The first day of the current period of validity: the last renewal's, or the issue day."""
        return self.renewed_on or self.valid_from

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
            'renewed_on': self.renewed_on.isoformat() if self.renewed_on else None,
            'history': [
                {
                    'day': event.day.isoformat(),
                    'what': event.what,
                    'old': event.old,
                    'new': event.new,
                    'reason': event.reason,
                }
                for event in self.history
            ],
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
    #: How many clients under 16 came with a community card's staff member (0 for a holder's visit);
    #: set on the instance only when it is not 0, so older visits keep their stored form.
    group = 0

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
class CardEvent:
    """One entry of a card's history: a correction (``what`` is ``children`` or ``postcode``, with the
    old and new value and the reason), a renewal or a reprint, on ``day``."""

    day: datetime.date
    what: str
    old: object = None
    new: object = None
    reason: str = ''


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


def update_record(record, kinds, values):
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
