"""Statistics from the running aggregates, and the small-count guard of public figures."""

import datetime
import re

import pytest

TODAY = datetime.date(2026, 11, 29)


@pytest.fixture
def demo():
    from kaiku_registry.models import CardRegistry
    from kaiku_registry.scripts import fill_demo

    return fill_demo(CardRegistry(), TODAY, cards_per_issuer=15)


@pytest.mark.parametrize(('n', 'shown'), [(0, 0), (1, '< 5'), (4, '< 5'), (5, 5), (1234, 1234)])
def test_public_counts_hide_one_to_four(n, shown):
    from kaiku_registry.reports import public_count

    assert public_count(n) == shown


def test_breakdowns_equal_a_recount_of_visits(demo):
    from kaiku_registry.models import month_of
    from kaiku_registry.reports import breakdown, uses_by

    live = [v for v in demo.visits.values() if not v.undone]
    by_municipality = breakdown(demo, 'adult_uses', 'municipality')
    for municipality, count in by_municipality.items():
        expected = sum(1 for v in live if demo.sites[v.site_id].municipality == municipality)
        assert count == expected
    assert sum(by_municipality.values()) == len(live)
    by_month = breakdown(demo, 'child_uses', 'month', region='Keski-Suomi')
    for month, count in by_month.items():
        expected = sum(
            v.children
            for v in live
            if month_of(v.date) == month and demo.sites[v.site_id].region == 'Keski-Suomi'
        )
        assert count == expected
    rows = uses_by(demo, 'site', municipality='Tampere')
    assert sum(sum(adults.values()) for _site, adults, _children in rows) == sum(
        1 for v in live if demo.sites[v.site_id].municipality == 'Tampere'
    )


def test_summary_for_an_area(demo):
    from kaiku_registry.reports import expiring_by_site, summary

    everything = summary(demo, TODAY)
    assert everything['cards'] == len(demo.cards)
    assert everything['activated'] == sum(1 for c in demo.cards.values() if c.uses)
    assert everything['active_now'] == sum(1 for c in demo.cards.values() if c.status(TODAY) == 'valid')
    soon = TODAY + datetime.timedelta(days=30)
    expiring = [c for c in demo.cards.values() if TODAY <= c.valid_until <= soon and not c.closed_reason]
    assert everything['expiring_soon'] == len(expiring)
    assert sum(count for _site, count in expiring_by_site(demo, TODAY)) == len(expiring)
    jkl = summary(demo, TODAY, municipality='Jyväskylä')
    assert jkl['cards'] == sum(1 for c in demo.cards.values() if c.municipality == 'Jyväskylä')
    assert 0 < jkl['cards'] < everything['cards']


def test_chart_is_escaped_svg():
    from kaiku_registry.reports import bar_chart_svg

    svg = bar_chart_svg('Käyttö "kuukausittain"', [('<script>', 3), ('B', 0)])
    assert svg.startswith('<svg') and svg.endswith('</svg>')
    assert '<script>' not in svg
    assert '&lt;script&gt;' in svg
    assert 'aria-label="Käyttö &quot;kuukausittain&quot;"' in svg


def test_chart_is_drawn_in_percent_across_so_its_text_is_never_scaled():
    from kaiku_registry.reports import bar_chart_svg

    svg = bar_chart_svg('Uses', [('2025-01', 40), ('2025-02', 10)])
    assert 'viewBox' not in svg and 'width="100%"' in svg
    widths = [float(width) for width in re.findall(r'<rect [^>]*width="([0-9.]+)%"', svg)]
    assert len(widths) == 2 and widths[0] == 4 * widths[1] and widths[0] <= 100


def test_chart_writes_a_hidden_count_as_the_table_does_and_draws_no_bar_for_it():
    from kaiku_registry.reports import bar_chart_svg

    svg = bar_chart_svg('Uses', [('2025-01', 40), ('2025-02', '< 5'), ('2025-03', '..')])
    assert '>&lt; 5</text>' in svg and '>..</text>' in svg
    assert '>0</text>' not in svg
    assert svg.count('width="0%"') == 2 and svg.count('<rect') == 3


def test_suppression_is_the_same_for_the_same_figures():
    from kaiku_registry.reports import suppress

    cells = {'total': 20, 'a': 3, 'b': 7, 'c': 10}
    first = suppress(cells, [('total', ['a', 'b', 'c'])])
    assert first == {'total': 20, 'a': '< 5', 'b': '..', 'c': 10}
    assert suppress(dict(reversed(cells.items())), [('total', ['c', 'b', 'a'])]) == first
