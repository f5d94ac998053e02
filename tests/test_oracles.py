"""Independent oracles for what the registry computes or promises: python-stdnum's Luhn mod N for the card
code's check character, and openapi-spec-validator for the API document, whose request schemas must agree
with what the API itself accepts and refuses."""

import json

import pytest
import webtest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate
from stdnum import luhn

from kaiku_registry import codes
from portal.testing import edit_site

API = '/registry/api/v1'


@given(st.text(alphabet=codes.ALPHABET, min_size=1, max_size=20))
def test_the_check_character_is_luhn_mod_n(body):
    assert codes.check_character(body) == luhn.calc_check_digit(body, alphabet=codes.ALPHABET)


@given(st.text(alphabet=codes.ALPHABET, min_size=codes.CODE_LENGTH, max_size=codes.CODE_LENGTH))
def test_a_code_is_valid_exactly_when_luhn_says_so(code):
    assert codes.is_valid(code) == luhn.is_valid(code, alphabet=codes.ALPHABET)


@pytest.fixture(scope='module')
def world(tmp_path_factory):
    from kaiku_registry import today
    from portal.testing import build_app, close_app

    app = build_app(str(tmp_path_factory.mktemp('oracles')), **{'portal.load_on_start': 'false'})
    with edit_site(app) as site:
        registry = site['registry']
        city = registry.add_partner('Kaupunki', 'municipality', 'Nokia', 'Pirkanmaa')
        issuer = registry.add_site(city, 'Sosiaalitoimi', 'issuer')
        venue = registry.add_site(city, 'Uimahalli', 'venue')
        card = registry.issue_card(issuer, today(), 1980, '37100', 2)
        world = {'app': app, 'token': registry.new_token(venue), 'card': card.code}
    yield world
    close_app(app)


@pytest.fixture(scope='module')
def spec(world):
    return webtest.TestApp(world['app']).get(f'{API}/openapi.json', status=200).json


def test_the_whole_document_is_valid_openapi(spec):
    validate(spec)


def request_schema(spec, path):
    ref = spec['paths'][path]['post']['requestBody']['content']['application/json']['schema']['$ref']
    return {'$ref': ref, 'components': spec['components']}


#: JSON values of every kind, for the fields of a request body.
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 300) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=4), inner, max_size=2),
    max_leaves=4,
)


def bodies(world):
    code = st.sampled_from([world['card'], world['card'].lower(), '23456789AB', 'x' * 201, ''])
    fields = st.fixed_dictionaries({}, optional={'code': code | VALUES, 'extra': VALUES})
    return fields | VALUES


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_verify_accepts_what_its_schema_accepts_and_refuses_the_rest(world, spec, data):
    """The document is the contract: a body its schema accepts is never refused as malformed, and a body
    it refuses is answered 400 with the documented error."""
    body = data.draw(bodies(world))
    validator = OAS31Validator(request_schema(spec, '/verify'))
    client = webtest.TestApp(world['app'], extra_environ={'HTTP_HOST': 'example.com'})
    res = client.post(
        f'{API}/verify',
        json.dumps(body),
        headers={'Authorization': f'Bearer {world["token"]}', 'Content-Type': 'application/json'},
        expect_errors=True,
    )
    if validator.is_valid(body):
        assert res.status_int in (200, 429), (body, res.status, res.text[:200])
    else:
        assert res.status_int == 400, (body, res.status)
        assert res.json['error'] == 'bad_request'
