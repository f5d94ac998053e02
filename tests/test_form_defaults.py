"""Forms whose defaults keep the data right: a new venue gives child tickets, a number takes a decimal
comma and shows one back, and a field that takes a fixed set of values is a list to choose from."""

import colander
import deform.widget
import pytest
import webtest

from portal.testing import add_user, edit_site, log_in

PASSWORD = 'correct horse battery staple'


@pytest.fixture
def editor(make_app):
    app = make_app(**{'portal.load_on_start': 'false'})
    add_user(app, 'editor', PASSWORD, roles=['Editor'])
    client = webtest.TestApp(app, extra_environ={'HTTP_HOST': 'example.com'})
    log_in(client, 'editor', PASSWORD)
    form = client.get('/@@add', params={'type': 'Folder'}).forms['edit-form']
    form['title'] = 'Kohteet'
    form.submit('save', status=303)
    return app, client


def venue_form(client, lang='fi'):
    form = client.get('/kohteet/@@add', params={'type': 'Venue', 'lang': lang}).forms['edit-form']
    form['title'] = 'Uimahalli'
    form['municipality'] = 'Jyväskylä'
    form['card_benefit'] = 'Ilmainen sisäänpääsy'
    next(box for box in form.fields['checkbox'] if box._value == 'swimming').checked = True
    return form


def saved_venue(app, name='uimahalli'):
    with edit_site(app) as site:
        venue = site['kohteet'][name]
        return venue.child_tickets, venue.latitude, venue.longitude


# A new venue gives child tickets ------------------------------------------------------------------------
def test_a_venue_added_through_the_web_gives_child_tickets_unless_told_otherwise(editor):
    app, client = editor
    form = venue_form(client)
    assert form['child_tickets'].checked, 'the add form starts from the rule of the card'
    form.submit('save', status=303)
    assert saved_venue(app)[0] is True


def test_a_venue_that_gives_no_child_tickets_can_still_say_so(editor):
    app, client = editor
    form = venue_form(client)
    form['child_tickets'].checked = False
    form.submit('save', status=303)
    assert saved_venue(app)[0] is False


# Numbers with a decimal comma ----------------------------------------------------------------------------
def _number(always_float=False):
    from portal.forms import Number

    return colander.SchemaNode(Number(always_float=always_float))


class TestNumber:
    @pytest.mark.parametrize(
        ('text', 'value'),
        [('62,23', 62.23), ('62.23', 62.23), (' 25,7472 ', 25.7472), ('\u221262,5', -62.5), ('62', 62.0)],
    )
    def test_a_coordinate_is_read_with_a_comma_or_a_point(self, text, value):
        result = _number(always_float=True).deserialize(text)
        assert result == value
        assert type(result) is float

    @pytest.mark.parametrize('text', ['62,2,3', '٦٢,٢', '６２,２', '62;23', '1e3', '62,23 N'])
    def test_what_is_not_a_number_is_refused_with_a_message(self, text):
        with pytest.raises(colander.Invalid) as refused:
            _number().deserialize(text)
        assert refused.value.msg == 'Enter a number, such as 12 or 9.5.'

    @pytest.mark.parametrize(
        ('lang', 'shown'), [('fi', '62,23'), ('sv', '62,23'), ('en', '62.23'), (None, '62.23')]
    )
    def test_a_number_is_shown_with_the_readers_decimal_separator(self, dummy_request, lang, shown):
        node = _number(always_float=True)
        if lang is not None:
            dummy_request.locale_name = lang
            node = node.bind(request=dummy_request)
        assert node.serialize(62.23) == shown
        assert node.serialize(25) == '25'
        assert node.deserialize(node.serialize(62.23)) == 62.23


def schema_nodes(app):
    """(where, node) of every node of every schema class of the application and its plugin."""
    from portal.forms import schema_classes

    found = []
    for cls in schema_classes():
        where = f'{cls.__module__}.{cls.__name__}'
        todo = [(where, node) for node in getattr(cls, '__all_schema_nodes__', ())]
        while todo:
            where, node = todo.pop()
            found.append((f'{where}/{node.name}', node))
            todo.extend((f'{where}/{node.name}', child) for child in node.children)
    assert len(found) > 100
    return found


def test_every_number_with_decimals_of_every_schema_takes_a_decimal_comma(app):
    from portal.forms import Number

    numbers = [(where, node) for where, node in schema_nodes(app) if isinstance(node.typ, Number)]
    venue = 'portal.resources.venue.VenueSchema'
    assert {f'{venue}/latitude', f'{venue}/longitude'} <= {where for where, _node in numbers}
    others = [
        where
        for where, node in schema_nodes(app)
        if isinstance(node.typ, colander.Float | colander.Decimal | colander.Money)
    ]
    assert others == [], 'these refuse 62,23: give them portal.forms.Number'


def test_coordinates_typed_with_a_decimal_comma_are_saved_and_shown_back_with_one(editor):
    app, client = editor
    form = venue_form(client)
    form['latitude'] = '62,2415'
    form['longitude'] = '25,7209'
    form.submit('save', status=303)
    assert saved_venue(app)[1:] == (62.2415, 25.7209)
    for lang, latitude in (('fi', '62,2415'), ('sv', '62,2415'), ('en', '62.2415')):
        # the interface language by its cookie: @@edit?lang=sv opens the Swedish translation instead
        client.set_cookie('lang', lang)
        edit = client.get('/kohteet/uimahalli/@@edit').forms['edit-form']
        assert edit['latitude'].value == latitude
    client.set_cookie('lang', 'fi')
    edit = client.get('/kohteet/uimahalli/@@edit').forms['edit-form']
    edit.submit('save', status=303)
    assert saved_venue(app)[1:] == (62.2415, 25.7209), 'saving the form unchanged keeps the figures'


def test_a_coordinate_that_is_not_a_number_is_refused_in_finnish(editor):
    _app, client = editor
    form = venue_form(client)
    form['latitude'] = '62°14′'
    res = form.submit('save', status=400)
    assert 'Anna luku, esimerkiksi 12 tai 9,5.' in res.text


# Closed lists are lists to choose from -------------------------------------------------------------------
def one_of(validator):
    if isinstance(validator, colander.All):
        return any(one_of(each) for each in validator.validators)
    return isinstance(validator, colander.OneOf)


def test_every_field_that_takes_a_fixed_set_of_values_is_a_list_to_choose_from(app):
    chosen = (deform.widget.SelectWidget, deform.widget.RadioChoiceWidget)
    typed = [
        where
        for where, node in schema_nodes(app)
        if one_of(node.validator) and not isinstance(node.widget, (*chosen, colander.deferred))
    ]
    assert typed == []


def test_a_materials_kind_is_chosen_from_translated_titles(editor):
    _app, client = editor
    for lang, poster in (('fi', 'Juliste'), ('sv', 'Affisch'), ('en', 'Poster')):
        page = client.get('/kohteet/@@add', params={'type': 'Material', 'lang': lang})
        select = page.html.select_one('select[name=kind]')
        assert select is not None, 'the kind is a list, not a text box'
        options = {option['value']: option.get_text(strip=True) for option in select.select('option')}
        assert list(options) == ['brochure', 'poster', 'form', 'logo', 'training', 'report']
        assert options['poster'] == poster
