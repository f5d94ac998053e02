"""Coordinators' statistics: the page of their area's figures and its CSV download (the figures come from
:mod:`kaiku_registry.reports`)."""

from pyramid.httpexceptions import HTTPBadRequest, HTTPForbidden
from pyramid.response import Response
from pyramid.view import view_config

from kaiku_registry import today
from kaiku_registry.i18n import _
from kaiku_registry.models import CardRegistry
from kaiku_registry.pages import TEMPLATES, query
from kaiku_registry.reports import (
    bar_chart_svg,
    breakdown,
    expiring_by_site,
    summary,
    uses_by,
    uses_by_month_and_site,
)
from kaiku_registry.schemas import SECTOR_TITLES
from portal import spreadsheet


# Statistics ----------------------------------------------------------------------------------------
def report_area(context, request):
    """The area the requester may report on: their own for a coordinator, any for a national admin."""
    login = request.authenticated_userid
    national = bool(request.has_permission('registry.all_areas', context))
    area = context.area_of(login)
    municipality, region = query(request, 'municipality') or None, query(request, 'region') or None
    if not national:
        if area is None:
            raise HTTPForbidden()
        kind, name = area
        if kind == 'municipality':
            municipality, region = name, None
        else:
            region = name
            if municipality and municipality not in context.site_municipalities(region=name):
                municipality = None
    return municipality, region


@view_config(
    context=CardRegistry, name='stats', renderer=TEMPLATES + 'stats.pt', permission='registry.report'
)
def stats(context, request):
    municipality, region = report_area(context, request)
    match = {k: v for k, v in (('municipality', municipality), ('region', region)) if v}
    months = breakdown(context, 'adult_uses', 'month', **match)
    return {
        'municipality': municipality,
        'region': region,
        'figures': summary(context, today(), municipality=municipality, region=region),
        'by_municipality': uses_by(context, 'municipality', **match),
        'by_site': [
            (context.site(site_id), adults, children)
            for site_id, adults, children in uses_by(context, 'site', **match)
        ],
        'months': months,
        'chart': bar_chart_svg(
            request.localizer.translate(_('Uses by adults per month')), list(months.items())
        ),
        'expiring': expiring_by_site(context, today(), municipality, region),
        'sectors': SECTOR_TITLES,
        'municipalities': sorted(context.site_municipalities()),
        'regions': sorted(context.site_regions()),
    }


@view_config(context=CardRegistry, name='stats.csv', permission='registry.report')
def stats_csv(context, request):
    """Uses a month and site, adults and children by sector: in the reader's spreadsheet dialect with
    headers in the reader's language by default, or ``?dialect=plain`` with stable names for programs."""
    dialect = spreadsheet.dialect_for(request.GET.get('dialect'), request.locale_name)
    if dialect is None:
        raise HTTPBadRequest(_('Unknown CSV dialect: choose spreadsheet or plain.'))
    municipality, region = report_area(context, request)
    match = {k: v for k, v in (('municipality', municipality), ('region', region)) if v}
    writer = spreadsheet.Writer(dialect, places=0)
    sectors = [sector for sector, _title in SECTOR_TITLES]
    if dialect is spreadsheet.PLAIN:
        names = [*(f'adults_{s}' for s in sectors), *(f'children_{s}' for s in sectors)]
        writer.writerow(['month', 'site', *names])
    else:
        t = request.localizer.translate
        titles = [t(title) for _sector, title in SECTOR_TITLES]
        writer.writerow(
            [
                t(_('Month')),
                t(_('Site')),
                *(t(_('${sector}: adults', mapping={'sector': title})) for title in titles),
                *(t(_('${sector}: children', mapping={'sector': title})) for title in titles),
            ]
        )
    for month, site_id, adults, children in uses_by_month_and_site(context, **match):
        site = context.site(site_id)
        name = site.name if site else str(site_id)
        writer.writerow(
            [month, name, *(adults.get(s, 0) for s in sectors), *(children.get(s, 0) for s in sectors)]
        )
    response = Response(writer.encode(), content_type='text/csv', charset='utf-8')
    response.content_disposition = 'attachment; filename="kaikukortti-statistics.csv"'
    return response
