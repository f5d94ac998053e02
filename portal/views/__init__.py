"""Public views of the site.  Each module registers its views when scanned."""


def includeme(config):
    from portal.views.auth import add_landing_page

    config.registry.landing_pages = {}
    config.add_directive('add_landing_page', add_landing_page)
    config.add_landing_page('Administrator', '@@contents', order=10)
    config.include('portal.views.health')
    config.include('portal.views.catalogue')
    config.scan('portal.views')
