"""The Estimate and DecisionBrief types: numbers as people write them, the schema's checks, content files."""

import filecmp
import os
import shutil

import colander
import pytest

from portal.testing import REPO

MY_FILES = [
    'estimator.md',
    'estimator.sv.md',
    'estimator.en.md',
    'guides/kaikukortti-jyvaskyla-hyodyt-ja-kustannukset.md',
    'guides/kaikukortti-jyvaskyla-hyodyt-ja-kustannukset.sv.md',
    'guides/kaikukortti-jyvaskyla-hyodyt-ja-kustannukset.en.md',
]
CONTENT = os.path.join(REPO, 'content')


def _number(value):
    from portal.resources.estimate import Number

    return Number().deserialize(colander.SchemaNode(Number()), value)


class TestNumber:
    @pytest.mark.parametrize(
        ('text', 'value'),
        [('9,1', 9.1), ('9.1', 9.1), ('150 000', 150000), ('150\u00a0000', 150000), (' 38 ', 38), ('0', 0),
         ('.5', 0.5), (12, 12), (9.5, 9.5), (40.0, 40)],
    )  # fmt: skip
    def test_accepts_numbers_as_people_write_them(self, text, value):
        result = _number(text)
        assert result == value
        assert type(result) is type(value)

    @pytest.mark.parametrize('text', ['abc', 'nan', 'inf', '1e5', '1,2,3', '--1', '12 %', '9' * 31, True])
    def test_refuses_what_is_not_a_plain_number(self, text):
        with pytest.raises(colander.Invalid):
            _number(text)

    def test_empty_is_missing(self):
        assert _number('') is colander.null
        assert _number('  ') is colander.null


def _deserialize(cstruct):
    from portal.resources.estimate import inputs_schema

    return inputs_schema().deserialize(cstruct)


def _valid_cstruct():
    from portal.resources.estimate import INPUT_NAMES

    cstruct = {name: {'low': '1', 'expected': '2', 'high': '3'} for name in INPUT_NAMES}
    cstruct['sectors'] = {'culture': '40', 'education': '12', 'science': '4', 'sport': '44'}
    cstruct['payers'] = {'issuing_county': 'county', 'issuing_city': 'city', 'door': 'venues',
                         'coordination': 'city', 'training': 'city', 'printing': 'city', 'support': 'city',
                         'registry': 'city'}  # fmt: skip
    cstruct['break_even'] = {'cost_per_use': '10'}
    return cstruct


def _errors(cstruct):
    from portal.views.estimator import error_messages

    with pytest.raises(colander.Invalid) as info:
        _deserialize(cstruct)
    return {key: [str(m.interpolate() if hasattr(m, 'interpolate') else m) for m in msgs]
            for key, msgs in error_messages(info.value).items()}  # fmt: skip


class TestInputsSchema:
    def test_valid_inputs(self):
        values = _deserialize(_valid_cstruct())
        assert values['residents'] == {'low': 1, 'expected': 2, 'high': 3}
        assert values['sectors']['sport'] == 44

    def test_negative_non_numeric_and_over_100_percent(self):
        cstruct = _valid_cstruct()
        cstruct['residents']['low'] = '-5'
        cstruct['uses_per_card']['expected'] = 'many'
        cstruct['tight_share']['high'] = '120'
        cstruct['materials']['high'] = ''
        errors = _errors(cstruct)
        assert errors['residents_low'] == ['Enter zero or more.']
        assert errors['uses_per_card_expected'] == ['Enter a number, such as 12 or 9.5.']
        assert errors['tight_share_high'] == ['A share can be at most 100 %.']
        assert errors['materials_high'] == ['Enter a number.']
        assert len(errors) == 4

    def test_range_out_of_order(self):
        cstruct = _valid_cstruct()
        cstruct['activation'] = {'low': '50', 'expected': '38', 'high': '45'}
        errors = _errors(cstruct)
        assert list(errors) == ['activation']
        assert 'low value may not be above' in errors['activation'][0]

    def test_sectors_must_add_up_to_100(self):
        cstruct = _valid_cstruct()
        cstruct['sectors']['sport'] = '50'
        errors = _errors(cstruct)
        assert errors == {
            'sectors': ['The shares of the sectors must add up to 100 %; now they add up to 106 %.']
        }

    def test_too_large(self):
        cstruct = _valid_cstruct()
        cstruct['coordination_hours_per_partner']['high'] = '1001'
        assert _errors(cstruct) == {'coordination_hours_per_partner_high': ['Enter at most 1000.']}

    def test_a_payer_outside_the_list_is_refused(self):
        cstruct = _valid_cstruct()
        cstruct['payers']['door'] = 'the state'
        assert list(_errors(cstruct)) == ['payers_door']


@pytest.fixture
def registry(app):
    return app.registry


def _site_with_guides(registry):
    site = registry.content_types['Site'].create(state='published')
    site.add('guides', registry.content_types['Folder'].create({'title': 'Oppaat'}, state='published'))
    return site


@pytest.fixture
def my_content(tmp_path):
    """A copy of this feature's content files only, so the tests do not depend on the rest of content/."""
    directory = tmp_path / 'content'
    for name in MY_FILES:
        target = directory / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(os.path.join(CONTENT, name), target)
    return str(directory)


def test_my_content_files_load_without_problems(registry, my_content):
    from portal.loader import Loader

    site = _site_with_guides(registry)
    report = Loader(registry).load(site, my_content)
    assert report.problems == []
    assert len(report.added) == 2
    estimator = site['estimator']
    assert estimator.type_name == 'Estimate'
    inputs = estimator.inputs()
    assert inputs.activation.expected == 38
    assert inputs.uses_per_card.expected == 9.1
    assert sum(inputs.sectors.values()) == 100
    brief = site['guides']['kaikukortti-jyvaskyla-hyodyt-ja-kustannukset']
    assert brief.type_name == 'DecisionBrief'
    assert brief.compare_sectors['sport'] == 90
    assert 'residents' in brief.assumptions
    sources, lang = brief.source_texts('sv')
    assert lang == 'sv'
    assert 'Statistikcentralen' in sources['residents']


def test_every_input_has_a_source_text_in_every_language(registry, my_content):
    from portal.loader import Loader
    from portal.resources.estimate import INPUT_NAMES

    site = _site_with_guides(registry)
    Loader(registry).load(site, my_content)
    for item in (site['estimator'], site['guides']['kaikukortti-jyvaskyla-hyodyt-ja-kustannukset']):
        for lang in ('fi', 'sv', 'en'):
            sources, found = item.source_texts(lang)
            assert found == lang
            assert all(sources[name] for name in (*INPUT_NAMES, 'sectors'))


def test_unsourced_defaults_are_marked_as_assumptions(registry, my_content):
    """The resident counts have no source in the project's facts: they must be listed as assumptions."""
    from portal.loader import Loader

    site = _site_with_guides(registry)
    Loader(registry).load(site, my_content)
    brief = site['guides']['kaikukortti-jyvaskyla-hyodyt-ja-kustannukset']
    for item in (site['estimator'], brief):
        assert {'residents', 'tight_share', 'reach_share', 'ticket_value', 'hourly_cost'} <= set(
            item.assumptions
        )
        assert {'activation', 'uses_per_card'}.isdisjoint(item.assumptions)
    assert 'Tilastokeskuksen' in brief.source_texts('fi')[0]['residents']
    # Every input's source or assumption mark: the links give the year where the figure has one.
    links = brief.source_links()
    statistics = 'https://kaikukortti.fi/lisatietoa/kaikukortin-tilastot/'
    assert (statistics, 'kaikukortti.fi', 2023) in links['activation']
    assert links['residents'] == [('https://stat.fi/tilasto/vaerak', 'stat.fi', None)]


def test_my_content_files_round_trip_byte_for_byte(registry, my_content, tmp_path):
    from portal.loader import Dumper, Loader

    site = _site_with_guides(registry)
    Loader(registry).load(site, my_content)
    Dumper(registry).dump(site, str(tmp_path / 'dumped'))
    _match, mismatch, errors = filecmp.cmpfiles(my_content, tmp_path / 'dumped', MY_FILES, shallow=False)
    assert mismatch == []
    assert errors == []


def test_guide_item_follows_the_path(registry):
    site = _site_with_guides(registry)
    guide = registry.content_types['Guide'].create({'title': 'Opas'}, state='published')
    site['guides'].add('opas', guide)
    brief = registry.content_types['DecisionBrief'].factory()
    site['guides'].add('brief', brief)
    brief.guide = 'guides/opas'
    assert brief.guide_item() is guide
    brief.guide = 'guides/missing'
    assert brief.guide_item() is None
    brief.guide = 'guides'  # a folder, not a guide
    assert brief.guide_item() is None
    brief.guide = ''
    assert brief.guide_item() is None


def test_types_are_declared(registry):
    types = registry.content_types
    assert types['Estimate'].addable_in('Site')
    assert types['DecisionBrief'].addable_in('Folder')
    names = types['DecisionBrief'].field_names()
    assert {'residents', 'sectors', 'compare_sectors', 'sources', 'assumptions', 'funding_options'} <= set(
        names
    )


def test_deform_renders_an_edit_form_from_the_schema(registry, my_content):
    """The add and edit forms are generated from the declared schema: every input must have a widget."""
    import deform

    from portal.loader import Loader

    site = _site_with_guides(registry)
    Loader(registry).load(site, my_content)
    brief = site['guides']['kaikukortti-jyvaskyla-hyodyt-ja-kustannukset']
    content_type = registry.content_types.of(brief)
    schema = content_type.make_schema().bind()
    values = brief.field_values(content_type.field_names())
    html = deform.Form(schema, buttons=('save',)).render(values)
    assert 'name="expected" value="125000"' in html
    assert 'Statistics' in html or 'Tilastokeskuksesta' in html
    assert html.count('name="city_share"') == 3


def test_an_item_saved_before_the_cost_lines_existed_still_computes(registry, my_content):
    """A database from before issue 19 holds estimates with the old inputs only (monthly coordination
    hours, printing, training hours): the new inputs fall back to the example defaults and the old
    attributes are left as they were, so nothing is lost and the page still computes."""
    from portal.estimator import estimate
    from portal.loader import Loader
    from portal.resources.estimate import EXAMPLE_DEFAULTS

    site = _site_with_guides(registry)
    Loader(registry).load(site, my_content)
    item = site['estimator']
    for name in ('door_seconds', 'venues', 'payers', 'break_even', 'support'):
        delattr(item, name)
    item.coordination_hours = {'low': 20, 'expected': 40, 'high': 80}
    values = item.field_values(item.input_field_names())
    assert values['door_seconds'] == EXAMPLE_DEFAULTS['door_seconds']
    assert values['payers']['door'] == 'venues'
    assert item.coordination_hours['expected'] == 40
    result = estimate(item.inputs())
    assert result.total_cost.expected > 0
