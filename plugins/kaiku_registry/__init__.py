"""The Kaikukortti registry: partners, pseudonymous cards, verification at the door, visits, statistics.

The plugin joins the site only through ``config.include('kaiku_registry')`` (listed in
``pyramid.includes``); the portal never imports it.  It declares its
:class:`~kaiku_registry.models.CardRegistry`
as a content type with the portal's own directive and, when the application starts, makes sure the site
has one at ``/registry``.  Its settings are read here, in one place.
"""

import logging
import os
from dataclasses import dataclass

from pyramid.events import ApplicationCreated
from pyramid.settings import asbool

from kaiku_registry.i18n import _
from portal import SITE_KEY
from portal.clock import HELSINKI, today  # noqa: F401 - the one clock, named here for the plugin
from portal.forms import ItemSchema
from portal.security import session_secret
from portal.startup import in_own_transaction

log = logging.getLogger(__name__)

REGISTRY_NAME = 'registry'


@dataclass(frozen=True)
class RegistrySettings:
    signing_key: str | None
    retention_years: int
    regional_only: bool
    #: How long a door check may be used to record the visit, in seconds.
    door_check_lifetime: int = 300
    #: Whether holders may look up their own card by its code and birth year (``kaiku_registry.holder_view``).
    holder_view: bool = True

    @classmethod
    def from_settings(cls, settings):
        return cls(
            signing_key=settings.get('kaiku_registry.signing_key') or None,
            retention_years=int(settings.get('kaiku_registry.retention_years', 2)),
            regional_only=asbool(settings.get('kaiku_registry.regional_only', False)),
            door_check_lifetime=int(settings.get('kaiku_registry.door_check_lifetime', 300)),
            holder_view=asbool(settings.get('kaiku_registry.holder_view', True)),
        )


def load_signing_key(path):
    """The QR signing key, or None when no key is configured or made yet (cards then print unsigned)."""
    from kaiku_registry import codes

    if not path or not os.path.exists(path):
        if path:
            log.warning('no QR signing key at %s: run "kaiku-registry <ini> keygen"', path)
        return None
    with open(path, 'rb') as f:
        return codes.load_private_key(f.read())


def ensure_registry(event):
    """Give the site its registry, in a transaction of its own, when the application starts.  A registry
    stored by older code is brought up to the current shape of its data by the plugin's evolve steps
    (:func:`upgrade_to_shape_2`), which run before this."""
    from kaiku_registry.models import CardRegistry

    app_registry = event.app.registry

    def make_registry(root):
        site = root.get(SITE_KEY)
        if site is not None and REGISTRY_NAME not in site:
            registry = CardRegistry()
            registry.update({'title': 'Kaikukortti-rekisteri'}, 'fi')
            registry.set_texts('sv', {'title': 'Kaikukortsregistret'})
            registry.set_texts('en', {'title': 'Kaikukortti registry'})
            site.add(REGISTRY_NAME, registry, registry=app_registry)
            return True
        return False

    if in_own_transaction(app_registry._zodb_databases[''], make_registry):
        log.info('card registry created at /%s', REGISTRY_NAME)


def stored_registry(root):
    """The card registry stored in the database whose ZODB root is ``root``, or None."""
    site = root.get(SITE_KEY)
    return site[REGISTRY_NAME] if site is not None and REGISTRY_NAME in site else None


def upgrade_to_shape_2(root, app_registry):
    """Move the card registry's statistics counters into tallies (its data's shape 2)."""
    registry = stored_registry(root)
    if registry is not None and registry.shape < 2:
        registry.upgrade()


def upgrade_to_shape_3(root, app_registry):
    """Settle places typed as free text on the municipality table (its data's shape 3)."""
    registry = stored_registry(root)
    if registry is not None and registry.shape < 3:
        registry.upgrade()


def upgrade_to_shape_4(root, app_registry):
    """Key the door's list of visits by site, day and visit id, so concurrent visits do not collide."""
    registry = stored_registry(root)
    if registry is not None and registry.shape < 4:
        registry.upgrade()


def upgrade_to_shape_5(root, app_registry):
    """Give the card registry its card stock (batches of codes printed ahead)."""
    registry = stored_registry(root)
    if registry is not None and registry.shape < 5:
        registry.upgrade()


def upgrade_to_shape_6(root, app_registry):
    """Shard the card registry's statistics and visit count and keep the door's list as one set per site
    and day, so that concurrent visits commute (its data's shape 6)."""
    registry = stored_registry(root)
    if registry is not None and registry.shape < 6:
        registry.upgrade()


def upgrade_to_shape_7(root, app_registry):
    """Keep the card registry's visits in many trees and give every card its visit set, so that
    concurrent visits insert no key into a shared tree (its data's shape 7)."""
    registry = stored_registry(root)
    if registry is not None and registry.shape < 7:
        registry.upgrade()


def upgrade_to_shape_8(root, app_registry):
    """Grow the card registry's visit count to more shards than two app processes have database
    connections, so that each connection keeps to its own; the tallies grow when next written (its data's
    shape 8)."""
    registry = stored_registry(root)
    if registry is not None and registry.shape < 8:
        registry.upgrade()


def give_venue_sites_sectors(root, app_registry):
    """Give each venue site without one a default sector, suggested by its venue page's categories."""
    from kaiku_registry.schemas import venue_finder, venue_sector

    registry = stored_registry(root)
    if registry is None:
        return
    find_venue = venue_finder(registry)
    for site in registry.all_sites():
        if site.kind == 'venue' and site.sector is None:
            site.sector = venue_sector(find_venue, site.venue_path)


def link_replacements_back(root, app_registry):
    """Give each card that replaced a lost one the lost card's id (``Card.replaces``)."""
    registry = stored_registry(root)
    if registry is None:
        return
    for card in registry.cards.values():
        new = registry.cards.get(card.replaced_by) if card.replaced_by is not None else None
        if new is not None and new.replaces is None:
            new.replaces = card.id


#: The plugin's evolve steps.  The first are one a shape of the stored registry: a registry at shape N has
#: had the steps up to N (a database that ran none of them runs each, and each does nothing below its
#: registry's shape); later ones change records and do nothing to records that have the change.
EVOLVE_STEPS = (
    ('kaiku_registry.shape0002', upgrade_to_shape_2),
    ('kaiku_registry.shape0003', upgrade_to_shape_3),
    ('kaiku_registry.shape0004', upgrade_to_shape_4),
    ('kaiku_registry.shape0005', upgrade_to_shape_5),
    ('kaiku_registry.shape0006', upgrade_to_shape_6),
    ('kaiku_registry.shape0007', upgrade_to_shape_7),
    ('kaiku_registry.shape0008', upgrade_to_shape_8),
    ('kaiku_registry.site_sectors', give_venue_sites_sectors),
    ('kaiku_registry.card_replaces', link_replacements_back),
)

#: The actions the plugin records in the audit log, and their titles.
AUDIT_ACTIONS = (
    ('registry.card.issue', _('Card issued')),
    ('registry.card.issue_late', _('Card registered afterwards from the paper form')),
    ('registry.card.replace', _('Card replaced')),
    ('registry.card.renew', _('Card renewed')),
    ('registry.card.correct', _('Card data corrected')),
    ('registry.card.reprint', _('Card printed again')),
    ('registry.card.holder_view', _('Card looked up by its holder')),
    ('registry.card.read', _('Card data read')),
    ('registry.card.export', _('Card data exported')),
    ('registry.card.erase', _('Card erased')),
    ('registry.visit.record', _('Visit recorded')),
    ('registry.visit.record_late', _('Visit entered afterwards from paper')),
    ('registry.visit.undo', _('Visit undone')),
    ('registry.partner.add', _('Partner added')),
    ('registry.partner.edit', _('Partner changed')),
    ('registry.site.add', _('Site added')),
    ('registry.site.edit', _('Site changed')),
    ('registry.person.edit', _('Person changed')),
    ('registry.stock.batch', _('Card stock batch made')),
    ('registry.stock.allocate', _('Card stock batch allocated')),
    ('registry.stock.mark', _('Card stock code marked')),
    ('registry.token.new', _('API token made')),
    ('registry.token.revoke', _('API tokens revoked')),
)


#: The registry's templates compiled when the application starts, so that the first door check or
#: statistics page of a process does not wait for Chameleon to compile them.
WARM_TEMPLATES = ('door.pt', 'stats.pt', 'impact.pt')
#: Where each role of the registry lands after logging in, the first that a user holds winning: national
#: admins on the partners they manage, coordinators on their area's statistics, issuer staff on the
#: issue form, venue staff at the door.
LANDING_PAGES = (
    ('NationalAdmin', 'partners'),
    ('Coordinator', 'stats'),
    ('IssuerStaff', 'issue'),
    ('VenueStaff', 'door'),
)


def warm_templates(event):
    from pyramid.renderers import get_renderer

    for name in WARM_TEMPLATES:
        get_renderer(f'kaiku_registry:templates/{name}').implementation().cook_check()


def includeme(config):
    from kaiku_registry.models import CardRegistry

    config.registry.registry_settings = RegistrySettings.from_settings(config.get_settings())
    config.add_content_type(
        CardRegistry,
        title=_('Card registry'),
        schema=ItemSchema,
        addable_to=(),
        default_state='private',
        dumpable=False,
        # The plugin owns /registry (cards, visits, partners, keys): content management may not delete,
        # move or rename it, whoever asks.
        protected=True,
    )
    from kaiku_registry import codes

    key = load_signing_key(config.registry.registry_settings.signing_key)
    config.registry.registry_signing_key = key
    config.registry.registry_public_key = codes.public_key_raw(key) if key else None
    # The door check tokens are signed with a key derived from the session secret (see codes.DoorChecks).
    config.registry.registry_door_checks = codes.DoorChecks(
        session_secret(config.get_settings()).encode('utf-8'),
        lifetime=config.registry.registry_settings.door_check_lifetime,
    )
    use = 'registry.use'
    config.add_role('VenueStaff', _('Venue staff'), (use, 'registry.door'))
    config.add_role('IssuerStaff', _('Issuer staff'), (use, 'registry.issue'))
    config.add_role('Coordinator', _('Coordinator'), (use, 'registry.report', 'registry.manage'))
    config.add_role(
        'NationalAdmin',
        _('National administrator'),
        (use, 'registry.report', 'registry.manage', 'registry.all_areas'),
    )
    # Staff land on their own pages after logging in (unless the login came from another page).
    for order, (role, path) in enumerate(LANDING_PAGES, start=20):
        config.add_landing_page(role, f'{REGISTRY_NAME}/{path}', order=order)
    previous = None
    for name, step in EVOLVE_STEPS:
        config.add_evolve_step(name, step, after=previous or ())
        previous = name
    for name, title in AUDIT_ACTIONS:
        config.add_audit_action(name, title)
    config.add_subscriber(ensure_registry, ApplicationCreated)
    config.add_subscriber(warm_templates, ApplicationCreated)
    config.add_translation_dirs('kaiku_registry:locale/')
    config.add_static_files('registry-static', 'kaiku_registry:static/')
    config.include('kaiku_registry.api')
    config.include('kaiku_registry.workspace')
    config.scan('kaiku_registry.views')
    config.scan('kaiku_registry.pages')
    config.scan('kaiku_registry.partners')
    from kaiku_registry.schemas import guard_schemas

    # Every text node of the plugin's schemas, those of the modules included above too, gets the guard.
    config.action(('kaiku_registry', 'identifier guard'), guard_schemas)
