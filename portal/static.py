"""Static files served with a long lifetime and a cache buster.

``config.add_static_files(name, spec)`` serves the files under ``spec`` at ``/name/`` to everyone, with
``Cache-Control: max-age`` of a year, and gives every URL that ``request.static_url`` makes for them a
``?v=`` token: a hash of the whole folder's names and contents, taken when the application starts.  A
changed file therefore changes every URL of its folder, and browsers and proxies never keep an old one.
"""

import hashlib
import os

from pyramid.path import AssetResolver
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.static import QueryStringConstantCacheBuster

#: One year, the longest lifetime RFC 9111 advises.
MAX_AGE = 365 * 24 * 3600


def folder_token(spec):
    """A short hash of every file's relative name and bytes under the asset folder ``spec``."""
    root = AssetResolver().resolve(spec).abspath()
    digest = hashlib.blake2b(digest_size=6)
    for folder, dirs, files in sorted(os.walk(root)):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(folder, name)
            digest.update(os.path.relpath(path, root).encode('utf-8') + b'\0')
            with open(path, 'rb') as f:
                digest.update(f.read())
    return digest.hexdigest()


def add_static_files(config, name, spec):
    """Configurator directive: serve ``spec`` at ``/name/`` for a year, with a cache-busting token."""
    spec = spec if spec.endswith('/') else spec + '/'
    config.add_static_view(name, spec, cache_max_age=MAX_AGE, permission=NO_PERMISSION_REQUIRED)
    config.add_cache_buster(spec, QueryStringConstantCacheBuster(folder_token(spec), param='v'))


def includeme(config):
    config.add_directive('add_static_files', add_static_files)
