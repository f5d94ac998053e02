"""The public face of each content type: home, folder listing, page, venue, material, guide, step."""

import math

from pyramid.httpexceptions import HTTPBadRequest, HTTPNotFound
from pyramid.response import FileIter, Response
from pyramid.view import view_config

from portal import places
from portal.catalog.listing import listing
from portal.forms import vocabulary_title
from portal.i18n import LANGUAGE_TITLES, _
from portal.resources.folder import Folder
from portal.resources.guide import ACTORS, Guide, Step
from portal.resources.material import AUDIENCES, KINDS, Material
from portal.resources.page import Page
from portal.resources.site import Site
from portal.resources.venue import ACCESSIBILITY, CATEGORIES, Venue
from portal.views.search import principals_of
from portal.views.seo import venue_jsonld

BATCH_SIZE = 20
THEME = 'kaiku_theme:templates/'


def page_number(request):
    """The ``page`` query parameter as a whole number from 1; anything else is a 400 with a reason."""
    try:
        values = request.GET.getall('page')
    except UnicodeDecodeError:
        values = ['?']
    if not values:
        return 1
    value = values[-1]
    if not (value.isascii() and value.isdigit()) or not 0 < int(value) < 100_000:  # not '²' or '١'
        raise HTTPBadRequest(_('The page number must be a whole number from 1 upwards.'))
    return int(value)


def visible_children(request, container):
    """The children of ``container`` the requester may view, in its order, from the catalog: only the
    items of the page shown are loaded."""
    return listing(container, principals_of(request), lambda child: request.has_permission('view', child))


def labels(vocabulary, values):
    return [vocabulary_title(vocabulary, value) for value in values]


@view_config(context=Site, renderer=THEME + 'home.pt', permission='view')
def home(context, request):
    return {'sections': visible_children(request, context)}


@view_config(context=Folder, renderer=THEME + 'folder.pt', permission='view')
def folder(context, request):
    children = visible_children(request, context)
    pages = max(1, math.ceil(len(children) / BATCH_SIZE))
    page = page_number(request)
    if page > pages:
        raise HTTPNotFound(
            _(
                'There is no page ${page}: the last page of this listing is ${pages}.',
                mapping={'page': page, 'pages': pages},
            )
        )
    start = (page - 1) * BATCH_SIZE
    return {
        'items': children.page(start, BATCH_SIZE),
        'total': len(children),
        'page': page,
        'pages': pages,
    }


@view_config(context=Page, renderer=THEME + 'page.pt', permission='view')
def page(context, request):
    return {}


@view_config(context=Venue, renderer=THEME + 'venue.pt', permission='view')
def venue(context, request):
    return {
        'categories': labels(CATEGORIES, context.categories),
        'accessibility': labels(ACCESSIBILITY, context.accessibility),
        'missing_accessibility': [
            title for value, title in ACCESSIBILITY if value not in context.accessibility
        ],
        'languages': labels(LANGUAGE_TITLES, context.languages),
        'jsonld': venue_jsonld(context, request.resource_url(context), request.locale_name),
        'places': {
            kind: places.title_of_named(kind, value, request.locale_name)
            for kind, value in (
                ('municipality', context.municipality),
                ('region', context.region),
                ('county', context.wellbeing_county),
            )
        },
    }


@view_config(context=Material, renderer=THEME + 'material.pt', permission='view')
def material(context, request):
    return {
        'kind': vocabulary_title(KINDS, context.kind),
        'audience': labels(AUDIENCES, context.audience),
        'language': vocabulary_title(LANGUAGE_TITLES, context.material_language),
    }


@view_config(context=Guide, renderer=THEME + 'guide.pt', permission='view')
def guide(context, request):
    steps = [step for step in context.steps() if request.has_permission('view', step)]
    return {'steps': steps, 'actors': ACTORS, 'labels': labels}


@view_config(context=Step, renderer=THEME + 'step.pt', permission='view')
def step(context, request):
    guide = context.__parent__
    steps = [s for s in guide.steps() if request.has_permission('view', s)]
    index = steps.index(context) if context in steps else -1
    return {
        'who': labels(ACTORS, context.who),
        'previous': steps[index - 1] if index > 0 else None,
        'next': steps[index + 1] if 0 <= index < len(steps) - 1 else None,
        'position': index + 1,
        'count': len(steps),
    }


def file_response(request, stored):
    """Serve a stored file safely: its sniffed type, nosniff, and as an attachment unless it is
    a picture or a PDF."""
    if stored is None:
        raise HTTPNotFound()
    disposition = 'inline' if stored.inline else 'attachment'
    response = Response(
        app_iter=FileIter(stored.open()),
        content_type=stored.mimetype,
        content_length=stored.size,
        conditional_response=True,
    )
    response.headers['Content-Disposition'] = f'{disposition}; filename="{stored.filename}"'
    response.headers['X-Content-Type-Options'] = 'nosniff'
    response.headers['Content-Security-Policy'] = "default-src 'none'; sandbox"
    response.cache_control.private = True
    response.cache_control.max_age = 3600
    return response


@view_config(context=Material, name='download', permission='view')
def download(context, request):
    return file_response(request, context.file)


@view_config(context=Venue, name='picture', permission='view')
def picture(context, request):
    return file_response(request, context.picture)
