"""The registry's web pages.  Each view is thin: it reads the request, asks the model or the reports,
and picks a template."""

from pyramid.view import view_config

from kaiku_registry import today
from kaiku_registry.i18n import _
from kaiku_registry.models import Registry
from kaiku_registry.reports import bar_chart_svg, breakdown, public_count, summary, uses_by
from kaiku_registry.schemas import SECTOR_TITLES

TEMPLATES = 'kaiku_registry:templates/'


def query(request, name):
    try:
        return request.GET.get(name)
    except UnicodeDecodeError:
        return None


@view_config(context=Registry, name='impact', renderer=TEMPLATES + 'impact.pt', permission='view_impact')
def impact(context, request):
    """The public impact page of one municipality: aggregates only, counts from 1 to 4 hidden."""
    choices = sorted({site.municipality for site in context.sites.values()})
    asked = query(request, 'municipality')
    chosen = asked if asked in choices else None
    page = {'choices': choices, 'chosen': chosen, 'unknown': bool(asked) and chosen is None}
    if chosen is None:
        return page
    figures = summary(context, today(), municipality=chosen)
    adults, children = {}, {}
    for _municipality, row_adults, row_children in uses_by(context, 'municipality', municipality=chosen):
        adults, children = row_adults, row_children
    months = breakdown(context, 'adult_uses', 'month', municipality=chosen)
    shown_months = [(month, public_count(count)) for month, count in months.items()]
    page.update(
        figures={name: public_count(value) for name, value in figures.items()},
        sectors=[
            (title, public_count(adults.get(sector, 0)), public_count(children.get(sector, 0)))
            for sector, title in SECTOR_TITLES
        ],
        months=shown_months,
        chart=bar_chart_svg(
            request.localizer.translate(_('Uses by adults per month')),
            [(month, count if isinstance(count, int) else 0) for month, count in shown_months],
        ),
    )
    return page
