"""The identifier guard, through every text field of every registry schema and every way text enters.

The property tests generate identity codes, dates, names and addresses in the forms a determined tester
uses (any century sign, a wrong check character, no separator, month names in Finnish and Swedish),
wrap them in other text and disguise them (en dash, non-breaking hyphen, minus sign, zero-width space,
fullwidth digits), and feed them to each text node found by walking the plugin's schemas.  The shipped
set of ordinary text shows the guard lets through what it should.
"""

import datetime
import pathlib

import colander
import pytest
import webtest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from portal.testing import add_user, edit_site, form_with, log_in

DATA = pathlib.Path(__file__).parent.parent / 'plugins' / 'kaiku_registry' / 'data'

FI_MONTHS = [
    'tammikuuta',
    'helmikuuta',
    'maaliskuuta',
    'huhtikuuta',
    'toukokuuta',
    'kesäkuuta',
    'heinäkuuta',
    'elokuuta',
    'syyskuuta',
    'lokakuuta',
    'marraskuuta',
    'joulukuuta',
]
SV_MONTHS = [
    'januari',
    'februari',
    'mars',
    'april',
    'maj',
    'juni',
    'juli',
    'augusti',
    'september',
    'oktober',
    'november',
    'december',
]
STREET_STEMS = ('Kauppa', 'Asema', 'Koulu', 'Kirkko', 'Sepän', 'Myllyn', 'Rauhan', 'Stor', 'Skol', 'Kyrko')
STREET_WORDS = ('katu', 'tie', 'kuja', 'polku', 'gatan', 'vägen', 'gränden')
PLACES = ('Jyväskylä', 'Helsinki', 'Tampere', 'Vaasa', 'Borgå', 'Jakobstad', 'Kuopio', 'Rovaniemi')
PREFIXES = ('', 'Konsertti ', 'Asiakas: ', '(', 'Muista ', 'Info – ', 'Kommentti; ')
SUFFIXES = ('', ' lippu', ')', '.', ', kiitos', ' – ok')
TRICKS = ('none', 'en_dash', 'nb_hyphen', 'minus', 'zero_width', 'fullwidth')


def _names():
    from kaiku_registry.privacy import names

    first, first_word, surnames = names()
    return sorted(first | first_word), sorted(surnames)


def _hetu_check(digits):
    return '0123456789ABCDEFHJKLMNPRSTUVWXY'[int(digits) % 31]


@st.composite
def identity_codes(draw):
    """``(text, strict_only)``: a code in any written form; ``strict_only`` for ten digits with a wrong
    check character and no century sign, which a phone field reads as a phone number."""
    day = draw(st.dates(datetime.date(1850, 1, 1), datetime.date(2030, 12, 31)))
    serial = f'{draw(st.integers(2, 899)):03d}'
    digits = day.strftime('%d%m%y') + serial
    right = _hetu_check(digits)
    check = draw(st.sampled_from([right, right, *'0123456789ABCDEFHJKLMNPRSTUVWXY']))
    sign = draw(st.sampled_from(list('+-ABCDEFYXWVU')))
    form = draw(st.sampled_from(('plain', 'spaced', 'no_sign', 'no_check', 'lower')))
    date_part = day.strftime('%d%m%y')
    if form == 'plain':
        return f'{date_part}{sign}{serial}{check}', False
    if form == 'spaced':
        return f'{day:%d} {day:%m} {day:%y} {sign} {serial}{check}', False
    if form == 'no_check':
        return f'{date_part}{sign}{serial}', False
    if form == 'lower':
        return f'{date_part}{sign}{serial}{check}'.lower(), False
    return f'{date_part}{serial}{check}', check.isdigit() and check != right


@st.composite
def dates(draw):
    day = draw(st.dates(datetime.date(1900, 1, 1), datetime.date(2029, 12, 31)))
    d, m, y, yy = day.day, day.month, day.year, f'{day:%y}'
    form = draw(st.integers(0, 8))
    text = [
        f'{d}.{m}.{y}',
        f'{d:02d}.{m:02d}.{yy}',
        f'{d}. {m}. {y}',
        f'{d}/{m}/{yy}',
        f'{d}-{m}-{y}',
        day.isoformat(),
        f'{d}. {FI_MONTHS[m - 1]} {y}',
        f'{d} {SV_MONTHS[m - 1]} {y}',
        f'den {d}:e {SV_MONTHS[m - 1]} {y}',
    ][form]
    return f's. {text}' if draw(st.booleans()) else text


@st.composite
def person_names(draw):
    first, surnames = _names()
    a, b = draw(st.sampled_from(first)), draw(st.sampled_from(surnames))
    text = draw(st.sampled_from((f'{a} {b}', f'{b} {a}', f'{b}, {a}')))
    return draw(st.sampled_from((text, text.upper(), text.lower())))


@st.composite
def addresses(draw):
    if draw(st.booleans()):
        street = draw(st.sampled_from(STREET_STEMS)) + draw(st.sampled_from(STREET_WORDS))
        number = str(draw(st.integers(1, 199)))
        flat = draw(st.sampled_from(('', ' B 12', ' A 3', ' as 4', 'c')))
        return f'{street} {number}{flat}'
    return f'{draw(st.integers(10, 99999)):05d} {draw(st.sampled_from(PLACES))}'


def disguise(text, trick, position):
    if trick == 'en_dash':
        return text.replace('-', '\u2013')
    if trick == 'nb_hyphen':
        return text.replace('-', '\u2011')
    if trick == 'minus':
        return text.replace('-', '\u2212')
    if trick == 'fullwidth':
        return ''.join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in text)
    if trick == 'zero_width':
        at = position % (len(text) + 1)
        return text[:at] + '\u200b' + text[at:]
    return text


def text_nodes():
    """``(schema name, node path, node)`` of every String node of every registry schema, by walking."""
    import kaiku_registry.api  # noqa: F401 - its schemas join the walk
    from kaiku_registry.schemas import registry_schema_classes

    found = []
    for cls in registry_schema_classes():
        schema = cls().bind(find_venue=lambda path: object())
        todo = [(node.name, node) for node in schema.children]
        while todo:
            path, node = todo.pop()
            todo.extend((f'{path}.{child.name}', child) for child in node.children)
            if isinstance(node.typ, colander.String):
                found.append((cls.__name__, path, node))
    return found


def guarded_nodes():
    return [row for row in text_nodes() if getattr(row[2], 'identifier_guard', True) is not False]


def refusals(node, value):
    """The messages ``node`` gives for ``value`` (none when it takes it)."""
    try:
        node.deserialize(value)
    except colander.Invalid as e:
        return e.messages()
    return []


def test_the_walk_finds_every_text_node_and_only_the_card_code_opts_out():
    rows = text_nodes()
    names = {(schema, path) for schema, path, _node in rows}
    for expected in (
        ('VisitSchema', 'event'),
        ('VisitRequestSchema', 'event'),
        ('PartnerSchema', 'contact_title'),
        ('PartnerSchema', 'contact_phone'),
        ('PartnerSchema', 'contact_email'),
        ('SiteSchema', 'name'),
    ):
        assert expected in names
    opted_out = {path for _schema, path, node in rows if getattr(node, 'identifier_guard', True) is False}
    assert opted_out == {'code'}
    assert all(getattr(node, 'identifier_guarded', False) for _s, _p, node in guarded_nodes())


@st.composite
def smuggled(draw):
    """``(kind, text, strict_only)``, disguised and wrapped in other text."""
    kind = draw(st.sampled_from(('identity_code', 'date', 'name', 'address')))
    strict_only = False
    if kind == 'identity_code':
        core, strict_only = draw(identity_codes())
    elif kind == 'date':
        core = draw(dates())
    elif kind == 'name':
        core = draw(person_names())
    else:
        core = draw(addresses())
    core = disguise(core, draw(st.sampled_from(TRICKS)), draw(st.integers(0, 40)))
    text = draw(st.sampled_from(PREFIXES)) + core + draw(st.sampled_from(SUFFIXES))
    return kind, text, strict_only


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=smuggled(), pick=st.integers(0, 10_000))
def test_every_guarded_text_field_refuses_smuggled_identifiers(case, pick):
    from kaiku_registry.privacy import REFUSALS, find_identifier

    kind, text, strict_only = case
    rows = guarded_nodes()
    if kind == 'name':
        rows = [row for row in rows if not getattr(row[2], 'names_allowed', False)]
    if strict_only:
        rows = [row for row in rows if not getattr(row[2], 'phone', False)]
    assume(rows)
    schema, path, node = rows[pick % len(rows)]
    messages = refusals(node, text)
    assert messages, f'{schema}.{path} took {text!r}'
    found = find_identifier(text, names_allowed=getattr(node, 'names_allowed', False))
    assert found is not None, f'the guard missed {text!r}'
    assert REFUSALS[found] in messages
    assert all(text not in str(message) for message in messages)


@settings(max_examples=200, deadline=None)
@given(case=smuggled())
def test_the_guard_names_what_it_found(case):
    from kaiku_registry.privacy import find_identifier

    kind, text, _strict_only = case
    found = find_identifier(text)
    # A name-shaped street (Kirkkokatu) or a date inside a code may be found first as another kind:
    # refused all the same.  A bare identity code is always found as one.
    assert found is not None
    if kind == 'identity_code' and not text.startswith(('0', '1', '2', '3')):
        assert found in ('identity_code', 'date')


def test_a_valid_identity_code_from_stdnum_is_refused_in_every_form():
    from stdnum.fi import hetu

    from kaiku_registry.privacy import find_identifier

    code = '131052-308T'
    assert hetu.is_valid(code)
    for text in (
        code,
        '131052–308T',
        '131052\u2011308T',
        '1310\u200b52-308T',
        '131052308T',
        '１３１０５２-３０８Ｔ',
        '131052A308T',
        '131052 - 308 T',
        '131052-308',
        '131052-308X',
    ):
        assert find_identifier(text) == 'identity_code', text


def test_ordinary_text_is_accepted():
    from kaiku_registry.privacy import find_identifier

    lines = [
        line.strip()
        for line in (DATA / 'ordinary.txt').read_text(encoding='utf-8').splitlines()
        if line.strip() and not line.startswith('#')
    ]
    assert len(lines) >= 200
    refused = [line for line in lines if find_identifier(line)]
    assert len(refused) * 200 < len(lines), refused


@pytest.mark.parametrize(
    'phone',
    ['+358 40 123 4567', '040 123 4567', '0401234567', '014 266 1111', '09 310 1234', '+358401234567'],
)
def test_a_phone_number_is_taken_as_a_phone_number(phone):
    from kaiku_registry.schemas import PartnerSchema

    assert refusals(PartnerSchema()['contact_phone'], phone) == []


def test_the_name_list_names_its_public_source():
    head = (DATA / 'names.txt').read_text(encoding='utf-8').split('\n', 5)
    assert any('Digital and Population Data Services Agency' in line for line in head)


# Request level: the door, the API, the partner form and the CSV import ----------------------------
PASSWORD = 'kaiku guard passphrase 7'


@pytest.fixture(scope='module')
def world(tmp_path_factory):
    from kaiku_registry import today
    from portal.testing import build_app, close_app

    app = build_app(str(tmp_path_factory.mktemp('guard')))
    with edit_site(app) as site:
        registry = site['registry']
        city = registry.add_partner('Jyväskylän kaupunki', 'municipality', 'Jyväskylä', 'Keski-Suomi')
        issuer = registry.add_site(city, 'Sosiaalitoimi', 'issuer')
        venue = registry.add_site(city, 'Uimahalli', 'venue')
        card = registry.issue_card(issuer, today(), 1980, '40100', 0)
        registry.set_area('coord', 'region', 'Keski-Suomi')
        registry.set_member('pool', venue)
        app.card, app.token = card.code, registry.new_token(venue)
    add_user(app, 'coord', PASSWORD, roles=['Coordinator'])
    add_user(app, 'pool', PASSWORD, roles=['VenueStaff'])
    yield app
    close_app(app)


def visits_held(app):
    with edit_site(app) as site:
        return sum(1 for _visit in site['registry'].visits.values())


SMUGGLED = [
    '131052–308T',
    '131052\u2011308T',
    '1310\u200b52-308T',
    '131052308T',
    '13. 10. 1952',
    '13.10.52',
    '13. lokakuuta 1952',
    '13 oktober 1952',
    'Matti Meikäläinen',
    'Kauppakatu 5 B 12, 40100 Jyväskylä',
]


@pytest.mark.parametrize('text', SMUGGLED)
@pytest.mark.usefixtures('english_interface')
def test_the_api_refuses_smuggled_events_and_records_nothing(world, text):
    client = webtest.TestApp(world, extra_environ={'HTTP_HOST': 'example.com'})
    before = visits_held(world)
    res = client.post_json(
        '/registry/api/v1/visits',
        {'code': world.card, 'sector': 'sport', 'event': f'Uinti {text}'},
        headers={'Authorization': f'Bearer {world.token}'},
        status=400,
    )
    assert 'event' in res.json['fields']
    assert 'never stores' in res.json['fields']['event']
    assert text not in res.text
    assert visits_held(world) == before


@pytest.mark.parametrize('text', ['131052\u2011308T', '13. lokakuuta 1952', 'Kauppakatu 5 B 12'])
@pytest.mark.usefixtures('english_interface')
def test_the_door_form_refuses_smuggled_events_and_records_nothing(world, text):
    world.registry.lookup_throttle.clear()
    door = webtest.TestApp(world, extra_environ={'HTTP_HOST': 'example.com'})
    log_in(door, 'pool', PASSWORD)
    before = visits_held(world)
    form = door.get('/registry/door').forms[2]
    form['code'] = world.card
    res = form.submit(status=200)
    record = next(f for f in res.forms.values() if f.action.endswith('door-record'))
    record['sector'] = 'culture'
    record['event_choice'] = '_new'
    record['event_new'] = f'Konsertti {text}'
    res = record.submit(status=400)
    error = res.html.select_one('#errors a[href="#field-event"]')
    assert error is not None and 'never stores' in error.text
    assert text not in error.text
    assert visits_held(world) == before


@pytest.mark.parametrize(
    ('field', 'value', 'message'),
    [
        ('contact_phone', '131052-0040', 'personal identity code'),
        ('contact_title', 'Matti Meikäläinen', 'person’s name'),
        ('contact_title', 'koordinaattori, Kauppakatu 5 B 12', 'street address'),
        ('name', 'Yhdistys 131052\u2013308T', 'personal identity code'),
        ('contact_email', 'nobody', 'Check the email address.'),
    ],
)
@pytest.mark.usefixtures('english_interface')
def test_the_partner_form_refuses_identifiers_and_stores_nothing(world, field, value, message):
    app = webtest.TestApp(world, extra_environ={'HTTP_HOST': 'example.com'})
    log_in(app, 'coord', PASSWORD)
    with edit_site(world) as site:
        before = len(site['registry'].partners)
    form = form_with(app.get('/registry/partner-add'), 'contact_email')
    form['name'] = 'Uusi yhdistys'
    form['kind'] = 'issuer_ngo'
    form['municipality'] = 'Jyväskylä'
    form[field] = value
    res = form.submit(status=400)
    error = res.html.select_one(f'#{field}-error')
    assert error is not None and message in error.text
    assert value not in error.text
    with edit_site(world) as site:
        assert len(site['registry'].partners) == before


def test_the_refusal_is_in_the_users_language(world):
    app = webtest.TestApp(world, extra_environ={'HTTP_HOST': 'example.com', 'HTTP_ACCEPT_LANGUAGE': 'fi'})
    res = app.post_json(
        '/registry/api/v1/visits',
        {'code': world.card, 'sector': 'sport', 'event': 'Uinti 131052–308T'},
        headers={'Authorization': f'Bearer {world.token}', 'Accept-Language': 'fi'},
        status=400,
    )
    assert 'henkilötunnukselta' in res.json['fields']['event']


@pytest.fixture
def ini(tmp_path):
    from portal.testing import write_ini

    return write_ini(
        tmp_path,
        **{'portal.load_on_start': 'false', 'kaiku_registry.signing_key': f'{tmp_path}/keys/signing.pem'},
    )


def test_the_csv_import_refuses_identifiers_and_bad_emails(ini, tmp_path, capsys):
    from kaiku_registry.scripts import main

    (tmp_path / 'partners.csv').write_text(
        'name,kind,municipality,region,contact_title,contact_email\n'
        'Hyvä,municipality,Tampere,Pirkanmaa,Kulttuurituottaja,kk@example.fi\n'
        'Osoite,municipality,Tampere,Pirkanmaa,Kauppakatu 5 B 12,\n'
        'Nimi,municipality,Tampere,Pirkanmaa,Matti Meikäläinen,\n'
        'Posti,municipality,Tampere,Pirkanmaa,,any text at all\n'
        'Hetu 131052\u2011308T,municipality,Tampere,Pirkanmaa,,\n'
        'Päivä,municipality,Tampere,Pirkanmaa,s. 13. lokakuuta 1952,\n',
        encoding='utf-8',
    )
    assert main([ini, 'import', 'partners', str(tmp_path / 'partners.csv')]) == 1
    err = capsys.readouterr().err
    # The import reads each row through the form's own schema, so it says what the form says.
    assert 'line 3: contact_title: This looks like a street address' in err
    assert 'line 4: contact_title: This looks like a person' in err
    assert 'line 5: contact_email: ' in err
    assert 'line 6: name: This looks like a personal identity code' in err
    assert 'line 7: contact_title: This holds a full date' in err
    assert '5 bad rows: nothing was imported' in err


@pytest.mark.parametrize('lang', ['fi', 'sv'])
def test_the_door_says_why_in_the_readers_language(world, lang):
    """The refusal was shown in English on Finnish and Swedish door pages (the form's errors lost their
    translation when colander joined them)."""
    world.registry.lookup_throttle.clear()
    door = webtest.TestApp(world, extra_environ={'HTTP_HOST': 'example.com'})
    log_in(door, 'pool', PASSWORD)
    form = door.get('/registry/door', params={'lang': lang}).forms[2]
    form['code'] = world.card
    record = next(f for f in form.submit(status=200).forms.values() if f.action.endswith('door-record'))
    record['sector'] = 'culture'
    record['event_new'] = 'Konsertti 131052\u2013308T'
    error = record.submit(status=400).html.select_one('#errors a[href="#field-event"]')
    assert error is not None and error.text.strip()
    assert 'never stores' not in error.text and 'This looks like' not in error.text
