"""The Kaiku theme: page templates and static assets.

Views name their templates as ``kaiku_theme:templates/<name>.pt``.  Another theme changes any of them, or
the stylesheet, with ``config.override_asset(to_override='kaiku_theme:templates/page.pt',
override_with='mytheme:templates/page.pt')``, without copying the rest.
"""


def includeme(config):
    config.add_static_files('static', 'kaiku_theme:static/')
