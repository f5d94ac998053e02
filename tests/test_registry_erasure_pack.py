"""An erasure as its users make it, through the pages, and the steps after it: a card is issued and used,
its issuer erases it (asked, then confirmed), ``kaiku-registry <ini> erase-pack`` packs and backs up;
then the code is nowhere in the databases, the blobs or the backups, in any encoding, the card's and its
visit list's objects no longer load by their old object ids, the statistics are what they were, and the
door answers the code as unknown."""

import os

import pytest
import webtest

from portal.testing import add_user, build_app, close_app, edit_site, log_in, write_ini

PASSWORD = 'kaiku erasure test passphrase 42'


def make_world(directory, **settings):
    app = build_app(str(directory), **settings)
    with edit_site(app) as site:
        registry = site['registry']
        city = registry.add_partner('Tampereen kaupunki', 'municipality', 'Tampere', 'Pirkanmaa')
        issuer = registry.add_site(city, 'Sosiaalitoimi Tampere', 'issuer')
        other = registry.add_site(city, 'Sosiaalitoimi Hervanta', 'issuer')
        venue = registry.add_site(city, 'Uimahalli Tampere', 'venue')
        registry.set_member('issuer', issuer)
        registry.set_member('other_issuer', other)
        registry.set_member('venue', venue)
    for login, role in (
        ('issuer', 'IssuerStaff'),
        ('other_issuer', 'IssuerStaff'),
        ('venue', 'VenueStaff'),
        ('national', 'NationalAdmin'),
    ):
        add_user(app, login, PASSWORD, roles=[role])
    return directory, app


@pytest.fixture
def world(tmp_path):
    return make_world(tmp_path)


@pytest.fixture(scope='module')
def shared(tmp_path_factory):
    _directory, app = make_world(tmp_path_factory.mktemp('erasure-roles'))
    yield app
    close_app(app)


def client(app, login):
    app.registry.lookup_throttle.clear()
    testapp = webtest.TestApp(app, extra_environ={'HTTP_HOST': 'example.com'})
    log_in(testapp, login, PASSWORD)
    return testapp


def form_to(res, view):
    return next(form for form in res.forms.values() if form.action.endswith(view))


def issue(app, postcode):
    form = form_to(client(app, 'issuer').get('/registry/issue'), '/issue')
    form['birth_year'], form['postcode'], form['children'] = '1971', postcode, '2'
    return form.submit(status=200).html.select_one('.card-code').text.split()[-1]


def visit(app, code, sector, children='0'):
    door = client(app, 'venue')
    form = form_to(door.get('/registry/door'), '/door')
    form['code'] = code
    record = form_to(form.submit(status=200), '/door-record')
    record['sector'] = sector
    record['children'] = children
    res = record.submit(status=200)
    assert res.html.select_one('.status-ok') is not None, res.html.select_one('#errors')


def find_card(testapp, code, page='cards'):
    form = form_to(testapp.get(f'/registry/{page}'), f'/{page}')
    form['code'] = code
    return form.submit(status=200)


def tallies(app):
    with edit_site(app) as site:
        registry = site['registry']
        return {key: dict(tally.items()) for key, tally in registry.tallies.items()}


def variants(code):
    """The code in every form it could be stored in: plain, grouped, lower case, in UTF-16 and UTF-32."""
    grouped = f'{code[:4]}-{code[4:8]}-{code[8:]}'
    texts = {code, grouped, code.lower(), grouped.lower()}
    encodings = ('utf-8', 'utf-16-le', 'utf-16-be', 'utf-32-le')
    return {text.encode(encoding) for text in texts for encoding in encodings}


def files_under(directory):
    for folder, _dirs, names in os.walk(directory):
        for name in names:
            yield os.path.join(folder, name)


def erase_and_pack(app, directory, uri, grouped, capsys):
    """The card's issuer erases it (asked, then confirmed); the app stops and ``erase-pack`` runs on an ini
    naming ``uri``.  Returns what the command printed."""
    from kaiku_registry.scripts import main

    issuer = client(app, 'issuer')
    ask = form_to(find_card(issuer, grouped), '/card-erase').submit(status=200)
    assert form_to(ask, '/card-erase').submit(status=200).html.select_one('.status-ok') is not None
    ini = write_ini(directory, **{'zodbconn.uri': uri})
    close_app(app)
    capsys.readouterr()
    assert main([ini, 'erase-pack']) == 0
    return capsys.readouterr().out


def test_an_erased_card_is_gone_from_every_file_after_the_pack(world):
    from kaiku_registry.scripts import main
    from portal.scripts.backup import from_config

    directory, app = world
    grouped = issue(app, '98761')
    code = grouped.replace('-', '')
    visit(app, grouped, 'sport', children='2')
    visit(app, grouped, 'culture')
    with edit_site(app) as site:
        registry = site['registry']
        card = registry.card_by_code(code)
        card_id, oids = card.id, [card._p_oid, registry.visit_ids_by_card[card.id]._p_oid]
        totals = {m: registry.totals(m) for m in ('adult_uses', 'child_uses', 'cards', 'activated')}
    assert totals['adult_uses'] == 2
    before = tallies(app)

    issuer = client(app, 'issuer')
    ask = form_to(find_card(issuer, grouped), '/card-erase').submit(status=200)
    assert ask.html.select_one('h1').text == 'Poistetaanko kortti?'
    with edit_site(app) as site:
        assert site['registry'].card(card_id) is not None  # asking erases nothing
    done = form_to(ask, '/card-erase').submit(status=200)
    assert done.html.select_one('.status-ok') is not None
    assert tallies(app) == before
    ini = write_ini(directory)
    first_backup = from_config(ini).backup(full=True)
    close_app(app)

    assert main([ini, 'erase-pack']) == 0
    backup = from_config(ini)
    assert first_backup not in backup.points()
    assert not os.path.exists(directory / 'Data.fs.old')
    wanted = variants(code)
    for path in files_under(directory):
        with open(path, 'rb') as f:
            data = f.read()
        found = [v for v in wanted if v in data]
        assert not found, f'{path} holds the erased code'
        assert b'98761' not in data or path.endswith('.ini'), f'{path} holds the erased postcode'

    from ZODB import DB
    from ZODB.FileStorage import FileStorage
    from ZODB.POSException import POSKeyError

    db = DB(FileStorage(str(directory / 'Data.fs'), blob_dir=str(directory / 'blobs'), read_only=True))
    try:
        conn = db.open()
        for oid in oids:
            with pytest.raises(POSKeyError):
                conn.get(oid)._p_activate()
        registry = conn.root()['site']['registry']
        assert {m: registry.totals(m) for m in totals} == totals
    finally:
        db.close()

    app = build_app(str(directory))
    try:
        assert tallies(app) == before
        door = client(app, 'venue')
        form = form_to(door.get('/registry/door'), '/door')
        form['code'] = grouped
        assert form.submit(status=200).html.select_one('.status-unknown') is not None
        from portal.audit import LOG_KEY

        audit_db = app.registry._zodb_databases['audit']
        conn = audit_db.open()
        try:
            entries = conn.root()[LOG_KEY].entries.values()
            erased = [e['detail']['card'] for e in entries if e['action'] == 'registry.card.erase']
            assert erased == [str(card_id)]
        finally:
            conn.close()
    finally:
        close_app(app)


def test_on_zeo_the_pack_goes_through_the_server_and_says_what_is_left_there(tmp_path, capsys):
    """On ZEO the command packs through the server and says what is left to do there (README, "Erasing
    personal data"): delete the old file, restart the server, back up; after those the code and the
    postcode are in no file of the server's, nor in the app's blob cache."""
    import servers

    zeo, port = servers.start_zeo(str(tmp_path / 'zeo'))
    try:
        uri = servers.zeo_uri(port, tmp_path / 'blobcache')
        (tmp_path / 'app').mkdir()
        directory, app = make_world(tmp_path / 'app', **{'zodbconn.uri': uri})
        grouped = issue(app, '98762')
        visit(app, grouped, 'culture')
        said = erase_and_pack(app, directory, uri, grouped, capsys)
        assert 'main: packed with no history' in said
        assert 'main: not a FileStorage here' in said and 'restart it' in said
        wanted = variants(grouped.replace('-', ''))
        server_files = tmp_path / 'zeo'
        old = server_files / 'Data.fs.old'
        before_pack = old.read_bytes()
        assert [v for v in wanted if v in before_pack], 'the file before the pack is the step left by hand'
        # The README's steps on the server: delete the old file, and restart the server: its FileStorage's
        # Data.fs.tmp still holds bytes of earlier transactions (the card's postcode) until it is opened.
        old.unlink()
        servers.stop(zeo)
        zeo, port = servers.start_zeo(str(server_files))
        for path in [*files_under(server_files), *files_under(tmp_path / 'blobcache')]:
            with open(path, 'rb') as f:
                data = f.read()
            assert not [v for v in wanted if v in data], f'{path} holds the erased code'
            assert b'98762' not in data or path.endswith('.conf'), f'{path} holds the erased postcode'
    finally:
        servers.stop(zeo)


def _relation_files(conn):
    """The files of every table, TOAST table and index of the database ``conn`` is connected to."""
    with conn.cursor() as cursor:
        cursor.execute("SELECT current_setting('data_directory')")
        data_directory = cursor.fetchone()[0]
        cursor.execute(
            "SELECT relname, pg_relation_filepath(oid) FROM pg_class WHERE relkind IN ('r', 't', 'i') "
            'AND pg_relation_filepath(oid) IS NOT NULL'
        )
        relations = cursor.fetchall()
    for name, path in relations:
        base = os.path.join(data_directory, path)
        for segment in [base, *(f'{base}.{n}' for n in range(1, 100))]:
            if not os.path.exists(segment):
                break
            yield name, segment


def _holding(conn, wanted):
    with conn.cursor() as cursor:
        cursor.execute('CHECKPOINT')  # the pages on disk, as a reader of the files finds them
    found = set()
    for name, path in _relation_files(conn):
        with open(path, 'rb') as f:
            data = f.read()
        if any(value in data for value in wanted):
            found.add(name)
    return found


def test_on_relstorage_the_pack_rewrites_postgresqls_tables(tmp_path, capsys):
    """On RelStorage a pack deletes the rows of earlier revisions, but PostgreSQL keeps their bytes in the
    table's files until the files are rewritten: the command runs VACUUM FULL, and then no file of the
    database holds the erased code or postcode (before it, ``object_state``'s did)."""
    import servers

    dsn = os.environ.get('KAIKU_TEST_PG_DSN')
    if not dsn:
        pytest.skip('RelStorage erasure test skipped: no PostgreSQL server (KAIKU_TEST_PG_DSN is not set)')
    psycopg2 = pytest.importorskip('psycopg2')
    with servers.postgres_database(dsn) as database:
        conn = psycopg2.connect(database)
        conn.autocommit = True
        try:
            files = list(_relation_files(conn))
            if not files or not os.access(files[0][1], os.R_OK):
                pytest.skip(
                    "PostgreSQL's data files cannot be read here (the test reads them as a thief could)"
                )
            uri = servers.relstorage_uri(database, str(tmp_path / 'relstorage'))
            (tmp_path / 'app').mkdir()
            directory, app = make_world(tmp_path / 'app', **{'zodbconn.uri': uri})
            grouped = issue(app, '98763')
            visit(app, grouped, 'culture')
            wanted = {*variants(grouped.replace('-', '')), b'98763'}
            assert 'object_state' in _holding(conn, wanted), 'the search finds what the database holds'
            said = erase_and_pack(app, directory, uri, grouped, capsys)
            assert 'main: packed with no history' in said and 'VACUUM FULL' in said
            assert _holding(conn, wanted) == set()
        finally:
            conn.close()


def test_the_export_page_and_file_hold_the_cards_visits(shared):
    grouped = issue(shared, '33100')
    visit(shared, grouped, 'sport', children='1')
    issuer = client(shared, 'issuer')
    page = form_to(find_card(issuer, grouped), '/card-export').submit(status=200)
    rows = [[td.text for td in tr.select('td')] for tr in page.html.select('table.records tbody tr')]
    assert len(rows) == 1
    assert rows[0][1:5] == ['Uimahalli Tampere', 'Liikunta', '1', '1']
    exported = form_to(page, '/card-export').submit(status=200)
    assert exported.content_type == 'application/json'
    assert exported.json['cards'][0]['visits'][0]['child_tickets'] == 1
    assert exported.json['cards'][0]['code'] == grouped.replace('-', '')


def test_another_sites_issuer_cannot_export_or_erase_and_venue_staff_may_not(shared):
    grouped = issue(shared, '33100')
    with edit_site(shared) as site:
        card_id = str(site['registry'].card_by_code(grouped.replace('-', '')).id)
    other = client(shared, 'other_issuer')
    token = form_to(other.get('/registry/cards'), '/cards')['csrf_token'].value
    for view in ('card-export', 'card-erase'):
        body = {'card_id': card_id, 'confirm': 'yes', 'csrf_token': token}
        res = other.post(f'/registry/{view}', body, status=400)
        assert grouped not in res.text
    venue = client(shared, 'venue')
    token = form_to(venue.get('/registry/door'), '/door')['csrf_token'].value
    venue.post(
        '/registry/card-erase', {'card_id': card_id, 'confirm': 'yes', 'csrf_token': token}, status=403
    )
    issuer = client(shared, 'issuer')
    issuer.post('/registry/card-erase', {'card_id': card_id, 'confirm': 'yes'}, status=400)  # no CSRF token
    with edit_site(shared) as site:
        assert site['registry'].card(int(card_id)) is not None


def test_the_national_administrator_finds_and_erases_any_card(shared):
    grouped = issue(shared, '33100')
    national = client(shared, 'national')
    found = find_card(national, grouped, page='all-cards')
    assert found.html.select_one('#card-heading') is not None
    assert not [f for f in found.forms.values() if f.action.endswith('/card-action')]  # no issuer's actions
    ask = form_to(found, '/card-erase').submit(status=200)
    done = form_to(ask, '/card-erase').submit(status=200)
    assert done.html.select_one('.status-ok') is not None
    assert find_card(national, grouped, page='all-cards').html.select_one('#card-heading') is None
    client(shared, 'issuer').get('/registry/all-cards', status=403)


@pytest.mark.parametrize(
    ('lang', 'words'),
    [
        ('fi', ('jokaisen käynnin', 'Tietojen poistaminen', 'tiivistää tietokannan', 'sisäinen numero')),
        ('sv', ('varje besök', 'Radering.', 'packar administrationen databasen', 'interna nummer')),
        ('en', ('every visit', 'Erasure.', 'packs the database', 'internal number')),
    ],
)
def test_the_privacy_notice_describes_the_export_and_the_erasure(shared, lang, words):
    page = webtest.TestApp(shared, extra_environ={'HTTP_HOST': 'example.com'})
    res = page.get('/tietosuojaseloste/', params={'lang': lang}, status=200)
    for word in words:
        assert word in res.text, word
    assert 'Tähän lisätään' not in res.text and 'will be added here' not in res.text
