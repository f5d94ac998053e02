"""``/robots.txt`` and ``/sitemap.xml`` for search engines."""

from xml.sax.saxutils import escape

from pyramid.response import Response
from pyramid.view import view_config

from portal.resources.site import Site
from portal.workflow import PUBLISHED


@view_config(context=Site, name='robots.txt', permission='view')
def robots(context, request):
    body = f'User-agent: *\nDisallow: /@@\nSitemap: {request.resource_url(context, "sitemap.xml")}\n'
    return Response(body, content_type='text/plain', charset='utf-8')


def published_items(container):
    """Every published item under ``container`` whose parents are published too."""
    for child in container.values():
        if child.state != PUBLISHED:
            continue
        yield child
        if child.is_container:
            yield from published_items(child)


@view_config(context=Site, name='sitemap.xml', permission='view')
def sitemap(context, request):
    lines = ['<?xml version="1.0" encoding="UTF-8"?>']
    lines.append('<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">')
    for item in [context, *published_items(context)]:
        url = escape(request.resource_url(item))
        lastmod = item.modified.strftime('%Y-%m-%d')
        lines.append(f'<url><loc>{url}</loc><lastmod>{lastmod}</lastmod></url>')
    lines.append('</urlset>')
    return Response('\n'.join(lines) + '\n', content_type='application/xml', charset='utf-8')
