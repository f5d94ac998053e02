"""CSV files that open right in the reader's spreadsheet, and CSV for machines.

Finnish (and Swedish) Excel reads a ``.csv`` file with the separators of the computer's locale: the list
separator is a semicolon and the decimal separator a comma.  A file written with commas opens as one column,
and ``9.1`` becomes a date.  So a download for people comes in the *spreadsheet dialect* of the reader's
language by default: semicolons, decimal commas, UTF-8 with a byte-order mark (without it Excel guesses
a legacy code page and breaks ä and ö).  A program asks for the *plain dialect* (``?dialect=plain``):
commas, decimal points, no byte-order mark.

Every text cell that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, a tab or a carriage
return first) gets a leading apostrophe, so a file made from what people typed cannot run code when opened.
Numbers are written by the writer itself, never as text, so a negative number stays a number.

The caller translates the header and the labels; this module only knows separators.
"""

import csv
import io
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

#: Cells a spreadsheet would take for a formula; they get a leading apostrophe.
FORMULA_PREFIXES = ('=', '+', '-', '@', '\t', '\r')
BOM = '\ufeff'


@dataclass(frozen=True)
class Dialect:
    """How one kind of reader wants its CSV: separators and whether a byte-order mark leads the file."""

    name: str
    delimiter: str
    decimal: str
    bom: bool


SPREADSHEET = Dialect('spreadsheet', ';', ',', True)
PLAIN = Dialect('plain', ',', '.', False)
DIALECTS = {SPREADSHEET.name: SPREADSHEET, PLAIN.name: PLAIN}
#: The languages whose spreadsheets use a decimal comma (all the portal's languages but English).
DECIMAL_COMMA_LANGUAGES = ('fi', 'sv')


def dialect_for(name, lang):
    """The dialect a request asks for: ``plain`` for machines, else the spreadsheet dialect of ``lang``.

    English spreadsheets read commas and decimal points, so for them the spreadsheet dialect is the plain
    one with a byte-order mark.  An unknown name is None, for the caller to answer 400.
    """
    if name in (None, '', SPREADSHEET.name):
        if lang in DECIMAL_COMMA_LANGUAGES:
            return SPREADSHEET
        return Dialect(SPREADSHEET.name, ',', '.', True)
    return DIALECTS.get(name)


def neutralise(text):
    """A text cell that a spreadsheet will not run as a formula."""
    text = str(text)
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text


def format_number(value, decimal_separator='.', places=2):
    """``value`` with at most ``places`` decimals, no trailing zeros, no thousands separator."""
    if value is None:
        return ''
    if isinstance(value, bool):
        raise TypeError('a truth value is not a number')
    if isinstance(value, int):
        return str(value)
    quantised = Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = format(quantised, 'f')
    if '.' in text:
        text = text.rstrip('0').rstrip('.')
    if text in ('-0', ''):
        text = '0'
    return text.replace('.', decimal_separator)


class Writer:
    """Writes rows in one dialect: numbers with its decimal separator, text neutralised.

    A cell that is an ``int`` or a ``float`` is a number, None is an empty cell, anything else is text.
    """

    def __init__(self, dialect, places=2):
        self.dialect = dialect
        self.places = places
        self.stream = io.StringIO()
        self.writer = csv.writer(self.stream, delimiter=dialect.delimiter, lineterminator='\r\n')

    def cell(self, value):
        if value is None:
            return ''
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return format_number(value, self.dialect.decimal, self.places)
        return neutralise(value)

    def writerow(self, row):
        self.writer.writerow([self.cell(value) for value in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)

    def getvalue(self):
        """The file's text, with the byte-order mark if the dialect wants one."""
        return (BOM if self.dialect.bom else '') + self.stream.getvalue()

    def encode(self):
        return self.getvalue().encode('utf-8')


def restore(text):
    """A text cell as it was before :func:`neutralise` (the apostrophe in front of a formula dropped)."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_PREFIXES) else text


def read(text):
    """The dialect of a CSV file and its rows: ``(dialect, header, [(line, cells), ...])``.

    Reads what :class:`Writer` writes in either dialect, and what a spreadsheet saves: the dialect is the
    one whose separator the header line holds more of (a decimal comma is taken as a separator only in the
    semicolon dialect), a leading byte-order mark is dropped, cells are :func:`restore`d and blank lines
    skipped.  ``line`` is the line of the file the row starts on, counted from 1, for messages.
    """
    text = text.removeprefix(BOM)
    first = text.split('\n', 1)[0]
    dialect = SPREADSHEET if first.count(';') > first.count(',') else PLAIN
    reader = csv.reader(io.StringIO(text, newline=''), delimiter=dialect.delimiter)
    header, rows, line = None, [], 1
    for cells in reader:
        if any(cell.strip() for cell in cells):
            if header is None:
                header = [cell.strip() for cell in cells]
            else:
                rows.append((line, [restore(cell) for cell in cells]))
        line = reader.line_num + 1
    return dialect, header or [], rows
