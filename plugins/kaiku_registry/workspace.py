"""The registry's live figures on a municipality's onboarding workspace.

The portal defines the place (``config.add_workspace_figures``) and this module fills it: the municipality's
active issuer and venue sites, the partners that have signed their commitment, the partners whose staff were
trained within the last year, and the cards issued.  Cards come from the running aggregates
(:meth:`CardRegistry.totals`), never from the cards themselves; sites and partners are read one record per
organisation, not per card holder.
"""

from pyramid.traversal import find_root

from kaiku_registry import REGISTRY_NAME
from kaiku_registry.i18n import _


def _same(a, b):
    return (a or '').casefold() == (b or '').casefold()


def municipality_figures(workspace, today):
    """``(label, value)`` pairs for the workspace's municipality, or nothing when the site has no registry."""
    registry = find_root(workspace).get(REGISTRY_NAME)
    municipality = workspace.municipality
    if registry is None or not municipality:
        return ()
    sites = [site for site in registry.all_sites() if site.active and _same(site.municipality, municipality)]
    partners = [partner for partner in registry.all_partners() if _same(partner.municipality, municipality)]
    return (
        (_('Issuer sites'), sum(1 for site in sites if site.kind == 'issuer')),
        (_('Venue sites'), sum(1 for site in sites if site.kind == 'venue')),
        (_('Signed commitments'), sum(1 for partner in partners if partner.commitment_signed)),
        (
            _('Partners whose staff were trained within a year'),
            sum(1 for p in partners if p.trained_within_year(today)),
        ),
        (_('Cards issued'), registry.totals('cards', municipality=municipality)),
    )


def includeme(config):
    config.add_workspace_figures(municipality_figures)
