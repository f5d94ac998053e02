"""The registry's dashboard and its public impact page; the role's pages are in :mod:`kaiku_registry.pages`.

``query``, ``post`` and ``ROLE_TITLES`` are imported from here by older code: they live in
:mod:`kaiku_registry.pages`.
"""

from pyramid.view import view_config

from kaiku_registry import today
from kaiku_registry.i18n import _
from kaiku_registry.models import CardRegistry
from kaiku_registry.pages import ROLE_TITLES, TEMPLATES, post, query
from kaiku_registry.reports import (
    bar_chart_svg,
    public_figures,
)
from kaiku_registry.schemas import SECTOR_TITLES
from portal.clock import show_month
from portal.pagecache import uncacheable
from portal.places import named_choices, title_named

__all__ = ['ROLE_TITLES', 'home', 'impact', 'post', 'query']


# Dashboard ---------------------------------------------------------------------------------------
@view_config(context=CardRegistry, renderer=TEMPLATES + 'home.pt', permission='registry.use')
def home(context, request):
    login = request.authenticated_userid
    return {
        'site': context.site_of(login),
        'area': context.area_of(login),
        'can': {
            name: bool(request.has_permission(f'registry.{name}', context))
            for name in ('door', 'issue', 'report', 'manage', 'all_areas')
        },
    }


# Public --------------------------------------------------------------------------------------------
@view_config(context=CardRegistry, name='impact', renderer=TEMPLATES + 'impact.pt', permission='view_impact')
def impact(context, request):
    """The public impact page of one municipality: aggregates only, counts from 1 to 4 hidden and
    others with them so that none can be worked out (:func:`kaiku_registry.reports.public_figures`)."""
    uncacheable(request)  # its figures move with the registry's records, not with the catalog
    names = {site.municipality for site in context.sites.values()}
    asked = query(request, 'municipality')
    chosen = asked if asked in names else None
    page = {
        'choices': named_choices(names, request.locale_name),
        'chosen': chosen,
        'chosen_title': title_named(chosen, request.locale_name),
        'unknown': bool(asked) and chosen is None,
    }
    if chosen is None:
        return page
    shown = public_figures(context, today(), chosen)
    months = [(month, show_month(month, request.locale_name), count) for month, count in shown['months']]
    page.update(
        figures=shown['figures'],
        sectors=[(title, *shown['sectors'][sector]) for sector, title in SECTOR_TITLES],
        months=months,
        chart=bar_chart_svg(
            request.localizer.translate(_('Uses by adults per month')),
            [(label, count) for _month, label, count in months],
        ),
    )
    return page
