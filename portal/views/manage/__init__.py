"""Editing the site, one room a concern.

- :mod:`.editing`: add and edit forms, and the edit round that catches a conflicting save;
- :mod:`.contents`: a folder's management listing with bulk actions, an item's state and its deletion;
- :mod:`.moving`: rename, move and reorder;
- :mod:`.revisions`: an item's history and reverting to a revision;
- :mod:`.sharing`: local roles;
- :mod:`.review`: the review queue, where a publisher publishes or sends back what is pending review;
- :mod:`.venues`: the venues folder's import and export;
- :mod:`.translate`: an item's translations beside its original, and the translations to do;
- :mod:`.auditlog`: the audit log page;
- :mod:`.common`: the action tabs, refusals and form pages they share.

Each view reads the request, calls the item's or container's own methods and picks a template; the models
send the events (added, removed, state changed) and the edit view sends
:class:`portal.events.ObjectModified` with the names of the fields that changed, so the catalog, the audit
log and the history follow every change.  The names other modules import are kept here.
"""

from portal.views.manage.common import FORM_PAGE, THEME, edit_actions, flash, form_page
from portal.views.manage.editing import edit_round

__all__ = ['FORM_PAGE', 'THEME', 'edit_actions', 'edit_round', 'flash', 'form_page']
