"""Coordinators' statistics: the page of their area's figures and its CSV download (the figures come from
:mod:`kaiku_registry.reports`).

The filters offer only the regions and municipalities the requester may see: a national admin any that
has a site, a regional coordinator the municipalities of their region, a municipal coordinator their
own.  A choice outside them is refused with a message (400), never quietly replaced by another area.
"""

from pyramid.httpexceptions import HTTPBadRequest, HTTPForbidden
from pyramid.response import Response
from pyramid.view import view_config

from kaiku_registry import today
from kaiku_registry.i18n import _
from kaiku_registry.models import CardRegistry
from kaiku_registry.pages import TEMPLATES, query
from kaiku_registry.reports import (
    area_months,
    bar_chart_svg,
    breakdown,
    expiring_by_site,
    summary,
    uses_by,
)
from kaiku_registry.schemas import SECTOR_TITLES
from portal import spreadsheet
from portal.clock import show_month
from portal.places import named_choices, title_named


# Statistics ----------------------------------------------------------------------------------------
def visible_areas(context, request):
    """``(regions, municipalities, own)``: what the requester may choose from, sorted, and the area
    shown when they choose nothing (``(municipality, region)``); 403 for a coordinator with no area."""
    if request.has_permission('registry.all_areas', context):
        return sorted(context.site_regions()), sorted(context.site_municipalities()), (None, None)
    area = context.area_of(request.authenticated_userid)
    if area is None:
        raise HTTPForbidden()
    kind, name = area
    if kind == 'municipality':
        return [], [name], (name, None)
    return [name], sorted(context.site_municipalities(region=name)), (None, name)


def report_area(context, request):
    """``(municipality, region, refusal)``: the area asked for, within what the requester may see.

    With no choice a coordinator sees their own area and a national admin the whole registry.  A
    choice outside the requester's areas (or a municipality outside the chosen region) gives their own
    area with ``refusal``, a message saying why the choice was not shown.
    """
    regions, municipalities, (own_municipality, own_region) = visible_areas(context, request)
    municipality, region = query(request, 'municipality') or None, query(request, 'region') or None
    for name, allowed in ((region, regions), (municipality, municipalities)):
        if name is not None and name not in allowed:
            refusal = _(
                '${name} is not among the areas whose figures you may see. Choose one from the list.',
                mapping={'name': name},
            )
            return own_municipality, own_region, refusal
    if region and municipality and municipality not in context.site_municipalities(region=region):
        refusal = _(
            '${municipality} is not in ${region}.', mapping={'municipality': municipality, 'region': region}
        )
        return own_municipality, own_region, refusal
    return municipality or own_municipality, region or own_region, None


@view_config(
    context=CardRegistry, name='stats', renderer=TEMPLATES + 'stats.pt', permission='registry.report'
)
def stats(context, request):
    regions, municipalities, _own = visible_areas(context, request)
    municipality, region, refusal = report_area(context, request)
    lang = request.locale_name
    if refusal is not None:
        request.response.status_int = 400
    match = {k: v for k, v in (('municipality', municipality), ('region', region)) if v}
    months = [
        (month, show_month(month, request.locale_name), count)
        for month, count in breakdown(context, 'adult_uses', 'month', **match).items()
    ]
    return {
        'municipality': municipality,
        'region': region,
        'refusal': refusal,
        'figures': summary(context, today(), municipality=municipality, region=region),
        'by_municipality': [
            (title_named(name, lang), adults, children)
            for name, adults, children in uses_by(context, 'municipality', **match)
        ],
        'by_site': [
            (context.site(site_id), adults, children)
            for site_id, adults, children in uses_by(context, 'site', **match)
        ],
        'months': months,
        'chart': bar_chart_svg(
            request.localizer.translate(_('Uses by adults per month')),
            [(label, count) for _month, label, count in months],
        ),
        'expiring': expiring_by_site(context, today(), municipality, region),
        'sectors': SECTOR_TITLES,
        'municipalities': named_choices(municipalities, lang),
        'regions': named_choices(regions, lang),
        'csv_query': match,
    }


#: The statistics download's columns before the uses by sector.
CSV_COLUMNS = (
    ('month', _('Month')),
    ('region', _('Region')),
    ('municipality', _('Municipality')),
    ('cards', _('Cards registered')),
    ('activated', _('Cards used for the first time')),
    ('active', _('Cards valid now')),
    ('expiring', _('Cards whose validity ends in the month')),
)


@view_config(context=CardRegistry, name='stats.csv', permission='registry.report')
def stats_csv(context, request):
    """Cards and uses per area and month, in the reader's spreadsheet dialect (semicolons and decimal
    commas in Finnish and Swedish) or, with ``?dialect=plain``, as plain CSV for programs; the headers
    in the reader's language either way."""
    dialect = spreadsheet.dialect_for(request.GET.get('dialect'), request.locale_name)
    if dialect is None:
        raise HTTPBadRequest(_('Unknown CSV dialect: choose spreadsheet or plain.'))
    municipality, region, refusal = report_area(context, request)
    if refusal is not None:
        raise HTTPBadRequest(refusal)
    t = request.localizer.translate
    writer = spreadsheet.Writer(dialect)
    writer.writerow([
        *(t(title) for _name, title in CSV_COLUMNS),
        *(t(_('Uses by adults: ${sector}', mapping={'sector': t(title)})) for _s, title in SECTOR_TITLES),
        *(t(_('Uses by children: ${sector}', mapping={'sector': t(title)})) for _s, title in SECTOR_TITLES),
    ])  # fmt: skip
    for_people = dialect.name == spreadsheet.SPREADSHEET.name
    for row in area_months(context, today(), municipality=municipality, region=region):
        if for_people:
            row = {
                **row,
                **{name: title_named(row[name], request.locale_name) for name in ('region', 'municipality')},
            }
        writer.writerow([
            *(row[name] for name, _title in CSV_COLUMNS),
            *(row['adult_uses'].get(sector, 0) for sector, _title in SECTOR_TITLES),
            *(row['child_uses'].get(sector, 0) for sector, _title in SECTOR_TITLES),
        ])  # fmt: skip
    response = Response(writer.encode(), content_type='text/csv', charset='utf-8')
    response.content_disposition = 'attachment; filename="kaikukortti-statistics.csv"'
    return response
