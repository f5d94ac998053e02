"""A card's care at its issuing site: reprints, corrections of the children count and postcode with a
reason, renewal with the data confirmed or corrected, and the validity shown after a renewal."""

import datetime

import pytest
import webtest

from portal.testing import add_user, edit_site, log_in

PASSWORD = 'kaiku card care test passphrase 42'
TODAY = datetime.date(2026, 11, 29)


def _makeRegistry():
    from kaiku_registry.models import CardRegistry

    registry = CardRegistry()
    city = registry.add_partner('Tampereen kaupunki', 'municipality', 'Tampere', 'Pirkanmaa')
    issuer = registry.add_site(city, 'Sosiaalitoimi, keskusta', 'issuer')
    other = registry.add_site(city, 'Sosiaalitoimi, Hervanta', 'issuer')
    venue = registry.add_site(city, 'Uimahalli', 'venue')
    card = registry.issue_card(issuer, TODAY, 1980, '33100', 2)
    return registry, issuer, other, venue, card


def _rule_error():
    from kaiku_registry.models import RuleError

    return RuleError


# The model ---------------------------------------------------------------------------------------------
def test_a_correction_changes_the_values_and_writes_the_history():
    registry, issuer, _other, _venue, card = _makeRegistry()
    changed = registry.correct_card(card, issuer, TODAY, 'family_changed', children=3, postcode='33200')
    assert changed == ['children', 'postcode']
    assert (card.children, card.postcode) == (3, '33200')
    assert [(e.what, e.old, e.new, e.reason) for e in card.history] == [
        ('children', 2, 3, 'family_changed'),
        ('postcode', '33100', '33200', 'family_changed'),
    ]
    assert registry.correct_card(card, issuer, TODAY, 'typing_error', children=3) == []
    assert len(card.history) == 2


@pytest.mark.parametrize(
    ('kw', 'code'),
    [
        ({'reason': 'whim', 'children': 1}, 'bad_reason'),
        ({'reason': 'typing_error', 'children': 21}, 'bad_children'),
        ({'reason': 'typing_error', 'children': -1}, 'bad_children'),
        ({'reason': 'typing_error', 'children': 1, 'postcode': '3310'}, 'bad_postcode'),
        ({'reason': 'typing_error', 'children': 1, 'postcode': '３３１００'}, 'bad_postcode'),
    ],
)
def test_a_bad_correction_changes_nothing(kw, code):
    registry, issuer, _other, _venue, card = _makeRegistry()
    with pytest.raises(_rule_error()) as e:
        registry.correct_card(card, issuer, TODAY, **kw)
    assert e.value.code == code
    assert (card.children, card.postcode, card.history) == (2, '33100', ())


def test_only_the_issuing_site_corrects_or_reprints_an_open_card():
    registry, issuer, other, _venue, card = _makeRegistry()
    for act in (
        lambda site: registry.correct_card(card, site, TODAY, 'moved', postcode='33200'),
        lambda site: registry.reprint_card(card, site, TODAY),
    ):
        with pytest.raises(_rule_error()) as e:
            act(other)
        assert e.value.code == 'other_site'
    registry.close_card(card, 'lost', TODAY)
    with pytest.raises(_rule_error()) as e:
        registry.reprint_card(card, issuer, TODAY)
    assert e.value.code == 'closed'
    assert card.history == ()


def test_renewal_shows_the_current_period_and_records_checked_values():
    registry, issuer, _other, _venue, card = _makeRegistry()
    later = datetime.date(2027, 11, 30)
    registry.renew_card(card, issuer, later, children=1, postcode='33100')
    assert (card.valid_since, card.valid_until) == (later, datetime.date(2028, 11, 30))
    assert card.valid_from == TODAY  # the issue day, which the statistics count by
    assert [(e.what, e.reason) for e in card.history] == [('children', 'renewal'), ('renewal', '')]
    assert registry.verify(card.code, later).children == 1


def test_a_renewal_with_a_bad_value_renews_nothing():
    registry, issuer, _other, _venue, card = _makeRegistry()
    until = card.valid_until
    with pytest.raises(_rule_error()):
        registry.renew_card(card, issuer, datetime.date(2027, 11, 30), children=1, postcode='abcde')
    assert (card.valid_until, card.renewed_on, card.children, card.history) == (until, None, 2, ())


def test_uses_in_year_count_only_that_years_visits_not_undone():
    registry, _issuer, _other, venue, card = _makeRegistry()
    registry.record_visit(card, venue, TODAY, 'culture')
    undone = registry.record_visit(card, venue, TODAY, 'sport')
    registry.undo_visit(undone, venue)
    registry.record_visit(card, venue, datetime.date(2027, 1, 2), 'culture')
    assert registry.uses_in_year(card, 2026) == 1
    assert registry.uses_in_year(card, 2027) == 1


# The pages ---------------------------------------------------------------------------------------------
@pytest.fixture(scope='module')
def world(tmp_path_factory):
    from kaiku_registry import codes
    from portal.testing import build_app, close_app

    directory = tmp_path_factory.mktemp('care')
    key = directory / 'signing.pem'
    key.write_bytes(codes.private_key_pem(codes.generate_key()))
    app = build_app(str(directory), **{'kaiku_registry.signing_key': str(key)})
    with edit_site(app) as site:
        registry = site['registry']
        city = registry.add_partner('Tampereen kaupunki', 'municipality', 'Tampere', 'Pirkanmaa')
        registry.set_member('issuer_a', registry.add_site(city, 'Sosiaalitoimi A', 'issuer'))
        registry.set_member('issuer_b', registry.add_site(city, 'Sosiaalitoimi B', 'issuer'))
    for login in ('issuer_a', 'issuer_b'):
        add_user(app, login, PASSWORD, roles=['IssuerStaff'])
    yield app
    close_app(app)


def client(world, login='issuer_a'):
    world.registry.lookup_throttle.clear()
    app = webtest.TestApp(world, extra_environ={'HTTP_HOST': 'example.com'})
    log_in(app, login, PASSWORD)
    return app


def issued(app, children='2'):
    form = app.get('/registry/issue').forms[2]
    form['birth_year'], form['postcode'], form['children'] = '1985', '33100', children
    res = form.submit(status=200)
    return res, res.html.select_one('.card-code').text.split()[-1]


def card_page(app, code):
    form = app.get('/registry/cards').forms[2]
    form['code'] = code
    return form.submit(status=200)


def care_form(res):
    return next(f for f in res.forms.values() if f.action.endswith('card-correct'))


def stored(world, code):
    with edit_site(world) as site:
        card = site['registry'].card_by_code(code.replace('-', ''))
        return card.children, card.postcode, list(card.history), card.valid_since, card.valid_until


def audit_entries(world, action):
    from portal.audit import LOG_KEY

    conn = world.registry._zodb_databases['audit'].open()
    try:
        return [e for e in conn.root()[LOG_KEY].entries.values() if e['action'] == action]
    finally:
        conn.close()


def test_a_reprint_prints_the_same_code_and_qr_and_is_recorded(world):
    app = client(world)
    first, code = issued(app)
    page = card_page(app, code)
    reprint = next(f for f in page.forms.values() if f.action.endswith('card-reprint'))
    res = reprint.submit(status=200)
    assert res.html.select_one('.card-code').text.split()[-1] == code
    assert str(res.html.select_one('.card-qr svg')) == str(first.html.select_one('.card-qr svg'))
    assert res.html.select_one('[role=status]') is not None
    assert 'http://example.com/registry/my-card' in res.html.select_one('.card-rules').text
    assert [e.what for e in stored(world, code)[2]] == ['reprint']
    assert audit_entries(world, 'registry.card.reprint')[-1]['actor'] == 'issuer_a'


def test_a_changed_children_count_re_signs_the_qr_and_asks_for_a_reprint(world):
    app = client(world)
    first, code = issued(app)
    form = care_form(card_page(app, code))
    form['children'] = '4'
    form['reason'] = 'family_changed'
    res = form.submit(status=200)
    assert res.html.select_one('.card-code').text.split()[-1] == code
    assert str(res.html.select_one('.card-qr svg')) != str(first.html.select_one('.card-qr svg'))
    assert [dd.text for dd in res.html.select('.card-facts dd')][1] == '4'
    assert res.html.select_one('.status-ok').text
    assert stored(world, code)[0] == 4
    entry = audit_entries(world, 'registry.card.correct')[-1]
    assert list(entry['detail']['changed']) == ['children'] and entry['detail']['reason'] == 'family_changed'
    assert set(entry['detail']) == {'card', 'site', 'changed', 'reason'}  # which values, never the values
    rows = card_page(app, code).html.select('.card-history tbody tr')
    assert [td.text for td in rows[0].select('td')][2] == '2 → 4'


def test_a_changed_postcode_is_saved_on_the_card_page(world):
    app = client(world)
    _res, code = issued(app)
    form = care_form(card_page(app, code))
    form['postcode'] = '33500'
    form['reason'] = 'moved'
    res = form.submit(status=200)
    assert res.html.select_one('.status-ok') is not None
    assert res.html.select_one('.card-qr') is None
    assert stored(world, code)[1] == '33500'
    assert len(res.html.select('.card-history tbody tr')) == 1


@pytest.mark.parametrize(
    ('field', 'value'),
    [
        ('children', 'x'),
        ('children', '21'),
        ('children', '-1'),
        ('postcode', '3310a'),
        ('reason', ''),
        ('reason', 'whim'),
    ],
)
def test_a_bad_correction_is_shown_beside_its_field_and_nothing_changes(world, field, value):
    app = client(world)
    _res, code = issued(app)
    before = stored(world, code)
    form = care_form(card_page(app, code))
    form['children'], form['reason'] = '3', 'typing_error'
    if field == 'reason':
        form[field].force_value(value)
    else:
        form[field] = value
    res = form.submit(status=400)
    assert res.html.select_one(f'#{field}-error') is not None
    assert res.html.select_one('#errors') is not None
    assert stored(world, code) == before


def test_renewal_prints_the_card_anew(world):
    from kaiku_registry import today
    from kaiku_registry.records import one_year_on
    from portal.clock import show_day

    app = client(world)
    _res, code = issued(app)
    form = care_form(card_page(app, code))
    form['children'] = '1'
    # WebTest does not follow a button's formaction: the renewal button's form fields go to card-renew.
    res = app.post('/registry/card-renew', dict(form.submit_fields()), status=200)
    assert res.html.select_one('.card-code').text.split()[-1] == code
    children, _postcode, history, since, until = stored(world, code)
    assert (children, since, until) == (1, today(), one_year_on(today()))
    assert [(e.what, e.reason) for e in history] == [('children', 'renewal'), ('renewal', '')]
    shown = card_page(app, code).html.select('dl.facts dd')[1].text
    assert shown == f'{show_day(today(), "fi")}–{show_day(one_year_on(today()), "fi")}'


def test_another_sites_card_is_not_corrected(world):
    app = client(world)
    _res, code = issued(app)
    page = card_page(app, code)
    card_id = care_form(page)['card_id'].value
    other = client(world, 'issuer_b')
    csrf = other.get('/registry/cards').forms[2]['csrf_token'].value
    for name in ('card-correct', 'card-renew', 'card-reprint'):
        other.post(
            f'/registry/{name}',
            {'csrf_token': csrf, 'card_id': card_id, 'children': '9', 'reason': 'typing_error'},
            status=400,
        )
    assert stored(world, code)[0] == 2 and stored(world, code)[2] == []


def test_corrections_check_csrf(world):
    app = client(world)
    _res, code = issued(app)
    card_id = care_form(card_page(app, code))['card_id'].value
    app.post(
        '/registry/card-correct', {'card_id': card_id, 'children': '9', 'reason': 'typing_error'}, status=400
    )
    assert stored(world, code)[0] == 2


def test_the_card_history_is_dated_by_the_finnish_day_across_utc_midnight(world, monkeypatch):
    """A reprint at 22.30 UTC is done at 0.30 of the next day in Finland: the history shows that day."""
    from portal import clock
    from portal.clock import show_day

    app = client(world)
    _res, code = issued(app)
    page = card_page(app, code)
    reprint = next(f for f in page.forms.values() if f.action.endswith('card-reprint'))
    late_evening = clock.now().replace(hour=22, minute=30, second=0, microsecond=0)
    monkeypatch.setattr(clock, 'now', lambda: late_evening)
    reprint.submit(status=200)
    finnish_day = late_evening.date() + datetime.timedelta(days=1)
    assert [event.day for event in stored(world, code)[2]] == [finnish_day]
    for lang in ('fi', 'sv'):
        app.get('/registry/cards', params={'lang': lang})
        first = card_page(app, code).html.select_one('.card-history tbody tr td')
        assert first.text == show_day(finnish_day, lang), lang
    assert first.text == f'{finnish_day.day}.{finnish_day.month}.{finnish_day.year}'  # Finnish format
