"""Add the onboarding workspaces folder and the workspaces of the initial content that the site lacks.

Only ``content/tyotilat`` is read, and only what the site does not have is added, so nothing an editor made,
changed or deleted elsewhere comes back.  A site without a content directory, or whose content directory has
no workspaces, is left as it is; a workspace file that cannot be loaded is logged and skipped, so an upgrade
never stops the site from starting.
"""

import logging
import os

from pyramid.threadlocal import manager

log = logging.getLogger(__name__)

SITE_KEY = 'site'
WORKSPACES = 'tyotilat'


def evolve(root, registry):
    from portal.loader import Loader

    site = root.get(SITE_KEY)
    content_dir = registry.portal_settings.content_dir
    if site is None or not content_dir or not os.path.isdir(os.path.join(content_dir, WORKSPACES)):
        return
    manager.push({'registry': registry, 'request': None})
    try:
        report = Loader(registry).load_entry(site, content_dir, WORKSPACES)
    finally:
        manager.pop()
    for problem in report.problems:
        log.warning('onboarding workspaces: %s', problem)
