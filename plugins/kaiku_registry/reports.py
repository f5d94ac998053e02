"""Statistics for coordinators and the public, read from the registry's running aggregates.

Nothing here scans cards or visits, nor all the counters: every figure is a sum over the few statistics
slices that hold the dimensions asked for, or over the open-card tallies of the months asked for (see
:mod:`kaiku_registry.models`).  Public figures pass through :func:`public_count`,
which hides every count from 1 to 4 so that no holder can be singled out in a small municipality.
"""

import datetime
from xml.sax.saxutils import escape

from kaiku_registry.models import DIMENSIONS, slice_family  # noqa: F401 - DIMENSIONS kept for callers

SUPPRESS_BELOW = 5
EXPIRING_DAYS = 30


def public_count(n):
    """``n`` as the public may see it: a number, or ``'< 5'`` for 1 to 4."""
    return '< 5' if 0 < n < SUPPRESS_BELOW else n


def _grouped(registry, measures, by, match):
    """``{(measure, value of by, sector): count}`` over the slices that hold ``by`` and ``match``."""
    match = {name: value for name, value in match.items() if value is not None}
    sector = match.pop('sector', None)
    _family, names = slice_family([by, *match])
    position = None if by == 'sector' else names.index(by) + 1
    totals = {}
    for key, tally in registry.counts(by=(by,), **match):
        value = key[position] if position else None
        for (measure, in_sector), count in tally.items():
            if measure in measures and (sector is None or in_sector == sector):
                group = (measure, in_sector if position is None else value, in_sector)
                totals[group] = totals.get(group, 0) + count
    return totals


def breakdown(registry, measure, by, **match):
    """Totals of ``measure`` grouped by one dimension, filtered by the others: ``{value: count}``."""
    totals = {}
    for (_measure, value, _sector), count in _grouped(registry, (measure,), by, match).items():
        totals[value] = totals.get(value, 0) + count
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
    figures = dict.fromkeys(('cards', 'activated', 'adult_uses', 'child_uses'), 0)
    for _key, tally in registry.counts(**match):
        for (measure, _sector), count in tally.items():
            figures[measure] = figures.get(measure, 0) + count
    soon = today + datetime.timedelta(days=EXPIRING_DAYS)
    area = {'site_id': site_id, 'municipality': municipality, 'region': region}
    figures['active_now'] = registry.open_cards(today, **area)
    figures['expiring_soon'] = registry.open_cards(today, soon, **area)
    return {
        name: figures[name]
        for name in ('cards', 'activated', 'active_now', 'expiring_soon', 'adult_uses', 'child_uses')
    }


def expiring_by_site(registry, today, municipality=None, region=None):
    """(site, count) of cards expiring within 30 days, per issuing site, for reminders at the site."""
    soon = today + datetime.timedelta(days=EXPIRING_DAYS)
    counts = registry.open_cards_by_site(today, soon, municipality=municipality, region=region)
    rows = [(registry.sites.get(site_id), count) for site_id, count in counts.items()]
    return sorted(
        ((site, count) for site, count in rows if site is not None), key=lambda row: (row[0].name, row[0].id)
    )


def uses_by(registry, by, **match):
    """Rows of ``(value, {sector: adult uses}, {sector: child uses})`` grouped by a dimension."""
    rows = {}
    for (measure, value, sector), count in _grouped(
        registry, ('adult_uses', 'child_uses'), by, match
    ).items():
        if count:
            sectors = rows.setdefault(value, ({}, {}))[measure == 'child_uses']
            sectors[sector] = sectors.get(sector, 0) + count
    return [(value, adults, children) for value, (adults, children) in sorted(rows.items())]


def uses_by_month_and_site(registry, **match):
    """Rows of ``(month, site id, {sector: adult uses}, {sector: child uses})``, by month then site,
    read from the per-site monthly slices in one pass (for the CSV download)."""
    match = {name: value for name, value in match.items() if value is not None}
    rows = {}
    for key, tally in registry.counts(by=('site', 'month'), **match):
        _family, _region, _municipality, site_id, month = key
        adults, children = rows.setdefault((month, site_id), ({}, {}))
        for (measure, sector), count in tally.items():
            if measure in ('adult_uses', 'child_uses'):
                sectors = children if measure == 'child_uses' else adults
                sectors[sector] = sectors.get(sector, 0) + count
    return [
        (month, site_id, adults, children)
        for (month, site_id), (adults, children) in sorted(rows.items())
        if adults or children
    ]


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
