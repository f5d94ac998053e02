"""Add the onboarding workspaces folder and the workspaces of the initial content that the site lacks.

Only ``content/tyotilat`` is read, and only what the site does not have is added, so nothing an editor made,
changed or deleted elsewhere comes back.  A site without a content directory configured is left as it is.
"""

from pyramid.threadlocal import manager

SITE_KEY = 'site'
WORKSPACES = 'tyotilat'


def evolve(root, registry):
    from portal.loader import Loader

    site = root.get(SITE_KEY)
    content_dir = registry.portal_settings.content_dir
    if site is None or not content_dir:
        return
    manager.push({'registry': registry, 'request': None})
    try:
        report = Loader(registry).load_entry(site, content_dir, WORKSPACES)
    finally:
        manager.pop()
    if report.problems:
        raise RuntimeError('; '.join(report.problems))
