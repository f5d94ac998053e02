"""Venues to and from files: the columns of the catalogue's open data (``search.csv``), as CSV in either
dialect of :mod:`portal.spreadsheet` or as JSON.

An import is read, checked and then written, all or nothing: :func:`read_file` turns the file into rows,
:func:`check` validates every row through the Venue type's own schema (the one the add and edit forms use)
and reports every bad row with its line and the field's message, and only a file without a single bad row
reaches :func:`apply`.  A row names the venue it updates by its ``name`` (the name in its address), or,
without one, by its Finnish title; a row that names no existing venue adds one.  An update changes only
the fields the file has columns for, takes the history's baseline first and sends
:class:`portal.events.ObjectModified`, so the catalogue and the venue's history follow; a new venue is
added in the type's default state.  Texts are the venue's own language (Finnish), as in the content files.

Messages are translation strings: the page and the console script translate them for their reader.
"""

import json
from dataclasses import dataclass, field

import colander

from portal import spreadsheet
from portal.events import ObjectModified, notify
from portal.history import baseline
from portal.i18n import _
from portal.loader import as_cstruct
from portal.resources.base import check_name
from portal.resources.names import free_name

#: Public venue fields in the open data and in the import, in column order.
TEXT_COLUMNS = ('title', 'description', 'card_benefit', 'how_to_get_ticket', 'course_limits', 'opening_hours')
VALUE_COLUMNS = (
    'categories',
    'municipality',
    'region',
    'wellbeing_county',
    'street_address',
    'postcode',
    'latitude',
    'longitude',
    'website',
    'phone',
    'email',
    'accessibility',
    'child_tickets',
    'languages',
    'sample',
)
#: Columns an export writes that an import reads past: they follow from where and when the venue is.
READ_ONLY_COLUMNS = ('url', 'modified')
COLUMNS = ('url', 'name', *TEXT_COLUMNS, *VALUE_COLUMNS, 'modified')
#: The words a cell of a yes-or-no field may hold, in the portal's languages.
TRUE_WORDS = frozenset(('true', '1', 'yes', 'kyllä', 'ja', 'x'))
FALSE_WORDS = frozenset(('false', '0', 'no', 'ei', 'nej'))
LIST_SEPARATOR = ';'

Problem = tuple  # (line, field title or None, message): all translation strings but the line


class ImportRefused(Exception):
    """A file that cannot be imported; ``problems`` lists every reason as (line, field title, message)."""

    def __init__(self, problems):
        super().__init__(problems)
        self.problems = problems


@dataclass
class Row:
    """One venue of a file: the line it starts on, its cells by column, and what checking made of it."""

    line: int
    cells: dict
    values: dict = field(default_factory=dict)
    venue: object = None
    name: str = ''


# Reading ---------------------------------------------------------------------------------------------
def read_file(data, filename=''):
    """The rows of an uploaded file (bytes): JSON when it is named ``.json`` or starts with ``[`` or
    ``{``, CSV otherwise.  Raises :class:`ImportRefused` for a file that is not a venue file at all."""
    try:
        text = data.decode('utf-8-sig')
    except UnicodeDecodeError:
        raise ImportRefused([(None, None, _('The file is not UTF-8 text. Save it as CSV UTF-8.'))]) from None
    if filename.lower().endswith('.json') or text.lstrip()[:1] in ('[', '{'):
        return _json_rows(text)
    return _csv_rows(text)


def _check_columns(columns):
    unknown = [name for name in columns if name not in COLUMNS]
    problems = [(None, None, _('Unknown column "${column}".', mapping={'column': name})) for name in unknown]
    if 'title' not in columns:
        problems.append((None, None, _('The file has no "title" column.')))
    if problems:
        raise ImportRefused(problems)


def _csv_rows(text):
    dialect, header, rows = spreadsheet.read(text)
    if not header:
        raise ImportRefused([(None, None, _('The file is empty.'))])
    _check_columns(header)
    result = []
    for line, cells in rows:
        if len(cells) > len(header):
            raise ImportRefused([(line, None, _('The row has more cells than the file has columns.'))])
        row = dict(zip(header, cells, strict=False))
        for name in ('latitude', 'longitude'):
            if row.get(name) and dialect.decimal != '.':
                row[name] = row[name].replace(dialect.decimal, '.')
        result.append(Row(line, row))
    return result


def _json_rows(text):
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ImportRefused([(e.lineno, None, _('The file is not valid JSON.'))]) from None
    if isinstance(data, dict):
        data = data.get('items')  # the shape of search.json
    if not isinstance(data, list) or not all(isinstance(each, dict) for each in data):
        raise ImportRefused([(None, None, _('A JSON file holds a list of venues, each an object.'))])
    _check_columns(sorted({name for each in data for name in each}) or ['title'])
    return [Row(number, each) for number, each in enumerate(data, start=1)]


# Checking --------------------------------------------------------------------------------------------
def _cstruct(node, value):
    """A cell as the schema node expects it: lists split at semicolons, yes-or-no words as true/false."""
    if isinstance(value, str):
        value = value.strip()
        if value == '':
            return colander.null
        if isinstance(node.typ, colander.Set):
            value = [part.strip() for part in value.split(LIST_SEPARATOR) if part.strip()]
    if isinstance(node.typ, colander.Set) and isinstance(value, list):
        _check_choices(node, value)
        return value
    if isinstance(value, str):
        if isinstance(node.typ, colander.Boolean):
            word = value.lower()
            if word in TRUE_WORDS:
                return 'true'
            if word in FALSE_WORDS:
                return 'false'
            raise colander.Invalid(node, _('Write true or false.'))
        return value
    return as_cstruct(node, value)


def _check_choices(node, chosen):
    """Refuse a choice the field does not offer: the schema's preparer would drop it without a word."""
    offered = {value for value, _title in getattr(node.widget, 'values', None) or ()}
    unknown = [each for each in chosen if offered and each not in offered]
    if unknown:
        raise colander.Invalid(
            node,
            _('Not one of the choices: ${values}.', mapping={'values': ', '.join(map(str, unknown))}),
        )


def _messages(invalid):
    """(field title, message) of each field a colander error names."""
    found = []
    for path in invalid.paths():
        leaf = path[-1]
        title = leaf.node.title if leaf.node.name else None
        found.extend((title, message) for message in leaf.messages())
    return found


def check(folder, rows, content_type):
    """Validate every row through the type's schema and find the venue each updates; raise
    :class:`ImportRefused` with every problem of every row, or leave ``values``, ``venue`` and ``name``
    set on each row."""
    schema = content_type.make_schema()
    nodes = {node.name: node for node in schema}
    by_title = {venue.text('title', 'fi'): venue for venue in folder.values() if venue.type_name == 'Venue'}
    problems, named = [], {}
    for row in rows:
        cstruct, row_problems = {}, []
        for column, value in row.cells.items():
            if column not in nodes:
                continue
            try:
                cstruct[column] = _cstruct(nodes[column], value)
            except colander.Invalid as e:
                row_problems.extend((row.line, title, message) for title, message in _messages(e))
                cstruct[column] = colander.null
        try:
            row.values = schema.deserialize(cstruct)
        except colander.Invalid as e:
            failed = {title for _line, title, _message in row_problems}
            row_problems.extend((row.line, t, m) for t, m in _messages(e) if t not in failed)
        row_problems.extend(_find_venue(folder, row, by_title, named, content_type))
        problems.extend(row_problems)
    if problems:
        raise ImportRefused(problems)
    return rows


def _find_venue(folder, row, by_title, named, content_type):
    """Set the row's venue (None for a new one) and name; the problems of its name."""
    name = str(row.cells.get('name') or '').strip()
    if name:
        try:
            check_name(name)
        except ValueError:
            return [(row.line, None, _('"${name}" cannot be a name in an address.', mapping={'name': name}))]
        existing = folder.get(name)
        if existing is not None and existing.type_name != content_type.name:
            return [
                (row.line, None, _('The name "${name}" belongs to another item.', mapping={'name': name}))
            ]
    else:
        existing = by_title.get(row.values.get('title'))
        name = (
            existing.__name__
            if existing is not None
            else free_name(folder, row.values.get('title'), 'venue', named)
        )
    if name in named:
        return [(row.line, None, _('Line ${other} has the same venue.', mapping={'other': named[name]}))]
    named[name] = row.line
    row.venue, row.name = existing, name
    return []


# Writing ---------------------------------------------------------------------------------------------
@dataclass
class Outcome:
    added: list = field(default_factory=list)
    updated: list = field(default_factory=list)
    unchanged: list = field(default_factory=list)


def apply(folder, rows, content_type, registry, actor=None):
    """Write checked rows: update the venues they name and add the rest (see the module docstring)."""
    outcome = Outcome()
    for row in rows:
        columns = {name for name in row.cells if name in row.values}
        if row.venue is None:
            venue = content_type.create(row.values)
            venue.creator = actor
            folder.add(row.name, venue, registry=registry)
            outcome.added.append(row.name)
            continue
        baseline(row.venue, registry)
        changed = row.venue.update({name: value for name, value in row.values.items() if name in columns})
        if changed:
            notify(ObjectModified(row.venue, changed), registry)
            outcome.updated.append(row.name)
        else:
            outcome.unchanged.append(row.name)
    return outcome


def import_venues(folder, data, filename, content_type, registry, actor=None):
    """Read, check and write a file in one go; raises :class:`ImportRefused` before writing anything."""
    rows = check(folder, read_file(data, filename), content_type)
    return apply(folder, rows, content_type, registry, actor)


# Exporting -------------------------------------------------------------------------------------------
def venue_row(venue, url):
    """A venue's cells by column, texts in its own language: what an import reads back."""
    row = {'url': url, 'name': venue.__name__}
    for name in TEXT_COLUMNS:
        row[name] = str(venue.text(name))
    for name in VALUE_COLUMNS:
        row[name] = getattr(venue, name, None)
    row['modified'] = venue.modified.isoformat() if venue.modified else None
    return row


def as_json(rows):
    return json.dumps(
        [{name: list(v) if isinstance(v, tuple) else v for name, v in row.items()} for row in rows],
        ensure_ascii=False,
        indent=1,
    )


def as_csv(rows, dialect):
    writer = spreadsheet.Writer(dialect, places=6)
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_cell(row[name]) for name in COLUMNS])
    return writer.getvalue()


def _cell(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (tuple, list)):
        return f'{LIST_SEPARATOR} '.join(str(each) for each in value)
    return value
