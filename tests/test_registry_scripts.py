"""The kaiku-registry console commands."""

import os

import pytest

from portal.testing import TEST_PASSWORD, add_user, browser, edit_site, form_with, write_ini


@pytest.fixture
def ini(tmp_path):
    return write_ini(
        tmp_path,
        **{'portal.load_on_start': 'false', 'kaiku_registry.signing_key': f'{tmp_path}/keys/signing.pem'},
    )


def _main(argv):
    from kaiku_registry.scripts import main

    return main(argv)


def test_import_is_all_or_nothing_and_reports_every_bad_row(ini, tmp_path, capsys):
    (tmp_path / 'partners.csv').write_text(
        'name,kind,municipality,region,contact_title,contact_email\n'
        'Tampereen kaupunki,municipality,Tampere,Pirkanmaa,Kulttuurituottaja,kk@example.fi\n'
        'Huono,spaceship,Tampere,Pirkanmaa,,\n'
        ',municipality,Tampere,Pirkanmaa,,\n'
        'Hetu 131052-308T,municipality,Tampere,Pirkanmaa,,\n'
        'Liikaa,municipality,Tampere,Pirkanmaa,,,extra\n'
    )
    assert _main([ini, 'import', 'partners', str(tmp_path / 'partners.csv')]) == 1
    err = capsys.readouterr().err
    assert 'line 3: kind: Choose one of the choices.' in err
    assert 'line 4: name: Required' in err
    assert 'line 5: name: This looks like a personal identity code' in err
    assert 'line 6: the row has more cells than the header' in err
    assert '4 bad rows: nothing was imported' in err
    assert _main([ini, 'sites']) == 0
    _main([ini, 'import', 'partners', str(tmp_path / 'partners.csv')])
    (tmp_path / 'ok.csv').write_text(
        'name,kind,municipality,region,contact_title,contact_email\nA,municipality,Tampere,Pirkanmaa,,\n'
    )
    assert _main([ini, 'import', 'partners', str(tmp_path / 'ok.csv')]) == 0
    assert '1 rows imported' in capsys.readouterr().out


def test_import_of_sites_and_cards(ini, tmp_path, capsys):
    (tmp_path / 'p.csv').write_text(
        'name,kind,municipality,region,contact_title,contact_email\nKaupunki,municipality,Nokia,Pirkanmaa,,\n'
    )
    (tmp_path / 's.csv').write_text(
        'partner,name,kind,municipality,region\nKaupunki,Sosiaalitoimi,issuer,,\nTuntematon,X,issuer,,\n'
    )
    assert _main([ini, 'import', 'partners', str(tmp_path / 'p.csv')]) == 0
    assert _main([ini, 'import', 'sites', str(tmp_path / 's.csv')]) == 1
    assert 'line 3: partner names no known partner' in capsys.readouterr().err
    (tmp_path / 's.csv').write_text(
        'partner,name,kind,municipality,region\nKaupunki,Sosiaalitoimi,issuer,,\n'
    )
    assert _main([ini, 'import', 'sites', str(tmp_path / 's.csv')]) == 0
    capsys.readouterr()
    assert _main([ini, 'sites']) == 0
    site_id = capsys.readouterr().out.split('\t')[0]
    header = 'site_id,issued,birth_year,postcode,children,gender,life_situation\n'
    (tmp_path / 'c.csv').write_text(
        header + f'{site_id},2026-01-15,1980,37100,2,,student\n'
        f'{site_id},2026-13-01,1980,37100,2,,\n'
        f'{site_id},2026-01-15,2015,37100,0,,\n'
        f'{site_id},2026-01-15,1980,371,0,,\n'
    )
    assert _main([ini, 'import', 'cards', str(tmp_path / 'c.csv')]) == 1
    err = capsys.readouterr().err
    assert 'line 3: issued must be a date' in err
    assert 'line 4: birth_year: The holder must be 16 or over' in err
    assert 'line 5: postcode: A postcode has five digits.' in err


def test_missing_columns_are_reported(ini, tmp_path, capsys):
    (tmp_path / 'x.csv').write_text('name,kind\nA,municipality\n')
    assert _main([ini, 'import', 'partners', str(tmp_path / 'x.csv')]) == 1
    assert 'missing columns: municipality, region' in capsys.readouterr().err


def test_demo_token_and_retention(ini, capsys):
    assert _main([ini, 'demo']) == 0
    out = capsys.readouterr().out
    assert ' cards, ' in out
    assert _main([ini, 'sites']) == 0
    lines = capsys.readouterr().out.strip().split('\n')
    assert all('(demo)' in line for line in lines)
    assert {line.split('\t')[2] for line in lines} >= {'Jyväskylä', 'Tampere'}
    venue_id = next(line.split('\t')[0] for line in lines if '\tvenue\t' in line)
    assert _main([ini, 'token', venue_id]) == 0
    token = capsys.readouterr().out.strip()
    assert token.startswith('kk_') and len(token) > 40
    assert _main([ini, 'token', venue_id, '--revoke']) == 0
    assert '1 tokens revoked' in capsys.readouterr().out
    assert _main([ini, 'retention']) == 0
    assert 'retention 2 years' in capsys.readouterr().out


def test_keygen_makes_a_private_key_once(ini, tmp_path, capsys):
    from kaiku_registry import codes

    assert _main([ini, 'keygen']) == 0
    path = tmp_path / 'keys' / 'signing.pem'
    assert oct(os.stat(path).st_mode & 0o777) == '0o600'
    key = codes.load_private_key(path.read_bytes())
    assert _main([ini, 'keygen']) == 0
    assert 'exists' in capsys.readouterr().out
    assert codes.public_key_raw(codes.load_private_key(path.read_bytes())) == codes.public_key_raw(key)


def test_the_site_gets_a_private_registry_left_out_of_dumps(make_app, tmp_path):
    from portal.loader import Dumper

    app = make_app()
    with edit_site(app) as site:
        registry = site['registry']
        assert registry.state == 'private'
        written = Dumper(app.registry).dump(site, str(tmp_path / 'dump'))
    assert not any('registry' in path for path in written)


def test_without_the_plugin_there_is_no_registry(make_app):
    app = make_app(**{'pyramid.includes': ''})
    with edit_site(app) as site:
        assert 'registry' not in site


def stored(directory, read):
    """What ``read`` finds in the registry of the test ini's database (opened read-only)."""
    import ZODB
    import ZODB.FileStorage

    from portal import SITE_KEY

    db = ZODB.DB(ZODB.FileStorage.FileStorage(str(directory / 'Data.fs'), read_only=True))
    try:
        with db.transaction() as conn:
            return read(conn.root()[SITE_KEY]['registry'])
    finally:
        db.close()


def test_import_dates_follow_the_forms_rule_and_nothing_is_imported(ini, tmp_path, capsys):
    """An issue date after today in Finnish time, or before the first pilot, is refused row by row, as
    the forms refuse them, and a bad row keeps every row out."""
    import datetime

    import colander

    from kaiku_registry import today
    from kaiku_registry.schemas import PartnerSchema

    (tmp_path / 'p.csv').write_text(
        'name,kind,municipality,region,contact_title,contact_email\nKaupunki,municipality,Nokia,Pirkanmaa,,\n'
    )
    (tmp_path / 's.csv').write_text(
        'partner,name,kind,municipality,region\nKaupunki,Sosiaalitoimi,issuer,,\n'
    )
    assert _main([ini, 'import', 'partners', str(tmp_path / 'p.csv')]) == 0
    assert _main([ini, 'import', 'sites', str(tmp_path / 's.csv')]) == 0
    capsys.readouterr()
    _main([ini, 'sites'])
    site_id = capsys.readouterr().out.split('\t')[0]
    tomorrow = today() + datetime.timedelta(days=1)
    rows = [today().isoformat(), '2099-06-01', tomorrow.isoformat(), '2013-12-31']
    rows += ['２０２６-01-15', '20260115']
    header = 'site_id,issued,birth_year,postcode,children,gender,life_situation\n'
    (tmp_path / 'c.csv').write_text(header + ''.join(f'{site_id},{day},1980,37100,0,,\n' for day in rows))
    assert _main([ini, 'import', 'cards', str(tmp_path / 'c.csv')]) == 1
    err = capsys.readouterr().err
    assert 'line 2' not in err
    assert 'line 3: issued: The date cannot be in the future.' in err
    assert 'line 4: issued: The date cannot be in the future.' in err
    assert 'line 5: issued: The date cannot be before 01.01.2014.' in err
    assert 'line 6: issued must be a date like 2025-03-31' in err
    assert 'line 7: issued must be a date like 2025-03-31' in err
    assert '5 bad rows: nothing was imported' in err
    assert stored(tmp_path, lambda registry: len(registry.cards)) == 0
    partner = PartnerSchema()
    for name in ('trained', 'commitment_signed'):
        for day in ('2099-06-01', tomorrow.isoformat(), '2013-12-31'):
            with pytest.raises(colander.Invalid):
                partner[name].deserialize(day)
        assert partner[name].deserialize(today().isoformat()) == today()


@pytest.mark.parametrize('char', ['\x00', '\u202e', '\u200b', '\n'], ids=['nul', 'rlo', 'zwsp', 'newline'])
def test_imported_texts_follow_the_single_line_rule(ini, tmp_path, capsys, char):
    header = 'name,kind,municipality,region,contact_title,contact_email\n'
    (tmp_path / 'p.csv').write_text(
        header + '  Cafe\u0301-yhdistys ,issuer_ngo,Nokia,Pirkanmaa,,\n'
        f'"Huono{char}nimi",issuer_ngo,Nokia,Pirkanmaa,,\n',
        encoding='utf-8',
    )
    assert _main([ini, 'import', 'partners', str(tmp_path / 'p.csv')]) == 1
    err = capsys.readouterr().err
    refusal = 'Write this on one line' if char == '\n' else 'Remove the invisible or control characters'
    assert f'line 3: name: {refusal}' in err and f'(U+{ord(char):04X})' in err
    assert '1 bad rows: nothing was imported' in err
    assert stored(tmp_path, lambda registry: len(registry.partners)) == 0
    (tmp_path / 'p.csv').write_text(header + '  Cafe\u0301-yhdistys ,issuer_ngo,Nokia,Pirkanmaa,,\n')
    assert _main([ini, 'import', 'partners', str(tmp_path / 'p.csv')]) == 0
    names = stored(tmp_path, lambda registry: [partner.name for partner in registry.partners.values()])
    assert names == ['Café-yhdistys']


#: (field, value, message) of partner cells that the partner form refuses, and so the import too.
REFUSED_PARTNER_CELLS = [
    ('contact_email', 'not-an-email', 'Check the email address.'),
    ('contact_phone', 'call me', 'Digits, spaces and + ( ) - only.'),
    ('municipality', 'Atlantis', 'Choose a municipality from the list.'),
    ('trained', '2999-01-01', 'The date cannot be in the future.'),
    ('commitment_signed', '2013-12-31', 'The date cannot be before 01.01.2014.'),
    ('contact_title', 'Anna, s. 12.3.1985', 'This holds a full date'),
    ('kind', 'spaceship', 'Choose one of the choices.'),
]
PARTNER_COLUMNS = ['name', 'kind', 'municipality', 'region', 'contact_title', 'contact_email']
PARTNER_COLUMNS += ['contact_phone', 'commitment_signed', 'trained']


@pytest.mark.usefixtures('english_interface')
def test_the_import_refuses_what_the_forms_refuse_with_the_forms_messages(make_app):
    """One validation path: a partner or site cell the form refuses is refused by the CSV import with the
    same message, on its line, and nothing is imported."""
    import csv
    import io

    from kaiku_registry.scripts import ImportFailed, import_csv

    app = make_app()
    add_user(app, 'national', TEST_PASSWORD, roles=('NationalAdmin',))
    client = browser(app, 'national')
    good = {'name': 'Uusi yhdistys', 'kind': 'issuer_ngo', 'municipality': 'Tampere'}
    for field, value, message in REFUSED_PARTNER_CELLS:
        form = form_with(client.get('/registry/partner-add'), 'contact_email')
        for name, filled in good.items():
            form[name].force_value(filled)
        form[field].force_value(value)
        res = form.submit(status=400)
        assert message in res.html.select_one(f'#{field}-error').text, field
        stream = io.StringIO()
        writer = csv.DictWriter(stream, PARTNER_COLUMNS, restval='')
        writer.writeheader()
        writer.writerow({'name': 'Hyvä yhdistys', 'kind': 'issuer_ngo', 'municipality': 'Nokia'})
        writer.writerow({**good, field: value})
        stream.seek(0)
        with pytest.raises(ImportFailed) as failed, edit_site(app) as site:
            import_csv(site['registry'], 'partners', stream)
        [(line, reason)] = failed.value.errors
        assert line == 3 and reason.startswith(f'{field}: {message}'), failed.value.errors
    with edit_site(app) as site:
        assert not site['registry'].partners
        partner = site['registry'].add_partner('Kaupunki', 'municipality', 'Tampere')
        partner_id = partner.id
    form = form_with(client.get(f'/registry/site-add?partner={partner_id}'), 'venue_path')
    form['name'] = 'Museokeskus'
    form['kind'] = 'venue'
    form['venue_path'] = '/no/such/venue/'
    assert 'no venue page' in form.submit(status=400).html.select_one('#venue_path-error').text
    text = 'partner,name,kind,municipality,region,venue_path\nKaupunki,Museokeskus,venue,,,/no/such/venue/\n'
    with pytest.raises(ImportFailed) as failed, edit_site(app) as site:
        import_csv(site['registry'], 'sites', io.StringIO(text))
    assert failed.value.errors == [
        (2, 'venue_path: There is no venue page at this address in the catalogue.')
    ]
    with edit_site(app) as site:
        assert not site['registry'].sites
