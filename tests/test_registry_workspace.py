"""The registry's live figures on the onboarding workspace, through the portal's extension point."""

import datetime

import pytest

from portal.testing import TEST_PASSWORD, add_user, browser, edit_site

pytestmark = pytest.mark.usefixtures('english_interface')

TODAY = datetime.date(2026, 3, 15)
PATH = '/tyotilat/jyvaskyla/'


def _fill(registry, today=TODAY):
    """Jyväskylä: two issuer sites (one closed down), a venue site, three partners; Tampere: one of each."""
    city = registry.add_partner('Jyväskylän kaupunki', 'municipality', 'Jyväskylä', 'Keski-Suomi')
    county = registry.add_partner('Hyvinvointialue', 'wellbeing_county', 'Jyväskylä', 'Keski-Suomi')
    museum = registry.add_partner('Museo', 'venue_operator', 'Jyväskylä', 'Keski-Suomi')
    city.commitment_signed = today - datetime.timedelta(days=400)
    county.commitment_signed = today - datetime.timedelta(days=10)
    city.trained = today - datetime.timedelta(days=30)
    county.trained = today - datetime.timedelta(days=500)
    issuer = registry.add_site(county, 'Sosiaalitoimi', 'issuer')
    closed = registry.add_site(county, 'Lakkautettu', 'issuer')
    closed.active = False
    registry.add_site(museum, 'Museo', 'venue')
    tampere = registry.add_partner('Tampereen kaupunki', 'municipality', 'Tampere', 'Pirkanmaa')
    tampere.commitment_signed = today
    tampere.trained = today
    other = registry.add_site(tampere, 'Sosiaalitoimi', 'issuer')
    registry.add_site(tampere, 'Uimahalli', 'venue')
    for _ in range(3):
        registry.issue_card(issuer, today, 1980, '40100', 0)
    registry.issue_card(issuer, today - datetime.timedelta(days=40), 1975, '40100', 1)
    registry.issue_card(other, today, 1990, '33100', 0)


def test_counts_are_those_of_the_workspaces_municipality(make_app):
    from kaiku_registry.workspace import municipality_figures

    app = make_app()
    with edit_site(app) as site:
        registry = site['registry']
        _fill(registry)
        figures = municipality_figures(site['tyotilat']['jyvaskyla'], TODAY)
    assert [(str(label), value) for label, value in figures] == [
        ('Issuer sites', 1),
        ('Venue sites', 1),
        ('Signed commitments', 2),
        ('Partners whose staff were trained within a year', 1),
        ('Cards issued', 4),
    ]


def test_cards_are_counted_from_the_aggregates_not_the_cards(make_app):
    from kaiku_registry.workspace import municipality_figures

    app = make_app()
    with edit_site(app) as site:
        registry = site['registry']
        _fill(registry)
        registry.cards.clear()  # the aggregates alone must give the count
        figures = dict(municipality_figures(site['tyotilat']['jyvaskyla'], TODAY))
    assert figures['Cards issued'] == 4


def test_the_workspace_page_shows_the_live_counts(make_app):
    app = make_app()
    add_user(app, 'admin', TEST_PASSWORD, roles=['Administrator'])
    with edit_site(app) as site:
        _fill(site['registry'], today=datetime.date.today())
    page = browser(app, 'admin').get(PATH)
    figures = page.html.select_one('.workspace-figures')
    assert figures is not None
    pairs = dict(
        zip(
            [dt.get_text() for dt in figures.select('dt')],
            [dd.get_text() for dd in figures.select('dd')],
            strict=True,
        )
    )
    assert pairs['Issuer sites'] == '1'
    assert pairs['Venue sites'] == '1'
    assert pairs['Cards issued'] == '4'  # Tampere's card is not Jyväskylä's
