"""The review queue (``@@review`` of the site): the items pending review, who submitted each and when,
and, for a publisher, publishing or sending back each with a comment that the item's history keeps."""

from pyramid.httpexceptions import HTTPBadRequest, HTTPForbidden, HTTPSeeOther
from pyramid.traversal import find_resource, resource_path
from pyramid.view import view_config

from portal.catalog import Query, search
from portal.history import history_of
from portal.i18n import _
from portal.resources.site import Site
from portal.security import CONTENTS
from portal.views.manage.common import THEME, flash
from portal.views.manage.contents import comment_of, state_changes
from portal.views.search import principals_of
from portal.workflow import PENDING, transition

#: The most items the queue shows at once; a longer queue shows its oldest first.
QUEUE_LIMIT = 500
#: The transitions the queue offers.
DECISIONS = ('publish', 'reject')


def submission(item):
    """The revision that submitted ``item`` for review (who and when), or None when the history has none
    (an item submitted before transitions were recorded)."""
    history = history_of(item)
    return history.last_transition('submit') if history is not None else None


@view_config(context=Site, name='review', renderer=THEME + 'review.pt', permission=CONTENTS)
def review(context, request):
    """The items pending review that the requester may see, the longest waiting first."""
    if request.method == 'POST':
        return decide(context, request)
    query = Query(filters={'state': [PENDING]}, sort='newest', limit=QUEUE_LIMIT)
    catalog = context.catalog
    result = search(catalog, principals_of(request), query)
    rows = []
    for docid in reversed(result.docids):
        item = catalog.item_for(docid)
        content_type = request.registry.content_types.get(item.type_name)
        rows.append(
            {
                'item': item,
                'path': resource_path(item),
                'type': content_type.title if content_type else item.type_name,
                'submitted': submission(item),
                'decisions': [t for t in state_changes(item, request) if t.name in DECISIONS],
            }
        )
    return {'rows': rows, 'total': result.total}


def decide(context, request):
    """Publish or send back the item the form names; the decision needs its own permission on it."""
    try:
        item = find_resource(context, request.POST.get('path', ''))
    except (KeyError, ValueError):
        item = None
    if item is None or getattr(item, 'state', None) != PENDING:
        raise HTTPBadRequest(_('That item is no longer waiting for review.'))
    name = request.POST.get('transition', '')
    allowed = {t.name: t for t in state_changes(item, request) if t.name in DECISIONS}
    if name not in allowed:
        raise HTTPForbidden(_('That state change is not allowed.'))
    transition(item, name, request.registry, comment_of(request))
    flash(
        request,
        _(
            '${title}: ${decision}.',
            mapping={
                'title': item.text('title'),
                'decision': request.localizer.translate(allowed[name].title),
            },
        ),
    )
    return HTTPSeeOther(request.resource_url(context, '@@review'))
