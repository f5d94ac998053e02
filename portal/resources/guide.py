"""Onboarding guides: an ordered series of steps, each with who does it and a checklist."""

import colander
import deform.widget

from portal.forms import ItemSchema, body_node, choices_node
from portal.i18n import _
from portal.resources.base import Container, Item

ACTORS = (
    ('culture', _('Municipality, culture side')),
    ('sote_hyte', _('Social, health and wellbeing side')),
    ('kaikukeskus', _('Kaikukeskus')),
    ('partners', _('Partners')),
)


class Guide(Container):
    """A guide; its children are its steps, in order."""

    type_name = 'Guide'

    def steps(self):
        return [item for item in self.values() if item.type_name == 'Step']


class Step(Item):
    type_name = 'Step'
    translatable = ('title', 'description', 'body', 'checklist')
    list_fields = ('checklist',)
    text_fields = translatable
    who = ()

    @property
    def number(self):
        """The step's position in its guide, from 1."""
        guide = self.__parent__
        if guide is None:
            return None
        return guide.keys().index(self.__name__) + 1


class ChecklistSchema(colander.SequenceSchema):
    item = colander.SchemaNode(
        colander.String(), title=_('Checklist item'), validator=colander.Length(min=1, max=300)
    )


class GuideSchema(ItemSchema):
    body = body_node()


class StepSchema(ItemSchema):
    body = body_node()
    who = choices_node(ACTORS, _('Who does it'), min_len=1)
    checklist = ChecklistSchema(
        title=_('Checklist'),
        missing=(),
        widget=deform.widget.SequenceWidget(orderable=True),
    )


def includeme(config):
    guides = ('guide', _('Guides'))
    config.add_content_type(
        Guide, title=_('Guide'), schema=GuideSchema, addable_to=('Folder',), search_section=guides
    )
    config.add_content_type(
        Step, title=_('Step'), schema=StepSchema, addable_to=('Guide',), search_section=guides
    )
