"""Languages of the site and the interface translations.

Finnish is the site's first language; Swedish and English follow.  The interface strings live in the
``kaiku`` gettext domain under ``portal/locale``.  Which language a request gets is decided, in order, by
an explicit ``?lang=`` parameter, the ``lang`` cookie that parameter leaves behind, the browser's
Accept-Language header, and finally Finnish.
"""

from pyramid.events import NewResponse, subscriber
from pyramid.i18n import TranslationStringFactory

DOMAIN = 'kaiku'
_ = TranslationStringFactory(DOMAIN)

DEFAULT_LANGUAGE = 'fi'
LANGUAGES = ('fi', 'sv', 'en')
#: Each language's name in that language itself, as a language switcher shows it.
LANGUAGE_NAMES = {'fi': 'Suomi', 'sv': 'Svenska', 'en': 'English'}
#: Each language's name as a field label shows it, translated into the reader's language.
LANGUAGE_TITLES = (('fi', _('Finnish')), ('sv', _('Swedish')), ('en', _('English')))
#: The interface language when neither the request nor the browser names one.  Only the negotiator reads
#: it, so tests of English messages may change it without touching anything imported from here.
FALLBACK_LANGUAGE = DEFAULT_LANGUAGE
COOKIE = 'lang'
COOKIE_MAX_AGE = 365 * 24 * 3600


def plural(request, singular, plural_form, n, domain=DOMAIN, mapping=None):
    """``singular`` or ``plural_form`` by ``n`` in the request's language (gettext's plural rules), with
    ``${n}`` and the other ``mapping`` values filled in.  Both forms are msgids of ``domain``.

    ``make i18n`` extracts the two forms (lingva's keyword ``plural:2,3``), whose parser reads only plain
    arguments: call it with names, literals and ``mapping=...``, not expressions or ``**``."""
    return request.localizer.pluralize(
        singular, plural_form, n, domain=domain, mapping={'n': n, **(mapping or {})}
    )


def _param(request, name):
    """Return a query parameter, or None when it is missing or the query string is not valid UTF-8."""
    try:
        value = request.GET.get(name)
    except UnicodeDecodeError:
        return None
    return value


def requested_language(request):
    """The language named by ``?lang=`` when it is one the site speaks, else None."""
    value = _param(request, 'lang')
    return value if value in LANGUAGES else None


def negotiate_locale_name(request):
    """Pyramid's locale negotiator: parameter, cookie, Accept-Language, then the default."""
    lang = requested_language(request)
    if lang:
        return lang
    cookie = request.cookies.get(COOKIE)
    if cookie in LANGUAGES:
        return cookie
    try:
        return request.accept_language.lookup(LANGUAGES, default=FALLBACK_LANGUAGE)
    except (ValueError, UnicodeDecodeError):
        return FALLBACK_LANGUAGE


@subscriber(NewResponse)
def remember_language(event):
    """Keep a language chosen with ``?lang=`` in a cookie, so later pages keep it."""
    request, response = event.request, event.response
    lang = requested_language(request)
    if lang and request.cookies.get(COOKIE) != lang:
        response.set_cookie(
            COOKIE,
            lang,
            max_age=COOKIE_MAX_AGE,
            path='/',
            httponly=True,
            samesite='Lax',
            secure=request.registry.portal_settings.secure_cookies,
        )


def includeme(config):
    config.add_translation_dirs('portal:locale/', 'colander:locale/', 'deform:locale/')
    config.set_locale_negotiator(negotiate_locale_name)
    config.scan(__name__)
