"""A plugin for the tests: it joins the site only through the portal's directives, never by editing a
portal list, and proves that a plugin can add a catalog index with its index view, an evolve step and an
audit action, and a content type with a site search section of its own.  Included by ``pyramid.includes``
in :mod:`test_directives`."""

from pyramid.i18n import TranslationStringFactory
from pyramid.threadlocal import get_current_request
from pyramid.traversal import resource_path

from portal.events import ObjectAdded
from portal.forms import ItemSchema
from portal.resources import Item

_ = TranslationStringFactory('sample_plugin')

INDEX = 'sample_initial'
STEP = 'sample_plugin.count_runs'
ACTION = 'sample.page-noted'
RUNS_KEY = 'sample_plugin_runs'


class Note(Item):
    """The plugin's own content type, found by site search in a section of its own."""

    type_name = 'SampleNote'
    translatable = ('title', 'description', 'body', 'minutes')
    #: The plugin's own field joins the full text: the type says so, the catalog has no list of fields.
    text_fields = translatable


def initial_view(item, default):
    """The folded first letter of a page's title."""
    from portal.catalog import fold

    title = fold(item.text('title'))
    return title[:1] or default


def count_runs(root, registry):
    """Count how many times the sample plugin's evolve step ran on this database."""
    root[RUNS_KEY] = root.get(RUNS_KEY, 0) + 1


def note_page(event):
    """Record in the audit log that a page was added through a request."""
    from portal.audit import record

    request = get_current_request()
    if request is not None and event.item.type_name == 'Page':
        record(request, ACTION, resource_path(event.item))


def includeme(config):
    config.add_content_type(
        Note,
        title=_('Sample note'),
        schema=ItemSchema,
        addable_to=('Folder',),
        search_section=('note', _('Sample notes')),
    )
    config.add_catalog_index(INDEX, 'field')
    config.add_index_view(INDEX, 'Page', initial_view)
    config.add_evolve_step(STEP, count_runs, after='portal.step0004_workspaces')
    config.add_audit_action(ACTION, _('Sample plugin noted a page'))
    config.add_subscriber(note_page, ObjectAdded)
