"""The registry's own translation domain, ``kaiku_registry``, with catalogs in ``locale/``."""

from pyramid.i18n import TranslationStringFactory

DOMAIN = 'kaiku_registry'
_ = TranslationStringFactory(DOMAIN)
