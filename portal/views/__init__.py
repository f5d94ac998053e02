"""Public views of the site.  Each module registers its views when scanned."""


def includeme(config):
    config.include('portal.views.health')
    config.include('portal.views.catalogue')
    config.scan('portal.views')
