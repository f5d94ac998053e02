"""The door's new paths through WebTest: a community card issued and recorded with its counted group, its
visits counted apart, and visits noted on paper entered afterwards; the bad inputs of each as well as the
good ones.  (The world and its steps: ``registry_paths``.)"""

import datetime

import pytest
from registry_paths import (
    audit_entries,
    build_world,
    client,
    finnish,
    registry_of,
    shown,
    today,
)

from portal.testing import close_app, edit_site, form_with


@pytest.fixture(scope='module')
def world(tmp_path_factory):
    app = build_world(str(tmp_path_factory.mktemp('door-paths')))
    yield app
    close_app(app)


# Community cards at the door -------------------------------------------------------------------------------
def community_card(world):
    app = client(world, 'issuer_a')
    forms = [f for f in app.get('/registry/issue').forms.values() if f.action.endswith('issue-community')]
    res = forms[0].submit(status=200)
    assert res.html.select_one('.card-kind') is not None
    assert len(res.html.select('.card-facts dt')) == 1  # the validity; no child tickets on a community card
    assert (
        len(res.html.select('.card-rules')) == 1
        and 'alle 16-vuotiaiden' in res.html.select_one('.card-rules').text
    )
    return res.html.select_one('.card-code').text.split()[-1]


def door_check(app, code):
    form = form_with(app.get('/registry/door'), 'code')
    form['code'] = code
    return form.submit(status=200)


def test_a_community_card_is_issued_without_holder_data_and_checked_at_the_door(world):
    code = community_card(world)
    with registry_of(world) as registry:
        card = registry.card_by_code(code.replace('-', ''))
        assert (card.community, card.birth_year, card.postcode, card.children) == (True, None, None, 0)
    door = client(world, 'venue_a')
    res = door_check(door, code)
    assert res.html.select_one('.community-rule') is not None
    assert res.html.select_one('#children') is None
    form = form_with(res, 'group')
    form['group'] = '12'
    res = form.submit(status=200)
    assert '12' in res.html.select_one('.status-ok').text
    with registry_of(world) as registry:
        counts = dict(registry.tallies[('all',)].items())
        assert counts[('community_uses', 'culture')] >= 1
        assert counts[('community_clients', 'culture')] >= 12


@pytest.mark.parametrize('group', ['0', '', '41', '999999', 'kaksi'])
def test_a_community_visit_needs_a_counted_group(world, group):
    code = community_card(world)
    door = client(world, 'venue_a')
    form = form_with(door_check(door, code), 'group')
    form['group'] = group
    res = form.submit(status=400)
    assert res.html.select_one('#group-error').text.strip()
    with registry_of(world) as registry:
        assert registry.card_by_code(code.replace('-', '')).uses == 0


def test_statistics_show_community_visits_apart(world):
    code = community_card(world)
    door = client(world, 'venue_a')
    form = form_with(door_check(door, code), 'group')
    form['group'] = '5'
    form.submit(status=200)
    res = client(world, 'national').get('/registry/stats', status=200)
    facts = dict(
        zip(
            [dt.text for dt in res.html.select('dl.facts dt')],
            [dd.text for dd in res.html.select('dl.facts dd')],
            strict=True,
        )
    )
    assert int(facts['Ryhmäkäynnit yhteisön Kaikukortilla']) >= 1
    assert int(facts['Alle 16-vuotiaita asiakkaita näissä ryhmissä']) >= 5
    res = client(world).get('/registry/impact?municipality=Tampere', status=200)
    facts = [dt.text for dt in res.html.select('dl.facts dt')]
    assert facts[-2:] == [
        'Ryhmäkäynnit yhteisön Kaikukortilla',
        'Alle 16-vuotiaita asiakkaita näissä ryhmissä',
    ]


# Visits entered afterwards --------------------------------------------------------------------------------
def holder_card(world, days_back=0):
    with edit_site(world) as site:
        registry = site['registry']
        issuer = registry.site(world.site_ids['issuer_a'])
        card = registry.issue_card(issuer, today() - datetime.timedelta(days=days_back), 1980, '33100', 2)
        return card.code


def late_form(app, code, day, **values):
    form = form_with(app.get('/registry/door-late'), 'day')
    form['code'], form['day'] = code, day
    for name, value in values.items():
        form[name] = value
    return form


def test_a_visit_noted_on_paper_is_entered_with_its_real_day(world):
    code = holder_card(world, days_back=40)
    day = today() - datetime.timedelta(days=12)
    app = client(world, 'venue_a')
    res = late_form(app, code, finnish(day), children='2').submit(status=200)
    assert shown(day) in res.html.select_one('.status-ok').text
    with registry_of(world) as registry:
        card = registry.card_by_code(code)
        (visit_id,) = registry.visit_ids_by_card[card.id]
        assert (registry.visit(visit_id).date, registry.visit(visit_id).children) == (day, 2)
    late = audit_entries(world, 'registry.visit.record_late')[-1]['detail']
    assert late['day'] == day.isoformat() and late['card'] == str(card.id)


@pytest.mark.parametrize(
    ('card_days_back', 'visit_days_back', 'extra', 'field'),
    [
        (60, 31, {}, 'day'),
        (60, -1, {}, 'day'),
        (5, 10, {}, 'day'),  # the card was not yet registered that day
        (60, 3, {'children': '3'}, 'children'),
        (60, 3, {'group': '4'}, 'group'),  # a holder's card admits no group
        (60, 3, {'sector': 'circus'}, 'sector'),
    ],
)
def test_a_late_visit_outside_the_rules_is_refused(world, card_days_back, visit_days_back, extra, field):
    code = holder_card(world, days_back=card_days_back)
    day = today() - datetime.timedelta(days=visit_days_back)
    app = client(world, 'venue_a')
    form = late_form(app, code, finnish(day))
    for name, value in extra.items():
        form[name].force_value(value) if name == 'sector' else form.__setitem__(name, value)
    res = form.submit(expect_errors=True)
    assert res.status_int in (400, 409)
    assert field in {a['href'].lstrip('#') for a in res.html.select('.error-summary a')}
    with registry_of(world) as registry:
        assert registry.card_by_code(code).uses == 0


def test_a_late_visit_of_an_unknown_code_is_refused(world):
    from kaiku_registry import codes

    app = client(world, 'venue_a')
    res = late_form(app, codes.grouped(codes.new_code()), finnish(today())).submit(status=400)
    assert res.html.select_one('#code-error') is not None
    client(world, 'issuer_a').get('/registry/door-late', status=403)


def test_the_same_paper_visit_entered_twice_asks_first(world):
    """The same card, day, site, sector and tickets again is most likely the same paper note typed twice:
    the page says when it was entered and records it again only when the staff confirm."""
    code = holder_card(world, days_back=40)
    day = today() - datetime.timedelta(days=3)
    app = client(world, 'venue_a')
    late_form(app, code, finnish(day), children='1').submit(status=200)
    res = late_form(app, code, finnish(day), children='1').submit(status=409)
    question = res.html.select_one('#same-visit')
    assert question['role'] == 'alert'
    assert question.text.strip().startswith('Tämä käynti on jo kirjattu ')
    with registry_of(world) as registry:
        card = registry.card_by_code(code)
        (first,) = [registry.visit(v) for v in registry.visit_ids_by_card[card.id]]
    from portal.clock import show_time

    assert show_time(first.recorded_at, 'fi') in question.text  # when, in Finnish time
    # the form keeps what was typed, and nothing was recorded
    form = form_with(res, 'day')
    assert (form['code'].value, form['day'].value, form['children'].value) == (code, finnish(day), '1')
    assert uses_of(world, code) == 1
    # a confirmation that saw only one earlier entry is not taken for a second one
    res = form.submit('again', status=200)
    assert shown(day) in res.html.select_one('.status-ok').text
    assert uses_of(world, code) == 2
    res = late_form(app, code, finnish(day), children='1').submit(status=409)
    stale = dict(form_with(res, 'day').submit_fields('again'))
    stale['again'] = '1'  # the count of the first question: two are entered now
    res = app.post('/registry/door-late', stale, status=409)
    assert res.html.select_one('#same-visit') is not None and uses_of(world, code) == 2


@pytest.mark.parametrize(
    'change', [{'children': '2'}, {'sector': 'sport'}, {'day': 4}, {'course': True, 'children': '0'}]
)
def test_a_paper_visit_that_differs_is_entered_without_a_question(world, change):
    code = holder_card(world, days_back=40)
    app = client(world, 'venue_a')
    late_form(app, code, finnish(today() - datetime.timedelta(days=3)), children='1').submit(status=200)
    day = today() - datetime.timedelta(days=change.pop('day', 3))
    form = late_form(app, code, finnish(day), children=change.pop('children', '1'))
    for name, value in change.items():
        form[name] = value
    res = form.submit(status=200)
    assert res.html.select_one('#same-visit') is None and uses_of(world, code) == 2


def test_a_visit_undone_is_not_a_duplicate(world):
    code = holder_card(world, days_back=40)
    day = today() - datetime.timedelta(days=2)
    app = client(world, 'venue_a')
    late_form(app, code, finnish(day)).submit(status=200)
    with edit_site(world) as site:
        registry = site['registry']
        card = registry.card_by_code(code)
        (visit_id,) = registry.visit_ids_by_card[card.id]
        registry.undo_visit(registry.visit(visit_id), registry.site(world.site_ids['venue_a']))
    late_form(app, code, finnish(day)).submit(status=200)
    assert uses_of(world, code) == 1


def uses_of(world, code):
    with registry_of(world) as registry:
        return registry.card_by_code(code).uses


# Dates and times in Finnish time ---------------------------------------------------------------------------
def test_the_doors_recent_visits_are_in_finnish_time_across_utc_midnight(world, monkeypatch):
    """22.20 UTC is 0.20 of the next day in Finland: the list shows 0.20, never 22.20.  (The next 22.20
    UTC to come, so that no visit of the other tests is newer.)"""
    from portal import clock

    code = holder_card(world, days_back=40)
    real = clock.now()
    recorded = real.replace(hour=22, minute=20, second=0, microsecond=0)
    recorded += datetime.timedelta(days=1) if recorded <= real else datetime.timedelta(0)
    with edit_site(world) as site:
        registry = site['registry']
        venue = registry.site(world.site_ids['venue_a'])
        registry.record_visit(registry.card_by_code(code), venue, today(), 'culture', now=recorded)
    door = client(world, 'venue_a')
    monkeypatch.setattr(clock, 'now', lambda: recorded + datetime.timedelta(minutes=10))
    for lang, time in (('fi', '0.20'), ('sv', '0.20'), ('en', '00:20')):
        rows = door.get('/registry/door', params={'lang': lang}).html.select(
            '#recent-heading ~ table tbody tr'
        )
        times = [row.select_one('td time') for row in rows]
        assert time in [each.text for each in times], lang
        texts = ' '.join(row.get_text(' ') for row in rows)
        assert '22.20' not in texts and '22:20' not in texts
    assert times[0]['datetime'] == recorded.isoformat()


def test_the_late_entry_form_preselects_the_sites_own_sector(world):
    """A paper visit of a swimming hall is not counted as culture by default: the form starts from the
    site's default sector, as the door does, and keeps the staff's choice after a refusal."""
    with edit_site(world) as site:
        site['registry'].site(world.site_ids['venue_a']).sector = 'sport'
    try:
        app = client(world, 'venue_a')
        form = form_with(app.get('/registry/door-late'), 'day')
        assert form['sector'].value == 'sport'
        form['sector'] = 'education'
        refused = form.submit(status=400)  # no code, no day
        assert form_with(refused, 'day')['sector'].value == 'education'
    finally:
        with edit_site(world) as site:
            site['registry'].site(world.site_ids['venue_a']).sector = None
