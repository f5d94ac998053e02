"""The audit log page of the site (``@@audit``), filtered by action, person, path and days."""

from pyramid.httpexceptions import HTTPBadRequest
from pyramid.view import view_config

from portal.audit import audit_actions, audit_log, parse_day
from portal.i18n import _
from portal.resources.site import Site
from portal.security import VIEW_AUDIT
from portal.views.manage.common import THEME
from portal.views.public import page_number

AUDIT_PAGE = 100


AUDIT_FILTERS = ('action', 'actor', 'path', 'since', 'until')


@view_config(context=Site, name='audit', renderer=THEME + 'audit.pt', permission=VIEW_AUDIT)
def audit(context, request):
    """The audit log, newest first, filtered by action, person, path and days (``YYYY-MM-DD``)."""
    try:
        params = {key: request.GET.get(key, '').strip()[:200] for key in AUDIT_FILTERS}
    except UnicodeDecodeError as e:
        raise HTTPBadRequest(_('The address contains characters that are not valid UTF-8.')) from e
    page = page_number(request)
    since, until = parse_day(params['since']), parse_day(params['until'], end=True)
    errors = [
        label
        for key, label in (('since', _('From')), ('until', _('To')))
        if params[key] and (since if key == 'since' else until) is None
    ]
    entries, more = [], False
    log_ = audit_log(request, create=False)
    if log_ is not None and not errors:
        entries, more = log_.query(
            action=params['action'] or None,
            actor=params['actor'].lower() or None,
            path=params['path'] or None,
            since=since,
            until=until,
            offset=(page - 1) * AUDIT_PAGE,
            limit=AUDIT_PAGE,
        )
    query = {key: value for key, value in params.items() if value}
    newer = request.resource_url(context, '@@audit', query={**query, 'page': page - 1})
    older = request.resource_url(context, '@@audit', query={**query, 'page': page + 1})
    return {
        'entries': entries,
        'params': params,
        'actions': list(audit_actions(request.registry).items()),
        'action_titles': audit_actions(request.registry),
        'errors': errors,
        'page': page,
        'previous_url': newer if page > 1 else None,
        'next_url': older if more else None,
    }
