"""Text and numbers typed by people: ASCII digits only, and clean single-line text.

``\\d`` and ``str.isdigit`` accept ``٤٠١٠٠`` and ``４０١٠٠``, and Python's ``int`` reads them as 40100; a
postcode or a year is written with 0–9 only.  Every text field of every schema, found by walking them
(not a list kept by hand), refuses NUL, bidirectional overrides and zero-width characters; a single-line
field also refuses line breaks, and is stripped and NFC-normalised.
"""

import datetime
import importlib
import io
import pkgutil

import colander
import deform.widget
import pytest
import webtest

from portal.testing import add_user, edit_site, form_with, log_in

PASSWORD = 'text rules test passphrase 11'
#: Other scripts' digits 0 to 9, which str.isdigit() and \d take for digits.
UNICODE_DIGITS = {
    'arabic-indic': '٠١٢٣٤٥٦٧٨٩',
    'fullwidth': '０１２３４５６７８９',
    'devanagari': '०१२३४५६७८९',
    'math-bold': '𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗',
    'superscript': '⁰¹²³⁴⁵⁶⁷⁸⁹',
}
SCRIPTS = list(UNICODE_DIGITS)
#: Characters no text field takes: NUL, right-to-left override, zero-width space.
HOSTILE = {'nul': '\x00', 'rlo': '\u202e', 'zwsp': '\u200b'}


def foreign(text, script):
    """``text`` with its ASCII digits written in ``script``'s digits."""
    return text.translate(str.maketrans('0123456789', UNICODE_DIGITS[script]))


@pytest.fixture(scope='module')
def world(tmp_path_factory):
    from portal.testing import build_app, close_app

    app = build_app(str(tmp_path_factory.mktemp('text-rules')))
    with edit_site(app) as site:
        registry = site['registry']
        city = registry.add_partner('Jyväskylän kaupunki', 'municipality', 'Jyväskylä', 'Keski-Suomi')
        registry.set_member('issuer', registry.add_site(city, 'Sosiaalitoimi', 'issuer'))
        registry.set_area('coord', 'region', 'Keski-Suomi')
    add_user(app, 'issuer', PASSWORD, roles=['IssuerStaff'])
    add_user(app, 'coord', PASSWORD, roles=['Coordinator'])
    add_user(app, 'editor', PASSWORD, roles=['Editor'])
    yield app
    close_app(app)


def client(world, login):
    world.registry.lookup_throttle.clear()
    app = webtest.TestApp(world, extra_environ={'HTTP_HOST': 'example.com'})
    log_in(app, login, PASSWORD)
    return app


def card_count(world):
    with edit_site(world) as site:
        return len(site['registry'].cards)


def partner_names(world):
    with edit_site(world) as site:
        return sorted(p.name for p in site['registry'].partners.values())


# Digits ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize('script', SCRIPTS)
@pytest.mark.parametrize(
    ('field', 'good'), [('postcode', '40100'), ('birth_year', '1985'), ('children', '2')]
)
def test_the_issue_form_takes_ascii_digits_only(world, script, field, good):
    issuer = client(world, 'issuer')
    before = card_count(world)
    form = issuer.get('/registry/issue').forms[2]
    form['birth_year'], form['postcode'], form['children'] = '1985', '40100', '0'
    form[field] = foreign(good, script)
    res = form.submit(status=400)
    assert res.html.select_one(f'#{field}-error') is not None
    assert card_count(world) == before


@pytest.mark.parametrize('script', SCRIPTS)
def test_the_venue_form_takes_an_ascii_postcode_only(world, script):
    editor = client(world, 'editor')
    form = editor.get('/venues/@@add', params={'type': 'Venue'}).forms['edit-form']
    form['title'] = 'Uimahalli'
    form['postcode'] = foreign('40100', script)
    res = form.submit('save', status=400)
    assert 'Postinumerossa on viisi numeroa.' in res.html.select_one('.error-summary').text


def node_of(schema, name):
    return schema.bind(request=None, find_venue=lambda path: object())[name]


def numeric_nodes():
    """(name, node, a good value) of every field that reads digits typed by a person."""
    from kaiku_registry.schemas import IssueCardSchema, PartnerSchema, VisitSchema
    from portal.resources.estimate import number_node
    from portal.resources.venue import VenueSchema
    from portal.resources.workspace import Day

    return [
        ('card postcode', node_of(IssueCardSchema(), 'postcode'), '33100'),
        ('card birth year', node_of(IssueCardSchema(), 'birth_year'), '1985'),
        ('card children', node_of(IssueCardSchema(), 'children'), '2'),
        ('visit children', node_of(VisitSchema(), 'children'), '1'),
        ('partner phone', node_of(PartnerSchema(), 'contact_phone'), '+358 40 123 4567'),
        ('partner commitment', node_of(PartnerSchema(), 'commitment_signed'), '2025-01-15'),
        ('venue postcode', node_of(VenueSchema(), 'postcode'), '40100'),
        ('venue latitude', node_of(VenueSchema(), 'latitude'), '62.24'),
        ('estimate number', number_node('n', 1000), '12.5'),
        ('workspace day', colander.SchemaNode(Day()), '31.1.2026'),
        ('workspace iso day', colander.SchemaNode(Day()), '2026-01-31'),
    ]


@pytest.mark.parametrize('script', SCRIPTS)
def test_every_numeric_field_takes_ascii_digits_only(app, script):
    for name, node, good in numeric_nodes():
        node.deserialize(good)
        with pytest.raises(colander.Invalid):
            node.deserialize(foreign(good, script))
            pytest.fail(f'{name} took {foreign(good, script)!r}')


@pytest.mark.parametrize('script', SCRIPTS)
def test_the_model_and_the_import_take_ascii_digits_only(world, script):
    from kaiku_registry import today
    from kaiku_registry.models import RuleError
    from kaiku_registry.scripts import ImportFailed, import_csv

    with edit_site(world) as site:
        registry = site['registry']
        issuer = registry.site(registry.members['issuer'])
        with pytest.raises(RuleError):
            registry.issue_card(issuer, today(), 1985, foreign('40100', script), 0)
        for column, good in (('birth_year', '1985'), ('postcode', '40100'), ('site_id', str(issuer.id))):
            row = {'site_id': str(issuer.id), 'issued': today().isoformat(), 'birth_year': '1985'}
            row |= {'postcode': '40100', 'children': '0', 'gender': '', 'life_situation': ''}
            row[column] = foreign(good, script)
            text = ','.join(row) + '\n' + ','.join(row.values()) + '\n'
            with pytest.raises(ImportFailed) as failed:
                import_csv(registry, 'cards', io.StringIO(text))
            assert failed.value.errors[0][0] == 2


@pytest.mark.parametrize('script', SCRIPTS)
def test_a_signed_qr_payload_takes_ascii_digits_only(script):
    from kaiku_registry import codes

    key = codes.generate_key()
    public = codes.public_key_raw(key)
    code = codes.new_code()
    for until, children in (('20991231', foreign('2', script)), (foreign('20991231', script), '2')):
        message = f'KK1.{code}.{until}.{children}'
        payload = f'{message}.{codes._b64(key.sign(message.encode("utf-8")))}'
        with pytest.raises(codes.PayloadError):
            codes.verify_payload(public, payload)
    good = codes.sign_payload(key, code, datetime.date(2099, 12, 31), 2)
    assert codes.verify_payload(public, good) == (code, datetime.date(2099, 12, 31), 2)


@pytest.mark.parametrize('script', SCRIPTS)
def test_backup_points_are_named_with_ascii_digits(script):
    from portal.scripts.backup import POINT_RE

    assert POINT_RE.match('2026-12-05-10-00-00.fs')
    assert not POINT_RE.match(foreign('2026-12-05-10-00-00', script) + '.fs')


# Text -----------------------------------------------------------------------------------------------------
def all_schema_classes():
    """Every colander schema class defined in the portal and the plugin, found by importing them all."""
    import kaiku_registry
    import portal

    modules = set()
    for package in (portal, kaiku_registry):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + '.'):
            if '.evolve' in info.name:
                continue
            importlib.import_module(info.name)
            modules.add(info.name)
    found, todo = [], [colander.SchemaNode]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__ in modules:
            found.append(cls)
    return found


def string_nodes(schema, path=''):
    for child in schema.children:
        yield from string_nodes(child, f'{path}/{child.name}')
    if isinstance(schema.typ, colander.String):
        yield path, schema


def is_exempt(node):
    """Passwords are kept as typed; the CSRF token is Pyramid's to check before any view runs."""
    password = isinstance(node.widget, deform.widget.PasswordWidget | deform.widget.CheckedPasswordWidget)
    return password or node.name == 'csrf_token'


def refusal_of(node, value):
    """The characters the text rule named when it refused ``value``, or None when it took it."""
    try:
        node.deserialize(value)
    except colander.Invalid as e:
        named = []
        stack = [e]
        while stack:
            error = stack.pop()
            stack.extend(error.children)
            messages = error.msg if isinstance(error.msg, list) else [error.msg]
            named += [
                m.mapping['chars'] for m in messages if getattr(m, 'mapping', None) and 'chars' in m.mapping
            ]
        return ', '.join(named) or 'refused for another reason'
    return None


def function_built_schemas(request):
    """The schemas the portal builds in functions rather than classes, as its forms build them."""
    from portal.forms import make_form
    from portal.resources.workspace import step_form_schema
    from portal.views.auth import user_schema

    step = {'items': [{'text': 'Sovi työpari'}]}
    for name, schema in (
        ('user form (new)', user_schema(request, new=True)),
        ('user form (edit)', user_schema(request, new=False)),
        ('workspace step form', step_form_schema(step)),
    ):
        yield name, make_form(request, schema, ()).schema


@pytest.fixture
def every_schema(app, dummy_request):
    schemas = []
    for cls in all_schema_classes():
        schema = cls().bind(request=dummy_request, find_venue=lambda path: object())
        schemas.append((f'{cls.__module__}.{cls.__name__}', schema))
    schemas += list(function_built_schemas(dummy_request))
    assert len(schemas) > 20
    return schemas


@pytest.mark.parametrize('hostile', list(HOSTILE), ids=list(HOSTILE))
def test_every_text_field_of_every_schema_refuses_hostile_characters(every_schema, hostile):
    char = HOSTILE[hostile]
    code = f'U+{ord(char):04X}'
    checked, failures = 0, []
    for name, schema in every_schema:
        for path, node in string_nodes(schema):
            if is_exempt(node):
                continue
            checked += 1
            refusal = refusal_of(node, f'ab{char}c')
            if refusal is None or code not in refusal:
                failures.append(f'{name}{path}: {refusal}')
    assert checked > 60
    assert not failures


def test_single_line_fields_refuse_line_breaks_and_multi_line_fields_keep_them(every_schema):
    from portal.forms import is_multiline

    single = multi = 0
    for name, schema in every_schema:
        for path, node in string_nodes(schema):
            if is_exempt(node):
                continue
            if is_multiline(node):
                multi += 1
                assert refusal_of(node, 'ab\ncd\n\tef') in (None, 'refused for another reason'), name + path
            else:
                single += 1
                for br in ('\n', '\r', '\u2028', '\x85'):
                    assert refusal_of(node, f'ab{br}cd') is not None, f'{name}{path} took {br!r}'
    assert single > 40 and multi > 10


def test_single_line_text_is_stripped_and_nfc_normalised(world):
    from kaiku_registry.schemas import PartnerSchema

    name = PartnerSchema()['name']
    assert name.deserialize('  Cafe\u0301 Kulttuuri \t') == 'Café Kulttuuri'
    assert len(name.deserialize('Cafe\u0301')) == 4


def partner_form(world):
    coord = client(world, 'coord')
    form = form_with(coord.get('/registry/partner-add'), 'contact_email')
    form['kind'] = 'issuer_ngo'
    municipality = form['municipality']
    options = [value for value, _selected, _text in getattr(municipality, 'options', [])]
    municipality.value = next((v for v in options if v), None) or 'Jyväskylä'
    return form


@pytest.mark.parametrize('hostile', list(HOSTILE), ids=list(HOSTILE))
def test_a_partner_name_with_hostile_characters_is_refused_and_nothing_stored(world, hostile):
    before = partner_names(world)
    form = partner_form(world)
    form['name'] = f'Kulttuuri{HOSTILE[hostile]}yhdistys'
    res = form.submit(status=400)
    error = res.html.select_one('#name-error').text
    assert 'Poista näkymättömät merkit tai ohjausmerkit' in error
    assert f'U+{ord(HOSTILE[hostile]):04X}' in error
    assert partner_names(world) == before


def test_a_partner_name_is_stored_stripped_and_normalised(world):
    form = partner_form(world)
    form['name'] = '  Cafe\u0301-yhdistys  '
    form.submit(status=303)
    assert 'Café-yhdistys' in partner_names(world)


@pytest.mark.parametrize('hostile', list(HOSTILE), ids=list(HOSTILE))
def test_a_page_title_with_hostile_characters_is_refused(world, hostile):
    editor = client(world, 'editor')
    form = editor.get('/@@add', params={'type': 'Page'}).forms['edit-form']
    form['title'] = f'Ohje{HOSTILE[hostile]}sivu'
    form['body'] = 'Rivi yksi\n\nRivi kaksi'
    res = form.submit('save', status=400)
    assert 'class="field-error"' in res.text
