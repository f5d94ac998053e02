"""Revisions of content items: who changed what and when, the differences, and going back.

Every :class:`portal.events.ObjectModified` (an edit form, a revert, any other change that sends it) adds a
revision to the item's :class:`History`: the time, the acting login, the names of the fields that changed
and a snapshot of the values of all of the type's fields after the change.  Before the first recorded
edit of an item, :func:`baseline` keeps the values it had, so the first edit can be compared too.  A
revert applies an old snapshot through the item's own ``update`` and so is itself a new revision.  A
workflow transition (:class:`portal.events.StateChanged`) is a revision too, naming the transition and
keeping the comment the person gave with it, so the review of an item reads in its history.

The history is a persistent object of its own hanging from the item (``item.history``), so showing or
editing an item does not load its past.
"""

import datetime
import difflib
import html
import re

import nh3
from persistent import Persistent
from persistent.list import PersistentList
from pyramid.threadlocal import get_current_request

from portal.events import ObjectAdded, ObjectModified, StateChanged
from portal.i18n import _
from portal.resources.base import render_markdown

#: A request attribute a view sets to describe the revision its change makes (a revert).
NOTE_ATTRIBUTE = 'portal_revision_note'


class History(Persistent):
    """The revisions of one item, oldest first, numbered from 1."""

    def __init__(self):
        self.revisions = PersistentList()

    def __len__(self):
        return len(self.revisions)

    def add(self, values, fields, actor, note='', when=None, transition=None, comment=''):
        """Add a revision; a state change gives the ``transition``'s name and the person's ``comment``
        (revisions stored before comments existed have neither key)."""
        revision = {
            'number': len(self.revisions) + 1,
            'time': when or datetime.datetime.now(datetime.UTC),
            'actor': actor or '',
            'fields': tuple(fields),
            'values': dict(values),
            'note': note,
        }
        if transition:
            revision['transition'] = transition
            revision['comment'] = comment
        self.revisions.append(revision)
        return revision

    def last_transition(self, name):
        """The newest revision made by the transition called ``name``, or None."""
        return next((rev for rev in reversed(self.revisions) if rev.get('transition') == name), None)

    def get(self, number):
        if isinstance(number, int) and 1 <= number <= len(self.revisions):
            return self.revisions[number - 1]
        return None

    def newest_first(self):
        return list(reversed(self.revisions))


def snapshot(item, registry):
    """The values of every field of the item's type, in the item's own language."""
    names = registry.content_types.of(item).field_names()
    return item.field_values(names)


def history_of(item, create=False):
    history = getattr(item, 'history', None)
    if history is None and create:
        history = item.history = History()
    return history


def baseline(item, registry):
    """Keep the item's values as revision 1 when it has no history yet (call before changing it)."""
    history = history_of(item, create=True)
    if not len(history):
        history.add(snapshot(item, registry), (), item.creator, note='initial', when=item.modified)
    return history


def item_added(event):
    request = get_current_request()
    if request is None:
        return  # the content files loaded at start-up get their first revision when first edited
    registry = request.registry
    if registry.content_types.get(event.item.type_name) is None:
        return
    history = history_of(event.item, create=True)
    if not len(history):
        history.add(snapshot(event.item, registry), (), request.authenticated_userid, note='created')


def item_modified(event):
    request = get_current_request()
    registry = request.registry if request is not None else None
    if registry is None or registry.content_types.get(event.item.type_name) is None:
        return
    history = history_of(event.item, create=True)
    note = getattr(request, NOTE_ATTRIBUTE, '')
    history.add(snapshot(event.item, registry), event.fields, request.authenticated_userid, note=note)


#: Fields written in Markdown: a diff compares the text a reader sees, not the markup.
MARKDOWN_FIELDS = ('body',)


def item_state_changed(event):
    """A state change is a revision of its own, with the transition and the person's comment."""
    request = get_current_request()
    registry = request.registry if request is not None else None
    if registry is None or registry.content_types.get(event.item.type_name) is None:
        return
    history = baseline(event.item, registry)
    history.add(
        snapshot(event.item, registry),
        (),
        request.authenticated_userid,
        transition=event.transition,
        comment=event.comment,
    )


#: The notes the portal stores with a revision, as a reader is told them: ``(pattern, message)``; the
#: pattern's named groups fill the message.
NOTES = (
    (re.compile(r'initial'), _('first saved version')),
    (re.compile(r'created'), _('created')),
    (re.compile(r'import'), _('imported from a file')),
    (re.compile(r'working copy'), _('working copy')),
    (re.compile(r'settings'), _('settings changed')),
    (re.compile(r'revert to (?P<n>[0-9]+)'), _('reverted to revision ${n}')),
    (re.compile(r'step (?P<step>.+)'), _('step ${step} changed')),
    (re.compile(r'status (?P<status>[a-z_]+): (?P<steps>.*)'), _('status ${status}: ${steps}')),
)


def note_message(note):
    """A stored revision note as a translation string (a note of no known form is shown as it is)."""
    from portal.resources.workspace import TASK_STATUSES  # a workspace's notes name its task statuses

    for pattern, message in NOTES:
        found = pattern.fullmatch(note or '')
        if found:
            mapping = found.groupdict()
            if 'status' in mapping:
                mapping['status'] = dict(TASK_STATUSES).get(mapping['status'], mapping['status'])
            return _(message, mapping=mapping)
    return note


def _as_text(value):
    """A value as words to compare: lists one entry a line, mappings (a workspace's steps) as
    ``key: value`` pairs, so a diff shows which step and field changed rather than Python's repr."""
    if value is None:
        return ''
    if isinstance(value, dict):
        return '; '.join(f'{key}: {_as_text(item)}' for key, item in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return '\n'.join(_as_text(v) for v in value)
    return str(value)


def rendered_text(source):
    """The text a reader sees of Markdown ``source``: rendered as the page renders it, markup dropped."""
    return html.unescape(nh3.clean(render_markdown(source), tags=set()))


def words(text):
    """The words of a text, whatever its line endings and however its lines are wrapped."""
    return text.split()


def diff_values(old, new):
    """For each field that differs: ``(field, segments)``, a segment being ``(op, text)`` with op one of
    ``'same'``, ``'del'``, ``'ins'``.  Words are compared, so a sentence edited in a paragraph marks that
    sentence only, a change of line endings or line wrapping is no change, and a template can mark the
    segments up safely; Markdown fields are compared as the reader sees them (:func:`rendered_text`), or
    by their source when only the markup changed."""
    changes = []
    for field in new:
        before, after = _as_text(old.get(field)), _as_text(new.get(field))
        a, b = words(before), words(after)
        if field in MARKDOWN_FIELDS:
            shown_a, shown_b = words(rendered_text(before)), words(rendered_text(after))
            if shown_a != shown_b:  # else only markup changed (a link's address): compare the source
                a, b = shown_a, shown_b
        if a == b:
            continue
        segments = []
        for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
            if op == 'equal':
                segments.append(('same', ' '.join(a[i1:i2])))
                continue
            if op in ('delete', 'replace'):
                segments.append(('del', ' '.join(a[i1:i2])))
            if op in ('insert', 'replace'):
                segments.append(('ins', ' '.join(b[j1:j2])))
        changes.append((field, segments))
    return changes


def includeme(config):
    config.add_subscriber(item_added, ObjectAdded)
    config.add_subscriber(item_modified, ObjectModified)
    config.add_subscriber(item_state_changed, StateChanged)
