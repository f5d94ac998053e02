"""Files kept in ZODB blobs: a material's document, a venue's picture.

A :class:`StoredFile` holds the bytes in a ZODB blob, with a cleaned file name, the media type found from
the bytes themselves (never trusted from the uploader or the file name alone) and the size.
"""

import mimetypes
import re
import unicodedata

from persistent import Persistent
from ZODB.blob import Blob

#: Media types served inline; every other file is served as an attachment.
INLINE_TYPES = frozenset({'application/pdf', 'image/png', 'image/jpeg', 'image/webp'})

_MAGIC = (
    (b'%PDF-', 'application/pdf'),
    (b'\x89PNG\r\n\x1a\n', 'image/png'),
    (b'\xff\xd8\xff', 'image/jpeg'),
)
_ZIP_TYPES = {
    '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    '.odt': 'application/vnd.oasis.opendocument.text',
}


def sniff_type(head, filename):
    """The media type of a file from its first bytes, or None when it is not an allowed kind."""
    for magic, mimetype in _MAGIC:
        if head.startswith(magic):
            return mimetype
    if head[:4] == b'RIFF' and head[8:12] == b'WEBP':
        return 'image/webp'
    if head.startswith(b'PK\x03\x04'):
        ext = ('.' + filename.rsplit('.', 1)[-1].lower()) if '.' in filename else ''
        return _ZIP_TYPES.get(ext)
    return None


def clean_filename(filename):
    """A safe file name: no path, no control characters, ASCII letters where possible, at most 100 chars."""
    name = re.split(r'[\\/]', filename or '')[-1]
    name = unicodedata.normalize('NFKD', name).encode('ascii', 'ignore').decode('ascii')
    name = re.sub(r'[^A-Za-z0-9._-]+', '-', name).strip('.-')
    if len(name) > 100:
        stem, dot, ext = name.rpartition('.')
        name = (stem[: 100 - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else name[:100]
    return name or 'file'


class StoredFile(Persistent):
    """A file's bytes in a blob, with its cleaned name, media type and size."""

    def __init__(self, data, filename, mimetype=None):
        self.filename = clean_filename(filename)
        self.mimetype = (
            mimetype
            or sniff_type(data[:16], self.filename)
            or (mimetypes.guess_type(self.filename)[0] or 'application/octet-stream')
        )
        self.size = len(data)
        self.blob = Blob()
        with self.blob.open('w') as f:
            f.write(data)

    @property
    def inline(self):
        return self.mimetype in INLINE_TYPES

    def open(self):
        return self.blob.open('r')

    def read(self):
        with self.open() as f:
            return f.read()

    def __deepcopy__(self, memo):
        """A copy with a blob of its own (a copied item must not share, or lose, the original's file)."""
        return StoredFile(self.read(), self.filename, self.mimetype)
