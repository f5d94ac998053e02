"""The content tree and the one place where content types are declared.

Each type is declared once with ``config.add_content_type(factory, title=..., schema=..., addable_to=...,
default_state=..., search_section=...)``; the type's class says which fields are translatable, which of them
the full-text indexes hold (``text_fields``) and which are lists (``list_fields``), and the type's module
declares its own catalog indexes and index views (``config.add_catalog_index``, ``config.add_index_view``).
The declaration is a Pyramid configuration action, so declaring the same type twice fails at start-up and
every type shows in the introspector.  Add and edit forms, folder listings, the
catalog and the content loader all read the declarations from :class:`ContentTypes`, which the registry
keeps as ``registry.content_types``.
"""

from dataclasses import dataclass, field

from portal.resources.base import Container, Item, Localized, check_name  # noqa: F401


@dataclass(frozen=True)
class ContentType:
    """What the site knows about one kind of content."""

    name: str
    factory: type
    title: str
    schema: type
    #: Type names of the containers that may hold it; ``*`` means any container.
    addable_to: tuple = ()
    default_state: str = 'private'
    #: ``(key, title)`` of the site search section that finds this type (``?type=key``), or None when site
    #: search leaves the type out; types that share a key share a section.
    search_section: tuple | None = None
    #: Anything else a declaration carries for the parts that read it, e.g. ``dumpable=False`` keeps a
    #: type's items (a plugin's records) out of content dumps, and ``protected=True`` marks a container
    #: the site or a plugin owns, which content management may not delete, move or rename
    #: (:meth:`ContentTypes.is_protected`).
    extra: dict = field(default_factory=dict)

    def create(self, values=None, lang=None, state=None):
        """A new item of this type with validated ``values`` applied and the default state."""
        item = self.factory()
        item.state = state or self.default_state
        if values:
            item.update(values, lang)
        return item

    def make_schema(self, **kw):
        return self.schema(**kw)

    def field_names(self):
        return [node.name for node in self.schema().children]

    def addable_in(self, container_type):
        return '*' in self.addable_to or container_type in self.addable_to

    def offered_in(self, container_type):
        """Whether a person may add an item of this type to a container of ``container_type`` (the add
        menu and the add form): where it is addable, unless the site or a plugin owns its items
        (``protected=True``), since content management could then never delete what it added.  The
        loader still puts an owned container where its declaration allows."""
        return self.addable_in(container_type) and not self.extra.get('protected')


class ContentTypes:
    """The declared content types by name."""

    def __init__(self):
        self._types = {}

    def add(self, content_type):
        self._types[content_type.name] = content_type

    def __getitem__(self, name):
        return self._types[name]

    def get(self, name):
        return self._types.get(name)

    def __contains__(self, name):
        return name in self._types

    def __iter__(self):
        return iter(self._types.values())

    def of(self, item):
        """The declaration of an item's type."""
        return self._types[item.type_name]

    def is_protected(self, item):
        """Whether ``item`` is owned by the site or a plugin (declared ``protected=True``), so content
        management may not delete, move or rename it.  An item of a type no part declares (its plugin
        left out of the configuration) is its absent owner's, and protected too."""
        declared = self._types.get(item.type_name)
        return declared is None or bool(declared.extra.get('protected'))

    def addable_to(self, container):
        """The types that may be added to ``container``."""
        return [ct for ct in self if container.is_container and ct.addable_in(container.type_name)]

    def offered_in(self, container):
        """The types a person may add to ``container`` (:meth:`ContentType.offered_in`)."""
        return [ct for ct in self.addable_to(container) if ct.offered_in(container.type_name)]

    def search_sections(self):
        """Site search's sections in the order their first type was declared: ``{key: (title, type
        names)}``."""
        sections = {}
        for ct in self:
            if ct.search_section:
                key, title = ct.search_section
                sections.setdefault(key, (title, []))[1].append(ct.name)
        return {key: (title, tuple(names)) for key, (title, names) in sections.items()}


def add_content_type(
    config, factory, title, schema, addable_to=(), default_state='private', search_section=None, **extra
):
    """Configurator directive: declare a content type (see the module docstring)."""
    name = factory.type_name
    if not name:
        raise ValueError(f'{factory!r} has no type_name')
    content_type = ContentType(
        name=name,
        factory=factory,
        title=title,
        schema=schema,
        addable_to=tuple(addable_to),
        default_state=default_state,
        search_section=tuple(search_section) if search_section else None,
        extra=extra,
    )
    intr = config.introspectable('content types', name, name, 'content type')
    intr['factory'] = factory
    intr['addable_to'] = content_type.addable_to
    intr['default_state'] = default_state

    def register():
        config.registry.content_types.add(content_type)

    config.action(('portal.content_type', name), register, introspectables=(intr,))


def includeme(config):
    from portal.catalog import add_directives

    add_directives(config)  # each type declares its own catalog indexes and index views
    config.registry.content_types = ContentTypes()
    config.add_directive('add_content_type', add_content_type)
    for module in ('site', 'folder', 'page', 'venue', 'material', 'guide', 'estimate', 'workspace'):
        config.include(f'portal.resources.{module}')
