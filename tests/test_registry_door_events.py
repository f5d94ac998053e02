"""A venue site's default sector and its list of events, and the door that uses them: the sector is
suggested from the venue page's categories and preselected at the door, a refused visit keeps what the
staff chose with the error beside its field, and the event is picked from the site's list or typed as a
new one, which joins the list through the identifier guard."""

import pytest
import webtest

from portal.testing import add_user, build_app, close_app, edit_site, log_in

PASSWORD = 'kaiku door events test passphrase 42'
VENUES = {
    'swimming': '/venues/lumikorven-uimahalli/',
    'course': '/venues/kaislarannan-kansalaisopisto/',
    'science': '/venues/tahtiniemen-planetaario/',
    'theatre': '/venues/kalliojoen-teatteri/',
}


@pytest.fixture(scope='module')
def world(tmp_path_factory):
    app = build_app(str(tmp_path_factory.mktemp('door-events')))
    with edit_site(app) as site:
        registry = site['registry']
        city = registry.add_partner('Kajaanin kaupunki', 'municipality', 'Kajaani')
        issuer = registry.add_site(city, 'Sosiaalitoimi Kajaani', 'issuer')
        venue = registry.add_site(city, 'Uimahalli Kajaani', 'venue', venue_path=VENUES['swimming'])
        venue.sector = 'sport'
        registry.set_member('venue', venue)
        card = registry.issue_card(issuer, registry_today(), 1980, '87100', 1)
        app.ids = {'partner': city.id, 'venue': venue.id, 'code': card.code}
    add_user(app, 'venue', PASSWORD, roles=['VenueStaff'])
    add_user(app, 'national', PASSWORD, roles=['NationalAdmin'])
    yield app
    close_app(app)


def registry_today():
    from kaiku_registry import today

    return today()


def client(app, login):
    app.registry.lookup_throttle.clear()
    testapp = webtest.TestApp(app, extra_environ={'HTTP_HOST': 'example.com'})
    log_in(testapp, login, PASSWORD)
    return testapp


def form_to(res, view, field=None):
    return next(
        form
        for form in res.forms.values()
        if form.action.endswith(view) and (field is None or field in form.fields)
    )


def site_record(app, site_id):
    with edit_site(app) as site:
        found = site['registry'].site(site_id)
        return found.sector, found.events


# The default sector -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ('venue', 'chosen', 'expected'),
    [
        ('swimming', '', 'sport'),
        ('course', '', 'education'),
        ('science', '', 'science'),
        ('theatre', '', 'culture'),
        (None, '', 'culture'),
        ('swimming', 'culture', 'culture'),
    ],
)
def test_a_new_venue_site_gets_the_sector_its_venue_page_suggests(world, venue, chosen, expected):
    admin = client(world, 'national')
    form = form_to(admin.get(f'/registry/site-add?partner={world.ids["partner"]}'), '/site-add')
    form['name'] = f'Kohde {venue} {chosen}'
    form['kind'] = 'venue'
    form['venue_path'] = VENUES.get(venue, '')
    form['sector'] = chosen
    res = form.submit(status=303).follow(status=200)
    site_id = int(res.request.params['id'])
    assert site_record(world, site_id)[0] == expected
    assert res.html.select_one('#sector option[selected]')['value'] == expected


def test_an_issuing_site_has_no_sector_and_a_bad_sector_is_refused_beside_its_field(world):
    admin = client(world, 'national')
    form = form_to(admin.get(f'/registry/site-add?partner={world.ids["partner"]}'), '/site-add')
    form['name'], form['kind'] = 'Jakopiste', 'issuer'
    res = form.submit(status=303).follow(status=200)
    assert site_record(world, int(res.request.params['id']))[0] is None
    form = form_to(admin.get(f'/registry/site-add?partner={world.ids["partner"]}'), '/site-add')
    form['name'], form['kind'] = 'Kohde', 'venue'
    form['sector'].force_value('painting')
    res = form.submit(status=400)
    assert res.html.select_one('#sector-error') is not None
    assert res.html.select_one('#sector')['aria-invalid'] == 'true'


def test_the_evolve_step_gives_existing_venue_sites_their_suggested_sector(world):
    from kaiku_registry import give_venue_sites_sectors

    with edit_site(world) as site:
        registry = site['registry']
        partner = registry.partner(world.ids['partner'])
        course = registry.add_site(partner, 'Opisto', 'venue', venue_path=VENUES['course'])
        plain = registry.add_site(partner, 'Museo', 'venue')
        issuer = registry.add_site(partner, 'Jakaja', 'issuer')
        give_venue_sites_sectors(site._p_jar.root(), world.registry)
        assert (course.sector, plain.sector, issuer.sector) == ('education', 'culture', None)


# The door -----------------------------------------------------------------------------------------
def check_card(door, code):
    form = form_to(door.get('/registry/door'), '/door')
    form['code'] = code
    return form_to(form.submit(status=200), '/door-record')


def test_the_door_preselects_the_sites_sector_and_keeps_the_choices_after_a_refusal(world):
    door = client(world, 'venue')
    record = check_card(door, world.ids['code'])
    assert record['sector'].value == 'sport'
    record['sector'] = 'education'
    record['course'] = True
    record['children'] = '1'
    res = record.submit(status=409)
    again = form_to(res, '/door-record')
    assert again['sector'].value == 'education'
    assert again['course'].checked
    assert again['children'].value == '1'
    assert res.html.select_one('#children-error') is not None
    assert res.html.select_one('#children')['aria-invalid'] == 'true'


def test_a_new_event_typed_at_the_door_joins_the_list_and_is_offered_next_time(world):
    door = client(world, 'venue')
    record = check_card(door, world.ids['code'])
    record['event_choice'] = '_new'
    record['event_new'] = 'Vesijumppa'
    res = record.submit(status=200)
    assert res.html.select_one('.status-ok') is not None
    assert 'Vesijumppa' in site_record(world, world.ids['venue'])[1]
    record = check_card(door, world.ids['code'])
    assert 'Vesijumppa' in [value for value, *_rest in record['event_choice'].options]
    record['event_choice'] = 'Vesijumppa'
    record.submit(status=200)
    with edit_site(world) as site:
        registry = site['registry']
        events = [v.event for v in registry.visits.values() if v.site_id == world.ids['venue']]
    assert events.count('Vesijumppa') == 2


@pytest.mark.parametrize(
    ('choice', 'typed'),
    [
        ('_new', 'Matti Meikäläinen'),
        ('_new', 'Uinti 131052-308T'),
        ('', 'Kauppakatu 5 B 12'),
        ('Ei listalla', ''),
    ],
)
def test_a_smuggled_or_unlisted_event_is_refused_beside_the_field_and_nothing_is_stored(world, choice, typed):
    door = client(world, 'venue')
    with edit_site(world) as site:
        before = (len(site['registry'].visits), site['registry'].site(world.ids['venue']).events)
    record = check_card(door, world.ids['code'])
    record['event_choice'].force_value(choice)
    record['event_new'] = typed
    res = record.submit(status=400)
    assert res.html.select_one('#event-error') is not None
    assert typed not in res.html.select_one('#event-error').text or not typed
    with edit_site(world) as site:
        assert (len(site['registry'].visits), site['registry'].site(world.ids['venue']).events) == before


def test_venue_staff_and_coordinators_keep_the_sites_list_of_events(world):
    door = client(world, 'venue')
    form = form_to(door.get('/registry/door-events'), '/door-events', 'name')
    form['name'] = 'Perhepäivä'
    res = form.submit(status=200)
    assert 'Perhepäivä' in site_record(world, world.ids['venue'])[1]
    form = form_to(res, '/door-events', 'name')
    form['name'] = '010101A123B'
    res = form.submit(status=400)
    assert res.html.select_one('#event-error') is not None
    admin = client(world, 'national')
    page = admin.get(f'/registry/site?id={world.ids["venue"]}')
    remove = next(
        f
        for f in page.forms.values()
        if f.action.endswith('/site-events')
        and f.get('remove', None) is not None
        and f['remove'].value == 'Perhepäivä'
    )
    remove.submit(status=200)
    assert 'Perhepäivä' not in site_record(world, world.ids['venue'])[1]


def test_sites_imported_from_csv_get_the_sector_the_form_would_give(world):
    import io

    from kaiku_registry.scripts import import_csv

    rows = (
        'partner,name,kind,municipality,region,venue_path,sector\n'
        f'Kajaanin kaupunki,Uimala,venue,,,{VENUES["swimming"]},\n'
        f'Kajaanin kaupunki,Opisto,venue,,,{VENUES["course"]},science\n'
        'Kajaanin kaupunki,Jakaja,issuer,,,,sport\n'
    )
    with edit_site(world) as site:
        registry = site['registry']
        before = {s.id for s in registry.all_sites()}  # earlier tests of the module may use these names
        assert import_csv(registry, 'sites', io.StringIO(rows)) == 3
        made = {s.name: s.sector for s in registry.all_sites() if s.id not in before}
    assert made == {'Uimala': 'sport', 'Opisto': 'science', 'Jakaja': None}
