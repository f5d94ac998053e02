"""The registry's schemas refuse identifying data and out-of-range values with clear messages."""

import colander
import pytest


def _schema(name):
    from kaiku_registry import schemas

    return getattr(schemas, name)()


@pytest.mark.parametrize('text', ['Teatteri 131052-308T', 'syntynyt 12.3.1985', '010594Y9032'])
def test_identifiers_in_free_text_are_refused(text):
    with pytest.raises(colander.Invalid) as e:
        _schema('VisitSchema').deserialize({'sector': 'culture', 'event': text})
    assert 'event' in e.value.asdict()


def test_a_plain_event_name_is_kept():
    values = _schema('VisitSchema').deserialize({'sector': 'culture', 'event': 'Joulukonsertti 12.12.'})
    assert values['event'] == 'Joulukonsertti 12.12.'
    assert values['children'] == 0


@pytest.mark.parametrize(
    ('field', 'value'),
    [('birth_year', '2020'), ('birth_year', '1800'), ('birth_year', 'vuosi'), ('postcode', '123'),
     ('children', '-1'), ('children', '99'), ('gender', 'x'), ('life_situation', 'rich')],
)  # fmt: skip
def test_issue_form_refuses_bad_values(field, value):
    cstruct = {'birth_year': '1980', 'postcode': '40100', 'children': '1'}
    cstruct[field] = value
    with pytest.raises(colander.Invalid) as e:
        _schema('IssueCardSchema').deserialize(cstruct)
    assert field in e.value.asdict()


def test_issue_form_accepts_a_good_card():
    values = _schema('IssueCardSchema').deserialize({'birth_year': '1980', 'postcode': '40100'})
    assert values == {
        'birth_year': 1980,
        'postcode': '40100',
        'children': 0,
        'gender': None,
        'life_situation': None,
    }


def test_the_birth_year_rule_reads_the_year_when_it_checks(monkeypatch):
    """A process started in December still takes, in January, a holder who turns 16 in the new year."""
    import datetime

    from kaiku_registry import schemas

    node = schemas.IssueCardSchema()['birth_year']
    monkeypatch.setattr(schemas, 'today', lambda: datetime.date(2027, 1, 1))
    assert node.deserialize('2011') == 2011
    with pytest.raises(colander.Invalid):
        node.deserialize('2012')
    monkeypatch.setattr(schemas, 'today', lambda: datetime.date(2026, 12, 31))
    with pytest.raises(colander.Invalid):
        node.deserialize('2011')
