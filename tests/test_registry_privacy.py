"""The identifier guard refuses identity codes, full dates, addresses and names in free text; each kind is
named, never the value (the property tests are in test_privacy_guard.py)."""

import colander
import pytest


def _callFUT(text):
    from kaiku_registry.privacy import find_identifier

    return find_identifier(text)


@pytest.mark.parametrize(
    'text',
    [
        '131052-308T',
        'hetu 010101A123B tässä',
        '311299-9872',
        '010594Y9032',
        '020300 B 123X',
        '12.3.1985',
        '1/1/2001',
    ],
)
def test_identifiers_are_found(text):
    assert _callFUT(text) is not None


@pytest.mark.parametrize(
    ('text', 'kind'),
    [
        ('131052–308T', 'identity_code'),
        ('131052\u2011308T', 'identity_code'),
        ('1310\u200b52-308T', 'identity_code'),
        ('131052308T', 'identity_code'),
        ('131052-0040', 'identity_code'),
        ('13. 10. 1952', 'date'),
        ('13.10.52', 'date'),
        ('13. lokakuuta 1952', 'date'),
        ('13 oktober 1952', 'date'),
        ('Matti Meikäläinen s. 1952-10-13', 'date'),
        ('Matti Meikäläinen', 'name'),
        ('Kauppakatu 5 B 12', 'address'),
        ('40100 Jyväskylä', 'address'),
    ],
)
def test_the_outside_testers_smuggling_attempts_are_found_by_kind(text, kind):
    assert _callFUT(text) == kind


def test_names_are_let_through_where_a_field_may_hold_them():
    from kaiku_registry.privacy import find_identifier

    assert find_identifier('Eino Leino -talo') == 'name'
    assert find_identifier('Eino Leino -talo', names_allowed=True) is None


def test_a_phone_number_is_not_an_identity_code_unless_its_check_character_fits():
    from kaiku_registry.privacy import find_identifier

    assert find_identifier('0401234567', strict=False) is None
    assert find_identifier('0401234567') == 'identity_code'


@pytest.mark.parametrize(
    'text', ['', None, 'Konsertti 12.3.', 'Lippuja 2 kpl', 'postinumero 40100', 'koodi ABCD-EFGH-JK', '2025']
)
def test_ordinary_text_passes(text):
    assert _callFUT(text) is None


def test_a_work_email_may_carry_a_staff_members_name_but_no_identity_code():
    from kaiku_registry.schemas import PartnerSchema

    node = PartnerSchema()['contact_email']
    assert node.deserialize('anna.virtanen@jyvaskyla.fi') == 'anna.virtanen@jyvaskyla.fi'
    with pytest.raises(colander.Invalid):
        node.deserialize('131052-308T@example.fi')
