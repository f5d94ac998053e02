"""The coordinators' pages: partners, their sites, the people who act for them, and the sites' API tokens.

A coordinator answers for one area, a municipality or a region (``CardRegistry.area_of``), and sees and
changes
only the partners and sites in it: a record of another area is answered as not found, the same answer as
for an id that does not exist, so nothing of it leaks.  A national administrator sees every area and alone
may make another national administrator.

Places come from the portal's municipality table (:mod:`portal.places`): the forms offer its municipalities,
and a record's region is derived from its municipality, never typed, so nobody can file a Tampere partner
under Keski-Suomi.  A change is checked against the requester's area on every record it touches, both as
it is and as it will be: the partner, the site, the person, the site the person acts for and the area
they coordinate.  Nobody changes their own roles, and nobody grants or removes a role over a place outside
their area.

Every change is a POST carrying the CSRF token (Pyramid checks it before the view runs), is validated whole
by a colander schema before anything is written, and is written to the audit log.  Users themselves (login
names, passwords) are made on the portal's own users page; here a coordinator links an existing login to
a site and grants the registry's roles.  An API token is shown once, in the answer to the POST that made it;
the registry keeps only its digest.

The pages live in one room each: :mod:`.partners`, :mod:`.sites` and :mod:`.people`, a view class each
(``view_defaults``: every view of them has the registry as context and the ``registry.manage``
permission); :mod:`.common` holds the area and the page helpers they share.
"""

from kaiku_registry.partners.common import Scope, scope_of

__all__ = ['Scope', 'scope_of']
