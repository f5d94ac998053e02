"""The CSV dialects: the Finnish spreadsheet's (semicolon, decimal comma, BOM) and the plain one."""

import csv
import io

import pytest


def _module():
    from portal import spreadsheet

    return spreadsheet


def _parse(text, delimiter):
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


class TestDialectFor:
    def test_finnish_and_swedish_readers_get_semicolons_and_decimal_commas(self):
        m = _module()
        for lang in ('fi', 'sv'):
            dialect = m.dialect_for(None, lang)
            assert (dialect.delimiter, dialect.decimal, dialect.bom) == (';', ',', True)

    def test_english_readers_get_commas_and_a_bom(self):
        dialect = _module().dialect_for('spreadsheet', 'en')
        assert (dialect.delimiter, dialect.decimal, dialect.bom) == (',', '.', True)

    def test_plain_is_for_machines_whatever_the_language(self):
        dialect = _module().dialect_for('plain', 'fi')
        assert (dialect.delimiter, dialect.decimal, dialect.bom) == (',', '.', False)

    def test_an_unknown_dialect_is_none(self):
        assert _module().dialect_for('excel', 'fi') is None


class TestWriter:
    def test_finnish_file_parses_back_with_semicolons_and_decimal_commas(self):
        m = _module()
        writer = m.Writer(m.dialect_for(None, 'fi'))
        writer.writerow(['Luku', 'Arvo'])
        writer.writerow(['Käyttökertoja', 5187.3])
        writer.writerow(['Kortteja', 1500])
        writer.writerow(['Tyhjä', None])
        data = writer.encode()
        assert data.startswith(b'\xef\xbb\xbf')
        rows = _parse(data.decode('utf-8-sig'), ';')
        assert rows == [['Luku', 'Arvo'], ['Käyttökertoja', '5187,3'], ['Kortteja', '1500'], ['Tyhjä', '']]

    def test_a_text_with_the_delimiter_is_quoted(self):
        m = _module()
        writer = m.Writer(m.SPREADSHEET)
        writer.writerow(['a;b', 1.5])
        assert _parse(writer.getvalue().lstrip('\ufeff'), ';') == [['a;b', '1,5']]

    def test_plain_file_has_points_and_no_bom(self):
        m = _module()
        writer = m.Writer(m.PLAIN)
        writer.writerow(['x', 0.125, 2.0, -3.456])
        text = writer.getvalue()
        assert not text.startswith('\ufeff')
        assert _parse(text, ',') == [['x', '0.13', '2', '-3.46']]

    @pytest.mark.parametrize('cell', ['=1+1', '+1', '-1', '@SUM(A1)', '\tx', '\rx'])
    def test_formulas_in_text_are_neutralised(self, cell):
        m = _module()
        writer = m.Writer(m.SPREADSHEET)
        writer.writerow([cell])
        assert _parse(writer.getvalue().lstrip('\ufeff'), ';')[0][0] == "'" + cell

    def test_negative_numbers_stay_numbers(self):
        m = _module()
        writer = m.Writer(m.SPREADSHEET)
        writer.writerow([-2.5])
        assert writer.getvalue() == '\ufeff-2,5\r\n'

    def test_rounding_is_decimal_not_binary(self):
        assert _module().format_number(2.675, ',') == '2,68'
        assert _module().format_number(-0.001, ',') == '0'


class TestRead:
    def test_reads_back_what_the_writer_wrote_in_either_dialect(self):
        m = _module()
        for dialect in (m.SPREADSHEET, m.PLAIN):
            writer = m.Writer(dialect)
            writer.writerow(['title', 'latitude'])
            writer.writerow(['=SUM(A1) museo; teatteri', 64.5])
            read_dialect, header, rows = m.read(writer.getvalue())
            assert read_dialect.delimiter == dialect.delimiter
            assert header == ['title', 'latitude']
            assert rows == [(2, ['=SUM(A1) museo; teatteri', f'64{dialect.decimal}5'])]

    def test_lines_count_blank_lines_and_cells_over_several_lines(self):
        _dialect, header, rows = _module().read('a;b\n\n"yksi\nkaksi";1\n3;4\n')
        assert header == ['a', 'b']
        assert rows == [(3, ['yksi\nkaksi', '1']), (5, ['3', '4'])]

    def test_an_apostrophe_that_guards_no_formula_is_kept(self):
        assert _module().read("a\n'kaikki\n")[2] == [(2, ["'kaikki"])]
