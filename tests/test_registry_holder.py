"""The holder's own view: code and year of birth show the card's validity, child tickets and this year's
uses; a wrong pair is answered as an unknown code; tries are limited per address and per code; the page
can be turned off."""

import pytest
import webtest

from portal.testing import build_app, close_app, edit_site


def make_app(directory, **settings):
    from kaiku_registry import today

    app = build_app(str(directory), **settings)
    with edit_site(app) as site:
        registry = site['registry']
        city = registry.add_partner('Tampereen kaupunki', 'municipality', 'Tampere', 'Pirkanmaa')
        issuer = registry.add_site(city, 'Sosiaalitoimi', 'issuer')
        venue = registry.add_site(city, 'Museo', 'venue')
        card = registry.issue_card(issuer, today(), 1980, '33100', 3)
        registry.record_visit(card, venue, today(), 'culture')
        registry.record_visit(card, venue, today(), 'sport', children=2)
        community = registry.issue_card(issuer, today(), None, None, 0, community=True)
    app.card_code, app.card_id, app.community_code = card.code, card.id, community.code
    return app


@pytest.fixture(scope='module')
def app(tmp_path_factory):
    app = make_app(tmp_path_factory.mktemp('holder'))
    yield app
    close_app(app)


def visitor(app, address='192.0.2.10'):
    app.registry.lookup_throttle.clear()
    return webtest.TestApp(app, extra_environ={'HTTP_HOST': 'example.com', 'REMOTE_ADDR': address})


def ask(client, code, year, status=200):
    form = client.get('/registry/my-card').forms['holder-form']
    form['code'], form['birth_year'] = code, year
    return form.submit(status=status)


def audit_entries(app, action):
    from portal.audit import LOG_KEY

    conn = app.registry._zodb_databases['audit'].open()
    try:
        return [e for e in conn.root()[LOG_KEY].entries.values() if e['action'] == action]
    finally:
        conn.close()


def test_the_right_pair_shows_validity_child_tickets_and_this_years_uses(app):
    from kaiku_registry import codes, today
    from kaiku_registry.records import one_year_on
    from portal.clock import show_day

    before = len(audit_entries(app, 'registry.card.holder_view'))
    res = ask(visitor(app), codes.grouped(app.card_code).lower(), '1980')
    facts = [dd.text for dd in res.html.select('.holder-card dd')]
    validity = f'{show_day(today(), "fi")}–{show_day(one_year_on(today()), "fi")}'
    assert facts == ['Voimassa', validity, '3', '2']
    assert 'no-store' in res.headers['Cache-Control']
    assert '33100' not in res.text  # nothing else shown
    entries = audit_entries(app, 'registry.card.holder_view')
    assert len(entries) == before + 1
    assert entries[-1]['detail'] == {'card': str(app.card_id)}
    assert app.card_code not in repr(entries[-1])


def main_text(res):
    main = res.html.select_one('main')
    for token in main.select('input[name=csrf_token]'):
        token.decompose()
    return str(main)


def test_a_wrong_pair_is_answered_as_an_unknown_code(app):
    from kaiku_registry import codes

    client = visitor(app)
    wrong_year = ask(client, app.card_code, '1981')
    unknown = ask(client, codes.new_code(), '1980')
    community = ask(client, app.community_code, '1980')
    assert wrong_year.html.select_one('.holder-not-found') is not None
    assert main_text(wrong_year) == main_text(unknown) == main_text(community)
    assert wrong_year.status_int == unknown.status_int
    assert app.card_code not in wrong_year.text


@pytest.mark.parametrize(
    ('code', 'year', 'field'),
    [
        ('', '1980', 'code'),
        ('NOT-A-CODE', '1980', 'code'),
        ('x' * 201, '1980', 'code'),
        ('KK1.AAAAAAAAAA.20991231.9.forged', '1980', 'code'),
        (None, '', 'birth_year'),
        (None, 'abc', 'birth_year'),
        (None, '１９８０', 'birth_year'),
        (None, '1800', 'birth_year'),
        (None, '3.4.1980', 'birth_year'),
    ],
)
def test_bad_input_gets_a_message_beside_its_field(app, code, year, field):
    before = len(audit_entries(app, 'registry.card.holder_view'))
    res = ask(visitor(app), app.card_code if code is None else code, year, status=400)
    assert res.html.select_one(f'#{field}-error') is not None
    assert res.html.select_one(f'#{field}')['aria-invalid'] == 'true'
    assert res.html.select_one('.holder-card') is None
    assert len(audit_entries(app, 'registry.card.holder_view')) == before


def test_tries_are_limited_per_address(app):
    from kaiku_registry import codes
    from kaiku_registry.pages.holder import ADDRESS_FAILURES

    client = visitor(app, '198.51.100.7')
    for _ in range(ADDRESS_FAILURES):
        ask(client, codes.new_code(), '1980')
    res = ask(client, app.card_code, '1980', status=429)
    assert int(res.headers['Retry-After']) > 0
    assert 'holder-card' not in res.text
    other = webtest.TestApp(app, extra_environ={'HTTP_HOST': 'example.com', 'REMOTE_ADDR': '198.51.100.8'})
    assert ask(other, app.card_code, '1980').html.select_one('.holder-card') is not None


def test_tries_are_limited_per_code_whatever_the_address(app):
    from kaiku_registry.pages.holder import CODE_FAILURES

    visitor(app)  # clears the throttle
    for n in range(CODE_FAILURES):
        client = webtest.TestApp(
            app, extra_environ={'HTTP_HOST': 'example.com', 'REMOTE_ADDR': f'203.0.113.{n}'}
        )
        ask(client, app.card_code, str(1990 + n))
    fresh = webtest.TestApp(app, extra_environ={'HTTP_HOST': 'example.com', 'REMOTE_ADDR': '203.0.113.99'})
    ask(fresh, app.card_code, '1980', status=429)


def test_the_form_checks_csrf(app):
    client = visitor(app)
    client.get('/registry/my-card')
    res = client.post('/registry/my-card', {'code': app.card_code, 'birth_year': '1980'}, status=400)
    assert 'Voimassa' not in res.text


def test_the_page_can_be_turned_off(tmp_path):
    app = make_app(tmp_path, **{'kaiku_registry.holder_view': 'false'})
    try:
        client = webtest.TestApp(app, extra_environ={'HTTP_HOST': 'example.com'})
        client.get('/registry/my-card', status=404)
        res = client.post(
            '/registry/my-card', {'code': app.card_code, 'birth_year': '1980'}, expect_errors=True
        )
        assert res.status_int in (400, 404) and '1980' not in res.text
    finally:
        close_app(app)


@pytest.mark.parametrize('path', ['/', '/kortinhaltijalle'])
@pytest.mark.parametrize('lang', ['fi', 'sv', 'en'])
def test_the_front_page_and_the_card_holders_page_link_the_holders_view(app, path, lang):
    client = visitor(app)
    res = client.get(path, params={'lang': lang}, status=200)
    link = res.html.select_one('main a[href="/registry/my-card"]')
    assert link is not None and link.text.strip(), (path, lang)
    assert client.get(link['href'], status=200).html.select_one('form#holder-form') is not None


@pytest.mark.parametrize(
    ('lang', 'never_kept'),
    [
        ('fi', ['nimeä', 'henkilötunnusta', 'syntymäaikaa', 'osoitetta']),
        ('sv', ['namn', 'personbeteckning', 'födelsedatum', 'adress']),
        ('en', ['name', 'identity code', 'date of birth', 'address']),
    ],
)
def test_the_page_says_in_the_holders_language_what_the_registry_never_keeps(app, lang, never_kept):
    """As the holder's information page and the issue form say: no name, identity code, date of birth or
    address (the page asks for the year of birth, so the date of birth must be named)."""
    page = visitor(app).get('/registry/my-card', params={'lang': lang}, status=200)
    helps = [p.get_text(' ', strip=True) for p in page.html.select('main p.help')]
    said = next(text for text in helps if never_kept[0] in text)
    assert [word for word in never_kept if word not in said] == []
