"""Statistics for coordinators and the public, read from the registry's running aggregates.

Nothing here scans cards or visits: every figure is a sum over aggregate counters or over the open-card
counts by date (see :mod:`kaiku_registry.models`).  Public figures pass through :func:`public_count`,
which hides every count from 1 to 4 so that no holder can be singled out in a small municipality.
"""

import datetime
from xml.sax.saxutils import escape

SUPPRESS_BELOW = 5
EXPIRING_DAYS = 30
DIMENSIONS = ('month', 'municipality', 'region', 'site', 'sector')


def public_count(n):
    """``n`` as the public may see it: a number, or ``'< 5'`` for 1 to 4."""
    return '< 5' if 0 < n < SUPPRESS_BELOW else n


def _matching(registry, measure, match):
    """``(key, count)`` for every aggregate of ``measure`` whose dimensions equal ``match``."""
    checks = [(DIMENSIONS.index(name) + 1, wanted) for name, wanted in match.items()]
    for key, counter in registry.aggregates.items((measure,), (measure, '\uffff')):
        if all(key[i] == wanted for i, wanted in checks):
            yield key, counter()


def breakdown(registry, measure, by, **match):
    """Totals of ``measure`` grouped by one dimension, filtered by the others: ``{value: count}``."""
    index = DIMENSIONS.index(by) + 1
    totals = {}
    for key, count in _matching(registry, measure, match):
        totals[key[index]] = totals.get(key[index], 0) + count
    return {value: count for value, count in sorted(totals.items()) if count}


def sites_of(registry, municipality=None, region=None, kind=None):
    return [
        site
        for site in registry.sites.values()
        if (municipality is None or site.municipality == municipality)
        and (region is None or site.region == region)
        and (kind is None or site.kind == kind)
    ]


def summary(registry, today, municipality=None, region=None, site_id=None):
    """The headline figures for an area (or the whole registry, or one site)."""
    match = {
        name: value
        for name, value in (('municipality', municipality), ('region', region), ('site', site_id))
        if value is not None
    }
    soon = today + datetime.timedelta(days=EXPIRING_DAYS)
    if site_id is not None:
        issuer_ids = [site_id]
    elif match:
        issuer_ids = [site.id for site in sites_of(registry, municipality, region, 'issuer')]
    else:
        issuer_ids = None
    if issuer_ids is None:
        active, expiring = registry.open_cards(today), registry.open_cards(today, soon)
    else:
        active = sum(registry.open_cards(today, site_id=i) for i in issuer_ids)
        expiring = sum(registry.open_cards(today, soon, site_id=i) for i in issuer_ids)
    return {
        'cards': registry.totals('cards', **match),
        'activated': registry.totals('activated', **match),
        'active_now': active,
        'expiring_soon': expiring,
        'adult_uses': registry.totals('adult_uses', **match),
        'child_uses': registry.totals('child_uses', **match),
    }


def expiring_by_site(registry, today, municipality=None, region=None):
    """(site, count) of cards expiring within 30 days, per issuing site, for reminders at the site."""
    soon = today + datetime.timedelta(days=EXPIRING_DAYS)
    rows = []
    for site in sites_of(registry, municipality, region, 'issuer'):
        count = registry.open_cards(today, soon, site_id=site.id)
        if count:
            rows.append((site, count))
    return rows


def uses_by(registry, by, **match):
    """Rows of ``(value, {sector: adult uses}, {sector: child uses})`` grouped by a dimension."""
    index = DIMENSIONS.index(by) + 1
    sector_index = DIMENSIONS.index('sector') + 1
    rows = {}
    for measure, slot in (('adult_uses', 0), ('child_uses', 1)):
        for key, count in _matching(registry, measure, match):
            sectors = rows.setdefault(key[index], ({}, {}))[slot]
            sectors[key[sector_index]] = sectors.get(key[sector_index], 0) + count
    return [(value, adults, children) for value, (adults, children) in sorted(rows.items())]


def bar_chart_svg(title, rows, width=640, bar_height=22):
    """A horizontal bar chart as SVG, drawn on the server; the page shows the same data as a table."""
    rows = [(str(label), int(value)) for label, value in rows]
    label_width = 200
    top = 8
    height = top * 2 + bar_height * max(1, len(rows))
    biggest = max((value for _label, value in rows), default=0) or 1
    scale = (width - label_width - 70) / biggest
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'class="chart" aria-label="{escape(title, {chr(34): "&quot;"})}">'
    ]
    for i, (label, value) in enumerate(rows):
        y = top + i * bar_height
        bar = max(1, round(value * scale)) if value else 0
        parts.append(
            f'<text x="{label_width - 8}" y="{y + bar_height * 0.68:.1f}" text-anchor="end">'
            f'{escape(label[:32])}</text>'
            f'<rect x="{label_width}" y="{y + 3}" width="{bar}" height="{bar_height - 6}" fill="#4b2882"/>'
            f'<text x="{label_width + bar + 6}" y="{y + bar_height * 0.68:.1f}">{value}</text>'
        )
    parts.append('</svg>')
    return ''.join(parts)
