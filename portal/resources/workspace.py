# Over 400 lines: the workspace, its steps and checklist items are one content type with their schemas.
"""Onboarding workspaces: one municipality's progress through an onboarding guide.

A :class:`Workspace` belongs to one municipality.  It keeps the municipality's status (considering,
preparing a pilot, pilot, permanent, paused), the working pair (the culture-side and the sote/hyte-side
persons, by title and work contact only, never private data) and a checklist copied from a
:class:`portal.resources.guide.Guide`: one entry a step, each with its checklist items, and every step and
item with a status, an owner, a due date and notes.  The copy remembers the guide step's name, so the page
shows the guide's current title in the reader's language and falls back to the text copied in when the
guide no longer has the step.

Workspaces live in a :class:`Workspaces` folder (``/tyotilat``).  Who may do what is decided here, in the
workspace's ACL, not by the site-wide roles: Administrators, and holders of the ``WorkspaceCoordinator``
role *on this workspace* (a local role given through the sharing view), see and edit it; everyone else is
denied, Editors and Publishers included, because the checklist is a municipality's working data.  The
role grants nothing site-wide, so holding it anywhere else gives no other rights.  The workflow state says
whether the public summary (status and progress, no notes, owners or contacts) is published.

Progress counts steps: ``n of m`` where ``n`` is the steps done and ``m`` the steps that are not marked
"not needed" (as Plone's checklists do, a step the municipality decided to skip is neither done nor left).
A step is overdue when its due date has passed and it is neither done nor not needed.

Other parts add figures to the workspace page (the card registry's live counts) through the
``config.add_workspace_figures(provider)`` directive: a provider is called with the workspace and today's
date and returns ``(label, value)`` pairs, or nothing when it has nothing to say.
"""

import datetime
import re
from dataclasses import dataclass

import colander
import deform.widget
from pyramid.authorization import ALL_PERMISSIONS, Allow, Authenticated, Deny, Everyone

from portal.events import ObjectAdded
from portal.forms import ItemSchema, body_node, municipality_node, text_node
from portal.i18n import _
from portal.resources.base import Item
from portal.resources.folder import Folder, FolderSchema
from portal.security import CONTENTS, HISTORY, PUBLISH, VIEW
from portal.workflow import PUBLISHED, state_acl

VIEW_WORKSPACE = 'view_workspace'  # the whole workspace: owners, due dates, notes, contacts
EDIT_WORKSPACE = 'edit_workspace'
COORDINATOR_ROLE = 'WorkspaceCoordinator'

STATUSES = (
    ('considering', _('Considering')),
    ('preparing_pilot', _('Preparing a pilot')),
    ('pilot', _('Pilot')),
    ('permanent', _('Permanent')),
    ('paused', _('Paused')),
)
NOT_STARTED, IN_PROGRESS, DONE, NOT_NEEDED = 'not_started', 'in_progress', 'done', 'not_needed'
TASK_STATUSES = (
    (NOT_STARTED, _('Not started')),
    (IN_PROGRESS, _('In progress')),
    (DONE, _('Done')),
    (NOT_NEEDED, _('Not needed')),
)
#: Statuses that close a step: it can no longer be overdue.
CLOSED = (DONE, NOT_NEEDED)
MAX_OWNER = 200
MAX_NOTES = 2000
MAX_TEXT = 300


# Progress --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Progress:
    """``done`` of ``total`` counted tasks; tasks marked "not needed" are left out of both."""

    done: int
    total: int
    not_needed: int = 0

    @property
    def percent(self):
        return round(100 * self.done / self.total) if self.total else 0


def progress_of(tasks):
    """The progress of ``tasks`` (step or item mappings with a ``status``)."""
    statuses = [task.get('status', NOT_STARTED) for task in tasks]
    not_needed = statuses.count(NOT_NEEDED)
    return Progress(statuses.count(DONE), len(statuses) - not_needed, not_needed)


def is_overdue(task, day):
    """Whether the due date of ``task`` has passed on ``day`` and it is neither done nor not needed."""
    due = task.get('due')
    return due is not None and due < day and task.get('status', NOT_STARTED) not in CLOSED


# Schema ----------------------------------------------------------------------------------------------------
DAY_RE = re.compile(r'^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})\Z|^([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})\Z')


class Day(colander.SchemaType):
    """A date written as ``2026-03-31`` or the Finnish way, ``31.3.2026``; a YAML date is taken as it is."""

    def serialize(self, node, appstruct):
        if appstruct in (colander.null, None):
            return colander.null
        return f'{appstruct.day}.{appstruct.month}.{appstruct.year}'

    def deserialize(self, node, cstruct):
        if cstruct in (colander.null, None, ''):
            return colander.null
        if isinstance(cstruct, datetime.date) and not isinstance(cstruct, datetime.datetime):
            return cstruct
        message = _('Enter a date as 31.12.2026 or 2026-12-31.')
        if not isinstance(cstruct, str) or len(cstruct) > 20:
            raise colander.Invalid(node, message)
        match = DAY_RE.match(cstruct.strip())
        if not match:
            raise colander.Invalid(node, message)
        year, month, day = match.group(1, 2, 3) if match.group(1) else match.group(6, 5, 4)
        try:
            value = datetime.date(int(year), int(month), int(day))
        except ValueError as e:
            raise colander.Invalid(node, _('There is no such day.')) from e
        if not 2000 <= value.year <= 2100:
            raise colander.Invalid(node, _('Enter a year from 2000 to 2100.'))
        return value


def status_node(vocabulary, title, default, **kw):
    return colander.SchemaNode(
        colander.String(),
        title=title,
        missing=default,
        validator=colander.OneOf(
            [value for value, _title in vocabulary], msg_err=_('Choose one of the listed values.')
        ),
        widget=deform.widget.SelectWidget(values=vocabulary),
        **kw,
    )


def task_nodes(node):
    """Status, owner, due date and notes: what a step and a checklist item both have."""
    node.add(status_node(TASK_STATUSES, _('Status'), NOT_STARTED, name='status'))
    node.add(
        colander.SchemaNode(
            colander.String(),
            name='owner',
            title=_('Owner'),
            description=_('A title or a team, not a private person.'),
            missing=colander.drop,
            validator=colander.Length(max=MAX_OWNER),
        )
    )
    node.add(
        colander.SchemaNode(
            Day(),
            name='due',
            title=_('Due date'),
            description=_('For example 31.12.2026.'),
            missing=colander.drop,
        )
    )
    node.add(
        colander.SchemaNode(
            colander.String(),
            name='notes',
            title=_('Notes'),
            missing=colander.drop,
            validator=colander.Length(max=MAX_NOTES),
            widget=deform.widget.TextAreaWidget(rows=3),
        )
    )
    return node


def copied_text_node(name, title):
    return colander.SchemaNode(
        colander.String(), name=name, title=title, validator=colander.Length(min=1, max=MAX_TEXT)
    )


def item_node(name='item'):
    node = colander.SchemaNode(colander.Mapping(unknown='raise'), name=name, title=_('Checklist item'))
    node.add(copied_text_node('text', _('Checklist item')))
    return task_nodes(node)


def step_node(name='step'):
    node = colander.SchemaNode(colander.Mapping(unknown='raise'), name=name, title=_('Step'))
    node.add(
        colander.SchemaNode(
            colander.String(),
            name='step',
            title=_('Name of the guide step'),
            validator=colander.Regex(r'^[a-z0-9][a-z0-9._-]{0,99}$'),
        )
    )
    node.add(copied_text_node('title', _('Title')))
    task_nodes(node)
    node.add(
        colander.SchemaNode(
            colander.Sequence(), item_node(), name='items', title=_('Checklist'), missing=colander.drop
        )
    )
    return node


def contact_nodes(schema):
    for side, title, contact in (
        ('culture', _('Responsible person, culture side (title)'), _('Work contact, culture side')),
        (
            'sote',
            _('Responsible person, social, health and wellbeing side (title)'),
            _('Work contact, sote side'),
        ),
    ):
        schema.add(
            text_node(
                title,
                description=_('A job title such as "cultural producer", not a name.'),
                max_len=200,
                name=f'{side}_title',
            )
        )
        schema.add(
            text_node(
                contact,
                description=_('A work e-mail address or telephone number.'),
                max_len=200,
                name=f'{side}_contact',
            )
        )
    return schema


class WorkspaceSettingsSchema(colander.MappingSchema):
    """What the workspace's settings form edits: its title, the municipality's status, the working pair and
    the text at the top of the workspace page (never shown in the public summary)."""

    title = colander.SchemaNode(
        colander.String(), title=_('Title'), validator=colander.Length(min=1, max=200)
    )
    status = status_node(STATUSES, _('Status of the municipality'), 'considering')

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        contact_nodes(self)
        self.add(body_node())


class WorkspaceSchema(ItemSchema):
    """Every field of a workspace, as the content files and the history keep them."""

    body = body_node()
    municipality = municipality_node()
    guide = text_node(
        _('Guide'),
        description=_('The path of the guide whose steps the checklist copies, such as guides/my-guide.'),
        max_len=200,
    )
    status = status_node(STATUSES, _('Status of the municipality'), 'considering')

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        contact_nodes(self)
        self.add(
            colander.SchemaNode(
                colander.Sequence(),
                step_node(),
                name='steps',
                title=_('Steps'),
                missing=(),
                validator=colander.Length(max=100),
            )
        )


def step_form_schema(step, texts=None):
    """The form of one step: its status, owner, due date and notes, and the same for each of its items
    (titled with ``texts``, the items' texts in the reader's language, or the texts copied in)."""
    schema = colander.SchemaNode(colander.Mapping())
    task_nodes(schema)
    for index, item in enumerate(step.get('items', ())):
        title = texts[index] if texts else item['text']
        node = colander.SchemaNode(colander.Mapping(), name=f'item-{index}', title=title)
        schema.add(task_nodes(node))
    return schema


# Model -----------------------------------------------------------------------------------------------------
class WorkspaceError(ValueError):
    """A change the workspace refuses: an unknown step or status."""


class Workspaces(Folder):
    """The folder of all workspaces; logged-in people reach it and see the workspaces they may view."""

    type_name = 'Workspaces'
    exclude_from_nav = True

    @property
    def __acl__(self):
        if self.state == PUBLISHED:
            return state_acl(self.state)
        return [(Allow, Authenticated, VIEW), *state_acl(self.state)]


class Workspace(Item):
    """One municipality's onboarding workspace (see the module docstring)."""

    type_name = 'Workspace'
    exclude_from_nav = True
    municipality = ''
    text_attributes = ('municipality',)
    guide = ''
    status = 'considering'
    culture_title = culture_contact = sote_title = sote_contact = ''
    steps = ()
    #: The permission the edit tab asks for, and whether the sharing view applies though it holds no items.
    edit_permission = EDIT_WORKSPACE
    shareable = True

    @property
    def __acl__(self):
        acl = [
            (Allow, 'role:Administrator', ALL_PERMISSIONS),
            (
                Allow,
                f'role:{COORDINATOR_ROLE}',
                (VIEW, VIEW_WORKSPACE, EDIT_WORKSPACE, HISTORY, CONTENTS, PUBLISH),
            ),
        ]
        if self.state == PUBLISHED:
            acl.append((Allow, Everyone, VIEW))
        return [*acl, (Deny, Everyone, ALL_PERMISSIONS)]

    def progress(self):
        return progress_of(self.steps)

    def overdue_steps(self, day):
        return [step for step in self.steps if is_overdue(step, day)]

    def step(self, name):
        for step in self.steps:
            if step['step'] == name:
                return step
        raise WorkspaceError(f'no step {name!r}')

    def copy_guide(self, guide):
        """Copy the steps of ``guide`` and their checklists in, all not started (only into an empty list)."""
        if self.steps:
            raise WorkspaceError('the workspace already has its steps')
        steps = []
        for step in guide.steps():
            items = [{'text': text, 'status': NOT_STARTED} for text in step.text('checklist', step.language)]
            entry = {
                'step': step.__name__,
                'title': str(step.text('title', step.language)),
                'status': NOT_STARTED,
            }
            if items:
                entry['items'] = items
            steps.append(entry)
        self.steps = tuple(steps)
        return self.steps

    def set_step(self, name, values):
        """Apply the validated values of a step's form (:func:`step_form_schema`); return whether it changed.

        Fields left empty are taken away, so clearing an owner or a date in the form clears it here.
        """
        old = self.step(name)
        new = {key: old[key] for key in ('step', 'title')}
        new.update(_task(values))
        items = []
        for index, item in enumerate(old.get('items', ())):
            item_values = values.get(f'item-{index}')
            items.append({'text': item['text'], **(_task(item_values) if item_values else _task(item))})
        if items:
            new['items'] = items
        if new == old:
            return False
        self.steps = tuple(new if step['step'] == name else step for step in self.steps)
        self.modified = datetime.datetime.now(datetime.UTC)
        return True

    def set_statuses(self, names, status):
        """Give the steps called ``names`` the status ``status``; return the names of those that changed."""
        if status not in dict(TASK_STATUSES):
            raise WorkspaceError(f'unknown status {status!r}')
        known = {step['step'] for step in self.steps}
        unknown = [name for name in names if name not in known]
        if unknown:
            raise WorkspaceError(f'no steps {unknown!r}')
        changed = [step['step'] for step in self.steps if step['step'] in names and step['status'] != status]
        if changed:
            self.steps = tuple(
                {**step, 'status': status} if step['step'] in changed else step for step in self.steps
            )
            self.modified = datetime.datetime.now(datetime.UTC)
        return changed

    def guide_item(self):
        """The guide the checklist was copied from (``guide`` is its path from the site root), or None."""
        return self.find_item(self.guide, 'Guide') if self.guide else None


def _task(values):
    """The status, owner, due date and notes of a step or an item, without the empty ones."""
    task = {'status': values.get('status') or NOT_STARTED}
    for key in ('owner', 'due', 'notes'):
        value = values.get(key)
        if value not in (None, '', colander.null):
            task[key] = value
    return task


def copy_guide_when_added(event):
    """A workspace added without steps (through the add form) copies its guide's steps."""
    item = event.item
    if isinstance(item, Workspace) and not item.steps:
        guide = item.guide_item()
        if guide is not None:
            item.copy_guide(guide)


# Figures from other parts --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Figure:
    """A count shown on the workspace page: its label (a translation string) and its value."""

    label: str
    value: int


class WorkspaceFigures:
    """The figure providers registered with ``config.add_workspace_figures``, in registration order."""

    def __init__(self):
        self.providers = []

    def figures(self, workspace, day):
        found = []
        for provider in self.providers:
            found.extend(Figure(label, value) for label, value in provider(workspace, day) or ())
        return found


def add_workspace_figures(config, provider):
    """Configurator directive: ``provider(workspace, today)`` returns ``(label, value)`` pairs to show."""
    name = f'{provider.__module__}.{provider.__qualname__}'
    intr = config.introspectable('workspace figures', name, name, 'workspace figures')

    def register():
        config.registry.workspace_figures.providers.append(provider)

    config.action(('portal.workspace_figures', name), register, introspectables=(intr,))


def includeme(config):
    config.registry.workspace_figures = WorkspaceFigures()
    config.add_directive('add_workspace_figures', add_workspace_figures)
    # The portal owns the workspaces folder: deleting or renaming it would take every municipality's
    # workspace, which an Editor cannot even open, along with it.
    config.add_content_type(
        Workspaces,
        title=_('Onboarding workspaces'),
        schema=FolderSchema,
        addable_to=('Site',),
        protected=True,
    )
    config.add_content_type(
        Workspace, title=_('Onboarding workspace'), schema=WorkspaceSchema, addable_to=('Workspaces',)
    )
    config.add_subscriber(copy_guide_when_added, ObjectAdded)
