"""``/robots.txt`` and ``/sitemap.xml`` for search engines."""

import json
from xml.sax.saxutils import escape

from pyramid.authorization import Everyone
from pyramid.response import Response
from pyramid.view import view_config

from portal.catalog import Query, candidates
from portal.resources.site import Site
from portal.workflow import PUBLISHED


@view_config(context=Site, name='robots.txt', permission='view')
def robots(context, request):
    body = f'User-agent: *\nDisallow: /@@\nSitemap: {request.resource_url(context, "sitemap.xml")}\n'
    return Response(body, content_type='text/plain', charset='utf-8')


def published_paths(catalog):
    """Paths of the published items that anonymous visitors may view, from the catalog."""
    hits = candidates(catalog, [Everyone], Query(filters={'state': [PUBLISHED]}))
    return sorted((catalog.paths[docid], docid) for docid in hits)


@view_config(context=Site, name='sitemap.xml', permission='view')
def sitemap(context, request):
    lines = ['<?xml version="1.0" encoding="UTF-8"?>']
    lines.append('<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">')
    entries = [(request.resource_url(context), context.modified)]
    catalog = context.catalog
    for path, docid in published_paths(catalog):
        entries.append((f'{request.application_url}{path}/', catalog.item_for(docid).modified))
    for url, modified in entries:
        lines.append(f'<url><loc>{escape(url)}</loc><lastmod>{modified.strftime("%Y-%m-%d")}</lastmod></url>')
    lines.append('</urlset>')
    return Response('\n'.join(lines) + '\n', content_type='application/xml', charset='utf-8')


#: The schema.org type that fits each venue category best; anything else is a TouristAttraction.
SCHEMA_TYPES = {
    'museum': 'Museum',
    'theatre': 'PerformingArtsTheater',
    'music': 'MusicVenue',
    'cinema': 'MovieTheater',
    'library': 'Library',
    'swimming': 'PublicSwimmingPool',
    'sport': 'SportsActivityLocation',
}


def venue_jsonld(venue, url, lang):
    """A venue as schema.org JSON-LD, safe to put inside a ``<script>`` element."""
    schema_type = next((SCHEMA_TYPES[c] for c in venue.categories if c in SCHEMA_TYPES), 'TouristAttraction')
    data = {
        '@context': 'https://schema.org',
        '@type': schema_type,
        'name': str(venue.text('title', lang)),
        'url': url,
    }
    description = venue.text('description', lang)
    if description:
        data['description'] = str(description)
    address = {
        key: value
        for key, value in (
            ('streetAddress', venue.street_address),
            ('postalCode', venue.postcode),
            ('addressLocality', venue.municipality),
            ('addressRegion', venue.region),
        )
        if value
    }
    if address:
        data['address'] = {'@type': 'PostalAddress', **address, 'addressCountry': 'FI'}
    if venue.coordinates:
        data['geo'] = {'@type': 'GeoCoordinates', 'latitude': venue.latitude, 'longitude': venue.longitude}
    for key, value in (('telephone', venue.phone), ('email', venue.email), ('sameAs', venue.website)):
        if value:
            data[key] = value
    if venue.accessibility:
        data['amenityFeature'] = [
            {'@type': 'LocationFeatureSpecification', 'name': feature, 'value': True}
            for feature in venue.accessibility
        ]
    text = json.dumps(data, ensure_ascii=False)
    return text.replace('<', '\\u003c').replace('>', '\\u003e').replace('&', '\\u0026')
