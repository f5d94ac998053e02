"""Venue import and export: the ``@@import`` page and ``@@export`` of the venues folder, and the
``portal-import-venues`` script (portal.venue_files)."""

import json

import pytest
import webtest

from portal.testing import add_user, log_in

pytestmark = pytest.mark.usefixtures('english_interface')

PASSWORD = 'correct horse battery staple'
HEADER = (
    'name;title;description;card_benefit;categories;municipality;postcode;latitude;longitude;child_tickets'
)
MUNICIPALITIES = ('Kajaani', 'Jyväskylä', 'Helsinki', 'Oulu')


def venue_line(n, municipality=None, categories='museum; theatre', postcode='87100', latitude='64,22'):
    municipality = municipality or MUNICIPALITIES[n % len(MUNICIPALITIES)]
    return (
        f'kohde-{n};Kohde {n};Kuvaus {n};Vapaa pääsy;"{categories}";{municipality};{postcode};{latitude};'
        '27,73;kyllä'
    )


def venue_file(count=200, bad=None):
    """A Finnish spreadsheet CSV of ``count`` venues; ``bad`` maps a row number to its cells' changes."""
    bad = bad or {}
    lines = [HEADER] + [venue_line(n, **bad.get(n, {})) for n in range(1, count + 1)]
    return ('\ufeff' + '\r\n'.join(lines) + '\r\n').encode('utf-8')


@pytest.fixture
def app(make_app):
    app = make_app(**{'portal.load_on_start': 'false'})
    add_user(app, 'admin', PASSWORD, roles=['Administrator'])
    add_user(app, 'editor', PASSWORD, roles=['Editor'])
    admin = browser(app, 'admin')
    res = admin.get('/@@add', params={'type': 'Folder'})
    res.forms['edit-form']['title'] = 'Venues'
    res.forms['edit-form'].submit('save', status=303)
    return app


def browser(app, login=None):
    client = webtest.TestApp(app, extra_environ={'HTTP_HOST': 'example.com', 'REMOTE_ADDR': '192.0.2.1'})
    if login:
        log_in(client, login, PASSWORD)
    return client


def upload(client, data, filename='venues.csv', status=303, **headers):
    form = client.get('/venues/@@import', headers=headers).forms['import-form']
    form['file'] = webtest.Upload(filename, data)
    return form.submit(status=status, headers=headers)


def venue_total(client):
    return client.get('/venues/search.json').json['total']


def municipality_counts(client):
    facets = client.get('/venues/search.json').json['facets']['municipality']
    return {each['value']: each['count'] for each in facets}


def test_a_file_with_three_bad_rows_changes_nothing_and_lists_all_three(app):
    admin = browser(app, 'admin')
    data = venue_file(
        bad={17: {'municipality': 'Atlantis'}, 90: {'categories': 'circus'}, 151: {'postcode': '123'}}
    )
    res = upload(admin, data, status=400)
    problems = res.html.select('#import-problems li')
    assert [li.get_text(' ', strip=True) for li in problems] == [
        'Line 18: Municipality: Choose a municipality from the list.',
        'Line 91: Categories: Not one of the choices: circus.',
        'Line 152: Postcode: A postcode has five digits.',
    ]
    assert venue_total(admin) == 0


def test_a_good_file_adds_every_venue_and_the_catalogue_counts_follow(app):
    admin = browser(app, 'admin')
    res = upload(admin, venue_file()).follow()
    assert res.html.select_one('.messages').get_text(strip=True) == (
        '200 rows imported: 200 venues added, 0 updated, 0 unchanged.'
    )
    assert venue_total(admin) == 200
    assert municipality_counts(admin) == {'Helsinki': 50, 'Jyväskylä': 50, 'Kajaani': 50, 'Oulu': 50}
    venue = admin.get('/venues/kohde-7/')
    assert 'Vapaa pääsy' in venue.text
    # New venues are private, the type's default: the public sees none of them yet.
    browser(app).get('/venues/kohde-7/', status=403)


def test_the_messages_are_in_the_readers_language(app):
    admin = browser(app, 'admin')
    res = upload(admin, venue_file(3, bad={2: {'latitude': '99'}}), status=400, **{'Accept-Language': 'sv'})
    text = res.html.select_one('#import-problems').get_text(' ', strip=True)
    assert 'Rad 3' in text
    assert 'Latitud' in text


def test_an_import_updates_the_venue_of_the_same_name_and_its_history_shows_it(app):
    admin = browser(app, 'admin')
    upload(admin, venue_file(3))
    changed = venue_file(3).replace(b'Kuvaus 2;', b'Uusi kuvaus;')
    res = upload(admin, changed).follow()
    assert '3 rows imported: 0 venues added, 1 updated, 2 unchanged' in res.text
    assert venue_total(admin) == 3
    history = admin.get('/venues/kohde-2/@@history', params={'rev': 2})
    assert 'Uusi kuvaus' in history.text
    assert 'Kuvaus 2' in history.text


def test_a_row_without_a_name_updates_the_venue_with_its_title(app):
    admin = browser(app, 'admin')
    upload(admin, venue_file(2))
    data = (
        'title,card_benefit,categories,municipality\n'
        'Kohde 1,Puolet pois,cinema,Oulu\n'
        'Uusi paikka,Ilmaiseksi,cinema,Oulu\n'
    )
    res = upload(admin, data.encode()).follow()
    assert '1 venues added, 1 updated, 0 unchanged' in res.text
    assert 'Puolet pois' in admin.get('/venues/kohde-1/').text
    assert admin.get('/venues/uusi-paikka/').status_int == 200


def test_export_gives_the_same_columns_back(app):
    admin = browser(app, 'admin')
    upload(admin, venue_file(5))
    csv_text = admin.get('/venues/@@export', headers={'Accept-Language': 'fi'}).text
    header = csv_text.lstrip('\ufeff').split('\r\n', 1)[0].split(';')
    # the open data's columns for programs (its spreadsheet form for people has translated headers)
    plain = admin.get('/venues/search.csv', params={'dialect': 'plain'}).text
    public = plain.lstrip('\ufeff').split('\r\n', 1)[0].split(',')
    assert header == public
    assert '64,22' in csv_text  # the Finnish spreadsheet's decimal comma
    # Reading the export back changes nothing, in either dialect and as JSON.
    for params in ({}, {'dialect': 'plain'}, {'format': 'json'}):
        res = admin.get('/venues/@@export', params=params, headers={'Accept-Language': 'fi'})
        name = 'venues.json' if params.get('format') else 'venues.csv'
        done = upload(admin, res.body, filename=name).follow()
        assert '0 venues added, 0 updated, 5 unchanged' in done.text, params
    records = json.loads(admin.get('/venues/@@export', params={'format': 'json'}).text)
    assert records[0]['categories'] == ['museum', 'theatre']
    assert records[0]['latitude'] == 64.22


@pytest.mark.parametrize(
    ('data', 'message'),
    [
        (b'', 'Choose a file to import.'),
        ('title;municipality\nKohde;Kajaani\n'.encode('cp1252') + b'\xe4\n', 'The file is not UTF-8 text.'),
        (b'title;colour\nKohde;red\n', 'Unknown column "colour".'),
        (b'name;municipality\nkohde;Kajaani\n', 'The file has no "title" column.'),
        (b'{"items": 3}', 'A JSON file holds a list of venues, each an object.'),
        (b'[{"title": "Kohde"', 'The file is not valid JSON.'),
        (
            HEADER.encode() + b'\n' + venue_line(1).encode() + b';extra\n',
            'more cells than the file has columns',
        ),
    ],
)
def test_files_that_are_not_venue_files_are_refused_with_a_reason(app, data, message):
    admin = browser(app, 'admin')
    res = upload(admin, data, status=400)
    assert message in res.html.select_one('#import-problems').get_text(' ', strip=True)
    assert venue_total(admin) == 0


def test_the_same_venue_twice_and_a_bad_name_are_refused(app):
    admin = browser(app, 'admin')
    data = (
        venue_file(3).replace(b'kohde-3;', b'kohde-1;')
        + venue_line(4).replace('kohde-4', 'Kohde 4!').encode()
    )
    res = upload(admin, data, status=400)
    text = res.html.select_one('#import-problems').get_text(' ', strip=True)
    assert 'Line 4: Line 2 has the same venue.' in text
    assert '"Kohde 4!" cannot be a name in an address.' in text


def test_only_administrators_import_and_export(app):
    editor = browser(app, 'editor')
    editor.get('/venues/@@import', status=403)
    editor.get('/venues/@@export', status=403)
    browser(app).get('/venues/@@export', status=403)


def test_the_script_imports_all_or_nothing(tmp_path, capsys):
    from portal.scripts import import_venues
    from portal.testing import write_ini

    ini = write_ini(tmp_path)
    bad = tmp_path / 'bad.csv'
    bad.write_bytes(venue_file(3, bad={2: {'municipality': 'Atlantis'}}))
    assert import_venues.main([str(ini), str(bad)]) == 1
    err = capsys.readouterr().err
    assert 'bad.csv:3: Kunta: ' in err
    assert 'nothing was imported' in err
    good = tmp_path / 'good.csv'
    good.write_bytes(venue_file(3))
    assert import_venues.main([str(ini), str(good)]) == 0
    assert '3 added, 0 updated, 0 unchanged' in capsys.readouterr().out
    assert import_venues.main([str(ini), str(good)]) == 0
    assert '0 added, 0 updated, 3 unchanged' in capsys.readouterr().out


def test_one_row_is_counted_in_the_singular_and_in_finnish(app):
    admin = browser(app, 'admin')
    res = upload(admin, venue_file(1)).follow()
    assert '1 row imported: 1 venues added' in res.text
    res = upload(admin, venue_file(2), **{'Accept-Language': 'fi'}).follow(headers={'Accept-Language': 'fi'})
    assert res.html.select_one('.messages').get_text(strip=True) == (
        '2 riviä tuotu: 1 kohdetta lisätty, 0 päivitetty, 1 ennallaan.'
    )


def test_the_import_page_has_its_progress_from_a_script_file_and_works_without_it(app):
    admin = browser(app, 'admin')
    res = admin.get('/venues/@@import')
    progress = res.html.select_one('#import-progress')
    assert progress.has_attr('hidden') and progress['role'] == 'status'
    assert progress.select_one('progress')['max'] == '100'
    assert {p['data-stage'] for p in progress.select('[data-stage]')} == {'sending', 'checking', 'failed'}
    scripts = [tag for tag in res.html.select('script') if 'venue-import' in tag.get('src', '')]
    assert len(scripts) == 1 and not scripts[0].text.strip()
    assert all(tag.get('src') for tag in res.html.select('script'))  # nothing inline
    served = admin.get(scripts[0]['src'].replace('http://example.com', ''), status=200)
    assert 'upload' in served.text and 'innerHTML' not in served.text
    form = res.forms['import-form']
    assert form.method.lower() == 'post' and form.enctype == 'multipart/form-data'  # posts without script
