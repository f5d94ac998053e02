"""The portal's own index views: what each index holds of an item of any type.

The views are declared in :func:`includeme` with ``config.add_index_view``; a content type declares the
views of its own indexes in its module (``portal.resources.venue``), and a plugin the views of its own.
The full-text views index the fields an item's type lists in ``text_fields`` (the title
``TITLE_WEIGHT`` times and the description ``DESCRIPTION_WEIGHT`` times, so that a page whose title or
description answers a search ranks first), in the item's own language the attributes it lists in
``text_attributes``, and in every language the words of its choice values
(:mod:`portal.catalog.vocabulary`).
"""

from pyramid.authorization import ACLHelper, Everyone
from pyramid.location import lineage
from pyramid.traversal import resource_path

from portal.catalog.text import fold
from portal.catalog.vocabulary import words_for
from portal.i18n import LANGUAGES
from portal.security.principals import role_principal

_acl_helper = ACLHelper()


def content_type_view(item, default):
    return item.type_name


def path_view(item, default):
    """Every path from the site down to the item, so that a query for a path finds what is below."""
    path = resource_path(item)
    parts = path.strip('/').split('/')
    return ['/'] + ['/' + '/'.join(parts[: i + 1]) for i in range(len(parts))]


def state_view(item, default):
    return item.state


def allowed_view(item, default):
    """The principals that the ACLs of the item and its parents let view it, and the users and groups
    that hold, on the item or a folder above it, a local role the ACLs let view it: an Editor of one
    folder finds its private items in a search, an Editor elsewhere does not."""
    allowed = set(_acl_helper.principals_allowed_by_permission(item, 'view'))
    holders = set()
    for location in lineage(item):
        for principal, roles in (getattr(location, 'local_roles', None) or {}).items():
            if any(role_principal(role) in allowed for role in roles):
                holders.add(principal)
    return sorted(allowed | holders)


def public_view(item, default):
    """For an item that anyone may view: its content type, and its content type with the top-level
    section it is in (``Venue:/venues``).  A query by an anonymous visitor for a type (in a section) reads
    one set of this index instead of intersecting ``allowed``, ``content_type`` and ``path``."""
    if Everyone not in _acl_helper.principals_allowed_by_permission(item, 'view'):
        return default
    return [item.type_name, f'{item.type_name}:{_section(item)}']


def _section(item):
    path = resource_path(item)
    return '/' + path.strip('/').split('/', 1)[0]


def title_view(item, default):
    return fold(item.text('title')) or default


#: How many times a title and a description count in the text indexes.
TITLE_WEIGHT = 5
DESCRIPTION_WEIGHT = 2
_FIELD_WEIGHTS = {'title': TITLE_WEIGHT, 'description': DESCRIPTION_WEIGHT}


def _text_view(language):
    def view(item, default):
        texts = item.texts.get(language) or {}
        parts = []
        for name in item.text_fields if texts else ():
            value = texts.get(name)
            if isinstance(value, str):
                parts += [value] * _FIELD_WEIGHTS.get(name, 1)
            elif value:
                parts.extend(value)
        if texts and language == item.language:
            parts += [getattr(item, name, '') for name in item.text_attributes]
        parts.append(words_for(item, language))
        return ' '.join(part for part in parts if part) or default

    view.__name__ = f'text_{language}_view'
    return view


#: The text index views by language: module-level functions, one a language.
text_views = {language: _text_view(language) for language in LANGUAGES}


def language_view(item, default):
    return item.text_languages() or default


def modified_view(item, default):
    return item.modified.timestamp() if item.modified else default


#: The portal's indexes: name and kind.  Text indexes get a lexicon for their language.
INDEXES = {
    'content_type': 'field',
    'path': 'keyword',
    'state': 'field',
    'allowed': 'keyword',
    'title': 'field',
    **{f'text_{language}': 'text' for language in LANGUAGES},
    'language': 'keyword',
    'modified': 'field',
    'public': 'keyword',
}

#: The index views for every type, by index.
VIEWS = {
    'content_type': content_type_view,
    'path': path_view,
    'state': state_view,
    'allowed': allowed_view,
    'public': public_view,
    'title': title_view,
    **{f'text_{language}': view for language, view in text_views.items()},
    'language': language_view,
    'modified': modified_view,
}


def includeme(config):
    for name, kind in INDEXES.items():
        language = name.split('_', 1)[1] if kind == 'text' else None
        config.add_catalog_index(name, kind, language=language)
    for name, view in VIEWS.items():
        config.add_index_view(name, None, view)
