"""The venues folder's import (``@@import``) and export (``@@export``) for administrators: the columns
of ``search.csv`` as CSV or JSON, read and written by :mod:`portal.venue_files`."""

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.response import Response
from pyramid.view import view_config

from portal import spreadsheet, venue_files
from portal.history import NOTE_ATTRIBUTE
from portal.i18n import _, plural
from portal.resources.folder import Folder
from portal.security import MANAGE
from portal.views.manage.common import THEME, flash


def problem_lines(request, problems):
    """Each problem of a refused import as ``(where, field, message)`` in the reader's language."""
    translate = request.localizer.translate
    return [
        (
            translate(_('Line ${line}', mapping={'line': line})) if line else '',
            translate(title) if title else '',
            translate(message),
        )
        for line, title, message in problems
    ]


@view_config(
    context=Folder, name='import', renderer=THEME + 'venue_import.pt', permission=MANAGE, is_venues=True
)
def import_venues(context, request):
    """Import venues from an uploaded file; a file with any bad row changes nothing and lists them all."""
    page = {'problems': []}
    if request.method != 'POST':
        return page
    upload = request.POST.get('file')
    limit = request.registry.portal_settings.max_upload_bytes
    data = upload.file.read(limit + 1) if hasattr(upload, 'file') else b''
    try:
        if not data:
            raise venue_files.ImportRefused([(None, None, _('Choose a file to import.'))])
        if len(data) > limit:
            mb = round(limit / 1024 / 1024, 1)
            raise venue_files.ImportRefused(
                [(None, None, _('A file may be at most ${mb} MB.', mapping={'mb': mb}))]
            )
        content_type = request.registry.content_types['Venue']
        setattr(request, NOTE_ATTRIBUTE, 'import')
        outcome = venue_files.import_venues(
            context, data, upload.filename or '', content_type, request.registry, request.authenticated_userid
        )
    except venue_files.ImportRefused as refused:
        request.response.status_int = 400
        return {'problems': problem_lines(request, refused.problems)}
    counts = {'added': len(outcome.added), 'updated': len(outcome.updated), 'same': len(outcome.unchanged)}
    rows = sum(counts.values())
    flash(
        request,
        plural(
            request,
            '${n} row imported: ${added} venues added, ${updated} updated, ${same} unchanged.',
            '${n} rows imported: ${added} venues added, ${updated} updated, ${same} unchanged.',
            rows,
            mapping=counts,
        ),
    )
    return HTTPSeeOther(request.resource_url(context, '@@import'))


@view_config(context=Folder, name='export', permission=MANAGE, request_method='GET', is_venues=True)
def export_venues(context, request):
    """Every venue of the folder, whatever its state, in the columns an import reads
    (``?format=json``, or CSV in the reader's spreadsheet dialect or ``?dialect=plain``)."""
    rows = [
        venue_files.venue_row(venue, request.resource_url(venue))
        for venue in context.values()
        if venue.type_name == 'Venue'
    ]
    if request.params.get('format') == 'json':
        response = Response(venue_files.as_json(rows), content_type='application/json', charset='utf-8')
        response.content_disposition = 'attachment; filename="venues.json"'
        return response
    dialect = spreadsheet.dialect_for(request.params.get('dialect'), request.locale_name) or spreadsheet.PLAIN
    response = Response(venue_files.as_csv(rows, dialect), content_type='text/csv', charset='utf-8')
    response.content_disposition = 'attachment; filename="venues.csv"'
    return response
