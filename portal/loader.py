# Over 400 lines: loading and dumping read and write one format, together so they stay byte-identical.
"""Content files and the site in ZODB, both ways.

The initial content is kept in ``content/`` as plain files that people can edit:

- every item is a Markdown file with a YAML header between two ``---`` lines; the file's stem is the
  item's name in the URL and the header's ``type`` names its declared content type;
- a directory is a container, and its own header and text are in ``_index.md`` inside it (the site's home
  page is ``content/_index.md``);
- ``name.sv.md`` and ``name.en.md`` hold the translations of the fields the type marks translatable;
- a file field (``file: leaflet.pdf``) names a file beside the Markdown file.

:class:`Loader` adds what the files hold and the site lacks, and never touches an item that already
exists, so starting the site again or loading again never overwrites what editors changed.  Every value
passes the type's own schema; a damaged or unreadable file is reported with its path and the rest still
loads.  :class:`Dumper` writes the site back in the same format, and loading then dumping gives the same
files again.
"""

import os
import re
from dataclasses import dataclass, field

import colander
import yaml

from portal.events import ObjectModified, notify
from portal.i18n import LANGUAGES
from portal.resources.base import check_name
from portal.resources.files import StoredFile
from portal.workflow import PUBLISHED, STATES

INDEX = '_index'
SKIP_FILES = {'README.md'}
FRONT_MATTER = re.compile(r'\A---[ \t]*\n(.*?\n)?---[ \t]*\n?(.*)\Z', re.DOTALL)
TRANSLATION = re.compile(r'^(?P<stem>.+)\.(?P<lang>[a-z]{2})\.md$')
#: Header keys that are not schema fields.
CONTROL_KEYS = ('type', 'state', 'order')
MAX_FILE_BYTES = 50 * 1024 * 1024


class ContentError(Exception):
    """A content file that cannot be loaded; the message says why."""


@dataclass
class Report:
    added: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    problems: list = field(default_factory=list)


def parse(text):
    """Split a content file into its header mapping and its Markdown body."""
    match = FRONT_MATTER.match(text.replace('\r\n', '\n'))
    if not match:
        raise ContentError('no header: the file must start with a line of three dashes (---)')
    try:
        header = yaml.load(match.group(1) or '', Loader=SAFE_LOADER) or {}  # noqa: S506 - a safe loader
    except yaml.YAMLError as e:
        raise ContentError(f'the header is not valid YAML: {e}') from e
    if not isinstance(header, dict):
        raise ContentError('the header must be a mapping of names to values')
    return header, match.group(2).strip()


#: libyaml's safe loader where PyYAML was built with it (about ten times faster than the pure-Python one,
#: which took a third of loading the initial content), the same rules either way.
SAFE_LOADER = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)


class _HeaderDumper(yaml.SafeDumper):
    """Indents block lists under their key, as people write them."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


def _short_list(value):
    return all(isinstance(v, (int, float)) or (isinstance(v, str) and len(v) <= 40) for v in value)


def format_header(header):
    """YAML for a header: one line a value, short lists inline, long ones one item a line."""
    lines = []
    for key, value in header.items():
        if isinstance(value, list) and _short_list(value):
            inline = yaml.dump(
                value, Dumper=_HeaderDumper, allow_unicode=True, default_flow_style=True, width=float('inf')
            )
            lines.append(f'{key}: {inline.strip()}\n')
        else:
            lines.append(
                yaml.dump({key: value}, Dumper=_HeaderDumper, allow_unicode=True, width=float('inf'))
            )
    return ''.join(line.removesuffix('...\n') for line in lines)


def format_file(header, body):
    """The text of a content file, the inverse of :func:`parse`."""
    text = f'---\n{format_header(header)}---\n'
    if body:
        text += f'{body.strip()}\n'
    return text


def as_cstruct(node, value):
    """Turn YAML scalars into what colander expects (strings for String nodes)."""
    if value is None:
        return colander.null
    if isinstance(node.typ, colander.String) and isinstance(value, (int, float)):
        return str(value)
    if isinstance(node.typ, colander.Boolean) and isinstance(value, bool):
        return 'true' if value else 'false'
    return value


def _invalid_message(error):
    return '; '.join(f'{name or "value"}: {message}' for name, message in error.asdict().items())


class Loader:
    """Adds the items described by a content directory to a site (see the module docstring)."""

    def __init__(self, registry):
        self.types = registry.content_types

    def load(self, site, directory):
        report = Report()
        if not os.path.isdir(directory):
            report.problems.append(f'{directory}: no such directory')
            return report
        self._load_container(site, directory, report, is_new=not site.texts)
        return report

    def load_entry(self, site, directory, name):
        """Add only what the file or directory ``name`` of the content directory holds and the site lacks
        (an evolve step uses it to add one new part of the initial content to an existing site)."""
        report = Report()
        path = os.path.join(directory, name)
        if os.path.isdir(path):
            self._load_child_container(site, name, path, report)
        elif os.path.exists(path + '.md'):
            self._load_item(site, name, directory, report)
        else:
            report.problems.append(f'{path}: no such file or directory')
        return report

    # containers ------------------------------------------------------------------------------------
    def _load_container(self, container, directory, report, is_new, created=None):
        """Load a directory into ``container``; ``is_new`` applies its own ``_index.md`` header and
        ``created`` (by default the same) its ``order``, which a container that existed keeps."""
        created = is_new if created is None else created
        index = os.path.join(directory, INDEX + '.md')
        order = ()
        if os.path.exists(index):
            try:
                header, body = self._read(index)
                order = header.get('order') or ()
                if is_new:
                    self._apply(container, header, body, index)
                    self._load_translations(container, directory, INDEX, report)
            except ContentError as e:
                report.problems.append(f'{index}: {e}')
        entries = sorted(os.listdir(directory))
        for entry in entries:
            path = os.path.join(directory, entry)
            if os.path.isdir(path):
                self._load_child_container(container, entry, path, report)
            elif (
                entry.endswith('.md')
                and entry not in SKIP_FILES
                and not entry.startswith(INDEX)
                and not TRANSLATION.match(entry)
            ):
                self._load_item(container, entry[:-3], directory, report)
        if created:
            self._apply_order(container, order, index, report)

    def _apply_order(self, container, order, index, report):
        if not order:
            return
        if not isinstance(order, list):
            report.problems.append(f'{index}: order must be a list of names')
            return
        known = [name for name in order if isinstance(name, str) and name in container]
        missing = [str(name) for name in order if name not in known]
        if missing:
            report.problems.append(f'{index}: order names items that do not exist: {missing}')
        container.set_order(list(dict.fromkeys(known)))

    def _load_child_container(self, container, name, path, report):
        index = os.path.join(path, INDEX + '.md')
        child = container.get(name)
        if child is not None:
            if child.is_container:
                report.skipped.append(index)
                self._load_container(child, path, report, is_new=False)
            return
        if not os.path.exists(index):
            report.problems.append(f'{path}: a directory needs an {INDEX}.md file; skipped')
            return
        try:
            header, body = self._read(index)
            child = self._create(container, name, header, body, index)
        except ContentError as e:
            report.problems.append(f'{index}: {e}')
            return
        if not child.is_container:
            report.problems.append(f'{index}: type {child.type_name} cannot hold other items')
            return
        container.add(name, child)
        report.added.append(index)
        self._load_translations(child, path, INDEX, report)
        self._load_container(child, path, report, is_new=False, created=True)

    # items -----------------------------------------------------------------------------------------
    def _load_item(self, container, name, directory, report):
        path = os.path.join(directory, name + '.md')
        if name in container:
            report.skipped.append(path)
            return
        try:
            header, body = self._read(path)
            item = self._create(container, name, header, body, path)
            if item.is_container:
                raise ContentError(f'a {item.type_name} must be a directory with {INDEX}.md')
            container.add(name, item)
        except (ContentError, ValueError, KeyError) as e:
            report.problems.append(f'{path}: {e}')
            return
        report.added.append(path)
        self._load_translations(item, directory, name, report)

    def _read(self, path):
        try:
            with open(path, encoding='utf-8') as f:
                return parse(f.read())
        except UnicodeDecodeError as e:
            raise ContentError('the file is not UTF-8 text') from e
        except OSError as e:
            raise ContentError(f'cannot read the file: {e.strerror}') from e

    def _create(self, container, name, header, body, path):
        type_name = header.get('type')
        content_type = self.types.get(type_name) if isinstance(type_name, str) else None
        if content_type is None:
            raise ContentError(f'unknown type {type_name!r}')
        if not content_type.addable_in(container.type_name):
            raise ContentError(f'a {type_name} cannot be added to a {container.type_name}')
        try:
            check_name(name)
        except ValueError as e:
            raise ContentError(str(e)) from e
        item = content_type.create(state=PUBLISHED)
        self._apply(item, header, body, path)
        return item

    def _apply(self, item, header, body, path):
        """Validate the header and body with the item's schema and set them on the item."""
        if header.get('type') != item.type_name:
            raise ContentError(f'type {header.get("type")!r} does not match {item.type_name}')
        content_type = self.types.of(item)
        schema = content_type.make_schema()
        unknown = set(header) - set(CONTROL_KEYS) - {n.name for n in schema} - set(item.file_fields)
        if unknown:
            raise ContentError(f'unknown fields: {", ".join(sorted(unknown))}')
        cstruct = {n.name: as_cstruct(n, header.get(n.name)) for n in schema if n.name != 'body'}
        if 'body' in schema:
            cstruct['body'] = body or colander.null
        try:
            values = schema.deserialize(cstruct)
        except colander.Invalid as e:
            raise ContentError(_invalid_message(e)) from e
        state = header.get('state', PUBLISHED)
        if state not in dict(STATES):
            raise ContentError(f'unknown state {state!r}')
        files = {name: self._read_file(path, header[name]) for name in item.file_fields if header.get(name)}
        item.update(values)
        item.state = state
        for name, stored in files.items():
            setattr(item, name, stored)

    def _read_file(self, path, filename):
        if (
            not isinstance(filename, str)
            or os.path.basename(filename) != filename
            or filename.startswith('.')
        ):
            raise ContentError(f'a file must be named by its bare name beside the content file: {filename!r}')
        full = os.path.join(os.path.dirname(path), filename)
        try:
            if os.path.getsize(full) > MAX_FILE_BYTES:
                raise ContentError(f'{filename} is larger than {MAX_FILE_BYTES} bytes')
            with open(full, 'rb') as f:
                return StoredFile(f.read(), filename)
        except OSError as e:
            raise ContentError(f'cannot read {filename}: {e.strerror}') from e

    def _load_translations(self, item, directory, stem, report):
        content_type = self.types.of(item)
        schema = content_type.make_schema()
        for lang in LANGUAGES:
            path = os.path.join(directory, f'{stem}.{lang}.md')
            if lang == item.language or not os.path.exists(path):
                continue
            try:
                header, body = self._read(path)
                changed = item.set_texts(lang, self._translation_values(schema, item, header, body))
                if changed:
                    notify(ObjectModified(item, changed))
            except ContentError as e:
                report.problems.append(f'{path}: {e}')

    def _translation_values(self, schema, item, header, body):
        allowed = [n for n in schema if n.name in item.translatable]
        unknown = set(header) - {n.name for n in allowed}
        if unknown:
            raise ContentError(
                f'a translation holds only translated fields, not: {", ".join(sorted(unknown))}'
            )
        sub = colander.SchemaNode(colander.Mapping())
        for node in allowed:
            sub.add(node.clone())
        cstruct = {n.name: as_cstruct(n, header.get(n.name)) for n in allowed if n.name != 'body'}
        if 'body' in item.translatable:
            cstruct['body'] = body or colander.null
        try:
            return sub.deserialize(cstruct)
        except colander.Invalid as e:
            raise ContentError(_invalid_message(e)) from e


class Dumper:
    """Writes a site into a content directory in the format :class:`Loader` reads."""

    def __init__(self, registry):
        self.types = registry.content_types

    def dump(self, site, directory):
        written = []
        self._dump_container(site, directory, written)
        return written

    def _dumpable(self, item):
        return self.types.of(item).extra.get('dumpable', True)

    def _dump_container(self, container, directory, written):
        os.makedirs(directory, exist_ok=True)
        self._dump_item(container, directory, INDEX, written)
        for name, child in container.items():
            if not self._dumpable(child):
                continue
            if child.is_container:
                self._dump_container(child, os.path.join(directory, name), written)
            else:
                self._dump_item(child, directory, name, written)

    def _dump_item(self, item, directory, stem, written):
        content_type = self.types.of(item)
        schema = content_type.make_schema()
        values = item.field_values([n.name for n in schema])
        header = {'type': item.type_name}
        for node in schema:
            if node.name == 'body':
                continue
            value = values.get(node.name)
            if _is_default(node, value):
                continue
            header[node.name] = list(value) if isinstance(value, (tuple, set, frozenset)) else value
        if item.state != PUBLISHED:
            header['state'] = item.state
        for name in item.file_fields:
            stored = getattr(item, name, None)
            if stored is not None:
                header[name] = stored.filename
                self._write(os.path.join(directory, stored.filename), stored.read(), written)
        if item.is_container and item.order:
            header['order'] = [name for name in item.order if self._dumpable(item[name])]
        body = values.get('body') or ''
        self._write(os.path.join(directory, f'{stem}.md'), format_file(header, body), written)
        for lang in item.text_languages():
            if lang == item.language:
                continue
            texts = item.texts[lang]
            translated = {}
            for node in schema:
                value = texts.get(node.name)
                if node.name != 'body' and node.name in item.translatable and value:
                    translated[node.name] = list(value) if isinstance(value, tuple) else value
            path = os.path.join(directory, f'{stem}.{lang}.md')
            self._write(path, format_file(translated, texts.get('body') or ''), written)

    def _write(self, path, data, written):
        mode = 'wb' if isinstance(data, bytes) else 'w'
        with open(path, mode, **({} if mode == 'wb' else {'encoding': 'utf-8'})) as f:
            f.write(data)
        written.append(path)


def _is_default(node, value):
    if value in (None, '', (), []):
        return True
    missing = node.missing
    if missing is colander.required or missing is colander.null:
        return False
    return value == missing
