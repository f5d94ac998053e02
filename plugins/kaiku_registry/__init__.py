"""The Kaikukortti registry: partners, pseudonymous cards, verification at the door, visits, statistics.

The plugin joins the site only through ``config.include('kaiku_registry')``; the portal never imports it.
For now it only declares itself, so that the site can be run and tested both with and without it.
"""


def includeme(config):
    config.registry.settings.setdefault('kaiku_registry.enabled', True)
