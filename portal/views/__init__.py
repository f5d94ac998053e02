"""Public views of the site.  Each module registers its views when scanned."""


def includeme(config):
    config.include('portal.views.health')
    config.scan('portal.views')
