"""Editing the site: add, edit, delete, change state, and the management listing of a folder."""

from portal.views.manage.editing import FORM_PAGE, edit_actions, edit_round, flash, form_page

__all__ = ['FORM_PAGE', 'edit_actions', 'edit_round', 'flash', 'form_page']
