"""The registry's public impact page: aggregates only, small counts hidden, bad input handled."""

import pytest
import webtest

from portal.testing import edit_site


@pytest.fixture(scope='module')
def client(tmp_path_factory):
    from kaiku_registry import today
    from kaiku_registry.scripts import fill_demo
    from portal.testing import build_app, close_app

    app = build_app(str(tmp_path_factory.mktemp('views')))
    with edit_site(app) as site:
        registry = fill_demo(site['registry'], today(), cards_per_issuer=10)
        city = registry.add_partner('Juupajoen kunta', 'municipality', 'Juupajoki', 'Pirkanmaa')
        issuer = registry.add_site(city, 'Sosiaalitoimi', 'issuer')
        venue = registry.add_site(city, 'Museo', 'venue')
        for _ in range(3):
            card = registry.issue_card(issuer, today(), 1980, '33100', 0)
            registry.record_visit(card, venue, today(), 'culture')
    yield webtest.TestApp(app, extra_environ={'HTTP_HOST': 'example.com'})
    close_app(app)


def test_impact_page_lists_municipalities(client):
    res = client.get('/registry/impact', status=200)
    options = [o['value'] for o in res.html.select('#municipality option') if o['value']]
    assert {'Jyväskylä', 'Tampere', 'Juupajoki'} <= set(options)


def test_small_counts_are_hidden(client):
    res = client.get('/registry/impact?municipality=Juupajoki', status=200)
    facts = [dd.text for dd in res.html.select('dl.facts dd')]
    assert facts[:2] == ['< 5', '< 5']
    assert '3' not in facts
    culture = res.html.select('table tbody tr')[0].select('td')
    assert culture[0].text == '< 5'


def test_large_counts_are_shown_with_a_chart_and_its_table(client):
    res = client.get('/registry/impact?municipality=Tampere', status=200)
    assert int(res.html.select('dl.facts dd')[0].text) >= 5
    assert res.html.select_one('figure svg[role=img]') is not None
    assert len(res.html.select('table')) == 2


@pytest.mark.parametrize('value', ['Atlantis', '<script>alert(1)</script>', '%ff', 'x' * 5000])
def test_unknown_municipality_gets_a_message(client, value):
    res = client.get('/registry/impact', params={'municipality': value}, status=200)
    assert res.html.select_one('[role=alert]') is not None
    assert '<script>alert' not in res.text
