"""The registry: all records of the card, its partners and its statistics under the site
(:class:`CardRegistry`).

Everything lives in one :class:`CardRegistry` object under the site, in BTrees keyed by random 63-bit ids,
so that two processes adding records at the same moment do not fight over a counter.  Counts are
``BTrees.Length`` objects, whose conflicts ZODB resolves by adding both changes.

The class is made of rooms: the records it holds (:mod:`kaiku_registry.records`), the life of cards and
visits (:mod:`kaiku_registry.cards`), the card stock (:mod:`kaiku_registry.stock`), the running
statistics (:mod:`kaiku_registry.statistics`), bulk loading (:mod:`kaiku_registry.bulk`) and upgrades
of older stored shapes (:mod:`kaiku_registry.shapes`).  Here are the people, partners, sites, API tokens
and retention, and the questions views ask of them: a view calls these methods and never reads the
trees.  Nothing here sees a request.
"""

import datetime
import hashlib
import secrets

from BTrees.Length import Length
from BTrees.LOBTree import LOBTree
from BTrees.OLBTree import OLBTree
from BTrees.OOBTree import OOBTree
from pyramid.authorization import Allow, Everyone

from kaiku_registry.bulk import Bulk
from kaiku_registry.cards import CardLife
from kaiku_registry.records import (
    MAX_SITE_EVENTS,
    PARTNER_KINDS,
    SITE_KINDS,
    ApiToken,
    Partner,
    PartnerSite,
    RuleError,
    VisitTree,
    area_place,
    in_area,
    new_id,
    place_of,
    site_time_key,
    update_record,
)
from kaiku_registry.rights import HolderRights
from kaiku_registry.shapes import SHAPE, Shapes
from kaiku_registry.sharded_visits import ShardedVisits
from kaiku_registry.site_days import SiteDays
from kaiku_registry.statistics import ShardedLength, Statistics
from kaiku_registry.stock import CardStock
from portal.resources.base import Item


class CardRegistry(CardLife, HolderRights, CardStock, Statistics, Shapes, Item):
    """All registry records of one site (see the module docstring).

    It is a content item of the portal (``site['registry']``), private, left out of the navigation and of
    content dumps, so that the plugin's views are reached by traversal under ``/registry``.
    """

    type_name = 'Registry'
    exclude_from_nav = True
    #: (site id, day recorded (UTC), visit id) of every visit, so a site's latest visits are a range
    #: read of a day or two: a :class:`~kaiku_registry.site_days.SiteDays`, one small set per site and
    #: day, so that a site's concurrent visits change one bucket and no shared inner node.
    visits_by_site_time = None
    #: Anyone may read the public impact figures (aggregates with small counts hidden), and a holder their
    #: own card (:mod:`kaiku_registry.pages.holder`).
    local_acl = ((Allow, Everyone, 'view_impact'), (Allow, Everyone, 'registry.holder_view'))
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
        #: Every visit by its id, in many trees (:class:`~kaiku_registry.sharded_visits.ShardedVisits`):
        #: every visit adds one.
        self.visits = ShardedVisits()
        self.visits_by_site_time = SiteDays()
        #: Each card's visit ids (card id → ``LLTreeSet``), made when the card is issued, so that a visit
        #: only adds to its card's set and never inserts a key into this tree.
        self.visit_ids_by_card = VisitTree()
        #: The statistics: slice key (see :data:`SLICES`) → :class:`Tally` of (measure, sector) → count.
        self.tallies = OOBTree()
        self.card_count = Length()
        #: Sharded as the statistics are (:class:`~kaiku_registry.statistics.ShardedLength`): every
        #: visit changes it.
        self.visit_count = ShardedLength()
        self.pilot_ends = OOBTree()
        #: Open (not closed) cards by the last day of their validity: (family, ..., month of that day) →
        #: :class:`Tally` of day → count, for the whole registry (``('all', month)``), the issuing site's
        #: area (``('area', region, municipality, month)``) and the issuing site (``('site', region,
        #: municipality, site id, month)``), so that "active now" and "expiring soon" read a few tallies.
        self.open_tallies = OOBTree()
        self._make_stock()
        self.shape = SHAPE

    def _new_id(self, tree):
        return self._v_bulk.new_id(tree) if self._v_bulk is not None else new_id(tree)

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

    def members_with_sites(self):
        """``(login, site)`` of everyone who acts for a site that exists, by login."""
        for login, site_id in self.members.items():
            site = self.sites.get(site_id)
            if site is not None:
                yield login, site

    def member_counts(self):
        """``{site id: how many people act for it}``."""
        counts = {}
        for site_id in self.members.values():
            counts[site_id] = counts.get(site_id, 0) + 1
        return counts

    def coordinators(self):
        """``(login, area)`` of everyone who answers for an area, by login."""
        return self.areas.items()

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

    def partner(self, partner_id):
        """The partner with ``partner_id``, or None."""
        return self.partners.get(partner_id)

    def site(self, site_id):
        """The site with ``site_id``, or None."""
        return self.sites.get(site_id)

    def all_partners(self):
        return self.partners.values()

    def all_sites(self):
        return self.sites.values()

    def partners_in(self, area):
        """The partners whose municipality lies in ``area`` ``(kind, name)`` (see :func:`in_area`)."""
        return [partner for partner in self.partners.values() if in_area(area, partner.municipality)]

    def sites_in(self, area):
        """The sites whose municipality lies in ``area`` ``(kind, name)`` (see :func:`in_area`)."""
        return [site for site in self.sites.values() if in_area(area, site.municipality)]

    def site_counts(self):
        """``{partner id: how many sites it has}``."""
        counts = {}
        for site in self.sites.values():
            counts[site.partner_id] = counts.get(site.partner_id, 0) + 1
        return counts

    def site_municipalities(self, region=None):
        """The municipalities that have a site (in ``region``, as stored on the sites, when one is given)."""
        return {site.municipality for site in self.sites.values() if region is None or site.region == region}

    def site_regions(self):
        """The regions that have a site."""
        return {site.region for site in self.sites.values()}

    def update_partner(self, partner, **values):
        """Change a partner's name, kind, place, contact or commitment (values validated by the caller)."""
        return update_record(partner, PARTNER_KINDS, values)

    def update_site(self, site, **values):
        """Change a site's name, kind, place, venue link or activity (values validated by the caller)."""
        return update_record(site, SITE_KINDS, values)

    def add_site_event(self, site, name):
        """Add ``name`` (validated by the caller) to the venue site's list of events, kept in alphabetical
        order; False when the list is full (:data:`MAX_SITE_EVENTS`) or holds it already."""
        if name in site.events or len(site.events) >= MAX_SITE_EVENTS:
            return False
        site.events = tuple(sorted((*site.events, name), key=str.casefold))
        return True

    def remove_site_event(self, site, name):
        """Take ``name`` off the site's list of events (visits recorded with it keep it)."""
        site.events = tuple(event for event in site.events if event != name)

    def sites_of_partner(self, partner):
        return [site for site in self.sites.values() if site.partner_id == partner.id]

    def members_of(self, site_ids):
        """``{login: site id}`` of the people who act for one of ``site_ids``."""
        site_ids = set(site_ids)
        return {login: site_id for login, site_id in self.members.items() if site_id in site_ids}

    def clear_area(self, login):
        self.areas.pop(login, None)

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
        return Bulk(self)

    # records by id ---------------------------------------------------------------------------------
    def card(self, card_id):
        """The card with the internal id ``card_id``, or None."""
        return self.cards.get(card_id)

    def visit(self, visit_id):
        """The visit with ``visit_id``, or None."""
        return self.visits.get(visit_id)

    def record_counts(self):
        """``{'partners', 'sites', 'cards', 'visits'}``: how many records each tree holds (counts them)."""
        return {name: len(getattr(self, name)) for name in ('partners', 'sites', 'cards', 'visits')}

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


#: Databases written before the rename hold ``kaiku_registry.registry.Registry`` (and
#: ``kaiku_registry.models.Registry``) in their pickles; this name keeps them loading.
Registry = CardRegistry
