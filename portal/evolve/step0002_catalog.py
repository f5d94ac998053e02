"""Give a site made before the catalog existed its catalog, and index everything in it.

Listings and searches find content only through the catalog, so a site without one would show empty
catalogue and search pages after an upgrade.
"""

from portal.catalog import SiteCatalog, install_catalog

SITE_KEY = 'site'


def evolve(root, registry):
    site = root.get(SITE_KEY)
    if site is not None and not isinstance(getattr(site, 'catalog', None), SiteCatalog):
        install_catalog(site)
