"""Statistics for coordinators and the public, read from the registry's running aggregates.

Nothing here scans cards or visits, nor all the counters: every figure is a sum over the few statistics
slices that hold the dimensions asked for, or over the open-card tallies of the months asked for (see
:mod:`kaiku_registry.models`).

Public figures (:func:`public_figures`, the impact page and its chart) are published as one table per
municipality whose cells add up: the uses by adults are the sum of the sectors and the sum of the
months (every month from the registry's first to this one, so that a listed month says nothing about
its count), the uses by children the sum of the sectors.  :func:`suppress` hides every count from 1
to 4 (primary suppression, shown as "< 5"), and a 0 in any sum that holds a hidden cell too, so that a
"< 5" may be anything from 0 to 4; then it hides more cells (secondary suppression, shown as "..")
until no hidden count can be worked out from the published ones, by subtraction or by any chain of
sums.  It reasons as a determined reader would, who knows that a "< 5" cell holds 0 to 4, that a ".."
cell holds 5 or more (a smaller one would be a "< 5") and that a cell shown as 0 holds nothing.  No
figure of a region or of several municipalities is published, so the tables of two municipalities
share no sum.
"""

import datetime
from xml.sax.saxutils import escape

from kaiku_registry.models import DIMENSIONS, SECTORS, slice_family  # noqa: F401 - DIMENSIONS kept for callers

SUPPRESS_BELOW = 5
EXPIRING_DAYS = 30
#: How a hidden cell is shown: a count from 1 to 4, and a larger count hidden so that the small one
#: cannot be worked out.
PRIMARY = '< 5'
SECONDARY = '..'
#: The largest count a reader may assume a secondary cell holds (no bound in practice).
UNBOUNDED = 10**12
#: Narrowing the ranges settles in a few rounds for consistent sums; the cap only stops sums that do
#: not add up (which no registry produces) from looping.
PROPAGATION_ROUNDS = 200


def public_count(n):
    """``n`` as the public may see it on its own: a number, or ``'< 5'`` for 1 to 4.  A figure that is
    part of a sum is published through :func:`suppress` instead."""
    return PRIMARY if 0 < n < SUPPRESS_BELOW else n


def suppress(cells, relations):
    """``{key: shown}`` for ``cells`` (``{key: count}``) that are tied by ``relations`` (pairs of a
    total's key and its parts' keys): each count as a number, or :data:`PRIMARY` for 1 to 4, or
    :data:`SECONDARY` for a count hidden so that no hidden count can be worked out from the rest.

    A 0 in a sum that holds a hidden cell is shown as :data:`PRIMARY` too.  Secondary cells are picked
    one at a time, in the sum where a hidden count is still determined: the smallest shown part that is
    not 0, else the total.  The pick depends only on the counts, so the same figures are always hidden
    in the same way.
    """
    hidden = {key: PRIMARY for key, count in cells.items() if 0 < count < SUPPRESS_BELOW}
    relations = [(total, tuple(parts)) for total, parts in relations]
    while True:
        for total, parts in relations:
            members = (total, *parts)
            if any(key in hidden for key in members):
                hidden.update({key: PRIMARY for key in members if cells[key] == 0})
        exposed = _exposed(cells, relations, hidden)
        if exposed is None:
            break
        pick = _secondary_pick(cells, relations, hidden, exposed)
        if pick is None:
            break
        hidden[pick] = SECONDARY
    return {key: hidden.get(key, count) for key, count in cells.items()}


def _bounds(cells, hidden):
    """What a reader knows of each cell: ``{key: [lowest, highest]}``."""
    known = {PRIMARY: (0, SUPPRESS_BELOW - 1), SECONDARY: (SUPPRESS_BELOW, UNBOUNDED)}
    return {key: list(known[hidden[key]]) if key in hidden else [n, n] for key, n in cells.items()}


def _exposed(cells, relations, hidden):
    """A hidden cell whose count a reader can work out from the published cells, or None.

    The hidden parts of a shown total add up to what the shown parts leave: from 1 to 4, they are a
    small group given away together, and the first of them counts as exposed.  Then the reader narrows
    each cell's range by each sum (``total = sum of parts``) until nothing moves; a hidden cell whose
    range is one number is exposed.
    """
    for total, parts in relations:
        hidden_parts = [part for part in parts if part in hidden]
        if total in hidden or not hidden_parts:
            continue
        if 0 < cells[total] - sum(cells[part] for part in parts if part not in hidden) < SUPPRESS_BELOW:
            return hidden_parts[0]
    bounds = _bounds(cells, hidden)
    changed, rounds = True, 0
    while changed and rounds < PROPAGATION_ROUNDS:
        changed, rounds = False, rounds + 1
        for total, parts in relations:
            terms = [(total, 1)] + [(part, -1) for part in parts]
            for key, sign in terms:
                rest_low = sum(-s * (bounds[k][0] if -s > 0 else bounds[k][1]) for k, s in terms if k != key)
                rest_high = sum(-s * (bounds[k][1] if -s > 0 else bounds[k][0]) for k, s in terms if k != key)
                # sign * key = -(sum of the other signed terms)
                low, high = (rest_low, rest_high) if sign > 0 else (-rest_high, -rest_low)
                if low > bounds[key][0]:
                    bounds[key][0], changed = low, True
                if high < bounds[key][1]:
                    bounds[key][1], changed = high, True
    for key in cells:
        if key in hidden and bounds[key][0] >= bounds[key][1]:
            return key
    return None


def _secondary_pick(cells, relations, hidden, exposed):
    """The cell to hide next to protect ``exposed``: in the sums that hold it (fewest hidden first),
    the smallest shown part that is not 0, else the sum's total."""
    holding = [(total, parts) for total, parts in relations if exposed == total or exposed in parts]
    holding.sort(key=lambda relation: sum(key in hidden for key in (relation[0], *relation[1])))
    for total, parts in holding:
        shown = [part for part in parts if part not in hidden and cells[part] > 0]
        if shown:
            return min(shown, key=lambda part: (cells[part], str(part)))
        if total not in hidden and cells[total] > 0:
            return total
    for total, parts in relations:  # the sums that hold it are all hidden: widen from any other
        shown = [key for key in (*parts, total) if key not in hidden and cells[key] > 0]
        if shown:
            return min(shown, key=lambda key: (cells[key], str(key)))
    return None


def months_between(first, today):
    """Every month from ``first`` (``'2025-03'``, or None for none) to the month of ``today``."""
    if first is None:
        return []
    year, month = (int(part) for part in first.split('-'))
    months = []
    while (year, month) <= (today.year, today.month):
        months.append(f'{year:04d}-{month:02d}')
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def public_figures(registry, today, municipality):
    """The impact page's figures of one municipality, suppressed together (:func:`suppress`):
    ``{'figures': {name: shown}, 'sectors': {sector: (adults, children)}, 'months': [(month, shown)]}``.
    """
    figures = summary(registry, today, municipality=municipality)
    adults, children = {}, {}
    for _name, row_adults, row_children in uses_by(registry, 'municipality', municipality=municipality):
        adults, children = row_adults, row_children
    counted = breakdown(registry, 'adult_uses', 'month', municipality=municipality)
    months = dict.fromkeys(
        months_between(min(breakdown(registry, 'adult_uses', 'month'), default=None), today), 0
    )
    months.update(counted)
    cells = {('figure', name): value for name, value in figures.items()}
    cells.update({('adults', sector): adults.get(sector, 0) for sector in SECTORS})
    cells.update({('children', sector): children.get(sector, 0) for sector in SECTORS})
    cells.update({('month', month): count for month, count in months.items()})
    relations = [
        (('figure', 'adult_uses'), [('adults', sector) for sector in SECTORS]),
        (('figure', 'child_uses'), [('children', sector) for sector in SECTORS]),
        (('figure', 'adult_uses'), [('month', month) for month in months]),
    ]
    shown = suppress(cells, relations)
    return {
        'figures': {name: shown['figure', name] for name in figures},
        'sectors': {sector: (shown['adults', sector], shown['children', sector]) for sector in SECTORS},
        'months': [(month, shown['month', month]) for month in months],
    }


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


#: A community card's uses are counted apart from holders' uses: its staff members' tickets and the
#: clients under 16 who came with them.
COMMUNITY_MEASURES = ('community_uses', 'community_clients')


def summary(registry, today, municipality=None, region=None, site_id=None):
    """The headline figures for an area (or the whole registry, or one site)."""
    match = {
        name: value
        for name, value in (('municipality', municipality), ('region', region), ('site', site_id))
        if value is not None
    }
    figures = dict.fromkeys(('cards', 'activated', 'adult_uses', 'child_uses', *COMMUNITY_MEASURES), 0)
    for _key, tally in registry.counts(**match):
        for (measure, _sector), count in tally.items():
            figures[measure] = figures.get(measure, 0) + count
    soon = today + datetime.timedelta(days=EXPIRING_DAYS)
    area = {'site_id': site_id, 'municipality': municipality, 'region': region}
    figures['active_now'] = registry.open_cards(today, **area)
    figures['expiring_soon'] = registry.open_cards(today, soon, **area)
    return {
        name: figures[name]
        for name in (
            'cards',
            'activated',
            'active_now',
            'expiring_soon',
            'adult_uses',
            'child_uses',
            *COMMUNITY_MEASURES,
        )
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


def month_bounds(month):
    """The first and the last day of ``month`` (``'2026-02'``)."""
    year, number = (int(part) for part in month.split('-'))
    first = datetime.date(year, number, 1)
    following = datetime.date(year + 1, 1, 1) if number == 12 else datetime.date(year, number + 1, 1)
    return first, following - datetime.timedelta(days=1)


def area_months(registry, today, municipality=None, region=None):
    """The statistics download's rows: one per area (region and municipality) and month, by month, as
    ``{'month', 'region', 'municipality', 'cards', 'activated', 'active', 'expiring', 'adult_uses',
    'child_uses'}`` with the uses as ``{sector: count}``.

    ``cards`` are the cards registered in the month and ``activated`` those first used in it;
    ``expiring`` the open cards whose validity ends in the month (read from the open-card tallies, so a
    card closed early is not counted); ``active`` the cards valid now, on the row of this month only:
    the running aggregates know which cards are valid today, not which were valid on a past day.
    """
    match = {name: value for name, value in (('municipality', municipality), ('region', region)) if value}
    rows = {}
    for key, tally in registry.counts(by=('municipality', 'month'), **match):
        _family, in_region, in_municipality, month = key
        row = rows.setdefault(
            (month, in_region, in_municipality),
            {'month': month, 'region': in_region, 'municipality': in_municipality, 'cards': 0,
             'activated': 0, 'adult_uses': {}, 'child_uses': {}},
        )  # fmt: skip
        for (measure, sector), count in tally.items():
            if measure in ('adult_uses', 'child_uses'):
                row[measure][sector] = row[measure].get(sector, 0) + count
            elif measure in ('cards', 'activated'):
                row[measure] += count
    this_month = f'{today.year:04d}-{today.month:02d}'
    for (month, in_region, in_municipality), row in rows.items():
        area = {'municipality': in_municipality, 'region': in_region}
        row['expiring'] = registry.open_cards(*month_bounds(month), **area)
        row['active'] = registry.open_cards(today, **area) if month == this_month else None
    return [rows[key] for key in sorted(rows)]


def bar_chart_svg(title, rows, bar_height=30):
    """A horizontal bar chart as SVG, drawn on the server; the page shows the same data as a table.

    Across, it is drawn in percentages of its width and, down, in pixels, with no ``viewBox``: its text
    keeps the page's size at any width (a chart scaled to its width wrote 6 px text on a phone and 25 px on
    a wide screen), and only the bars grow and shrink.  A value that is not a number (a hidden count,
    :data:`PRIMARY` or :data:`SECONDARY`) is written as the table writes it, with no bar, so the chart
    shows exactly what the table shows.
    """
    rows = [(str(label), value if isinstance(value, str) else int(value)) for label, value in rows]
    label_share, value_room, top = 40, 15, 4  # percent of the width for labels and for the last figure
    height = top * 2 + bar_height * max(1, len(rows))
    biggest = max((value for _label, value in rows if isinstance(value, int)), default=0) or 1
    scale = (100 - label_share - value_room) / biggest
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="100%" height="{height}" role="img" '
        f'class="chart" aria-label="{escape(title, {chr(34): "&quot;"})}">'
    ]
    for i, (label, value) in enumerate(rows):
        y = top + i * bar_height
        bar = max(0.5, round(value * scale, 2)) if isinstance(value, int) and value else 0
        middle = f'y="{y + bar_height / 2:.1f}" dominant-baseline="central"'
        parts.append(
            f'<text x="{label_share - 2}%" {middle} text-anchor="end">{escape(label[:32])}</text>'
            f'<rect x="{label_share}%" y="{y + 4}" width="{bar:g}%" height="{bar_height - 8}" '
            'fill="#4b2882"/>'
            f'<text x="{label_share + bar:g}%" dx="6" {middle}>{escape(str(value))}</text>'
        )
    parts.append('</svg>')
    return ''.join(parts)
