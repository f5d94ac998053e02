"""Colander and deform glue shared by every content type's schema and every add and edit form.

:class:`ItemSchema` holds the fields every item has.  Types extend it with their own nodes.  Choices come
from vocabularies: tuples of ``(value, translation string)`` pairs, so a stored value never depends on the
interface language.
"""

import colander
import deform.widget

from portal.i18n import LANGUAGE_TITLES, LANGUAGES, _


def vocabulary_values(vocabulary):
    return [value for value, _title in vocabulary]


def vocabulary_title(vocabulary, value):
    """The translation string for ``value``, or the value itself when the vocabulary lacks it."""
    return dict(vocabulary).get(value, value)


def choices_node(vocabulary, title, description=None, min_len=0):
    """A multiple-choice field over ``vocabulary``, shown as checkboxes, kept in vocabulary order."""
    return colander.SchemaNode(
        colander.Set(),
        title=title,
        description=description,
        missing=(),
        validator=colander.All(
            colander.ContainsOnly(vocabulary_values(vocabulary)),
            colander.Length(min=min_len, min_err=_('Choose at least one.')),
        ),
        preparer=lambda value: (
            tuple(v for v in vocabulary_values(vocabulary) if v in value)
            if value not in (colander.null, None)
            else value
        ),
        widget=deform.widget.CheckboxChoiceWidget(values=vocabulary),
    )


def text_node(title, description=None, max_len=200, required=False, textarea=False, **kw):
    """A plain-text field: required or empty by default, length-limited."""
    widget = deform.widget.TextAreaWidget(rows=4) if textarea else deform.widget.TextInputWidget()
    return colander.SchemaNode(
        colander.String(),
        title=title,
        description=description,
        missing=colander.required if required else '',
        validator=colander.Length(max=max_len),
        widget=widget,
        **kw,
    )


class ItemSchema(colander.MappingSchema):
    """Fields every content item has."""

    title = colander.SchemaNode(
        colander.String(),
        title=_('Title'),
        validator=colander.Length(min=1, max=200),
    )
    description = text_node(
        _('Short description'),
        description=_('One or two sentences, shown in listings and search results.'),
        max_len=500,
        textarea=True,
    )
    language = colander.SchemaNode(
        colander.String(),
        title=_('Language'),
        description=_('The language the item is written in first.'),
        missing='fi',
        validator=colander.OneOf(LANGUAGES),
        widget=deform.widget.SelectWidget(values=LANGUAGE_TITLES),
    )
    exclude_from_nav = colander.SchemaNode(
        colander.Boolean(),
        title=_('Leave out of the navigation'),
        missing=False,
    )


def body_node():
    return colander.SchemaNode(
        colander.String(),
        title=_('Body'),
        description=_('Markdown: ## for headings, - for lists, [text](address) for links.'),
        missing='',
        validator=colander.Length(max=200_000),
        widget=deform.widget.TextAreaWidget(rows=16),
    )
