"""The one table of pages that every quality gate visits.

Each row is ``(name, path)``.  A path may carry a query string; ``{first_venue}``, ``{first_material}`` and
``{first_step}`` are replaced by the address of the first item of that kind in the loaded content, so the
table does not depend on which venues the content happens to hold.  To put a new page type under every
check (axe, the Nu HTML Checker, reflow, text resize, screenshots), add one line here.
"""

PAGES = [
    ('home', '/'),
    ('home-sv', '/?lang=sv'),
    ('home-en', '/?lang=en'),
    ('venues-listing', '/venues/'),
    ('materials-listing', '/materials/'),
    ('guides-listing', '/guides/'),
    ('page', '/kaikukortti/'),
    ('page-sv', '/kaikukortti/?lang=sv'),
    ('easy-fi', '/selkokieli/'),
    ('easy-sv', '/selkokieli/?lang=sv'),
    ('venue', '{first_venue}'),
    ('venue-en', '{first_venue}?lang=en'),
    ('material', '{first_material}'),
    ('guide', '/guides/kaikukortti-jyvaskyla/'),
    ('guide-step', '{first_step}'),
    ('not-found', '/no-such-page'),
    ('bad-request', '/venues/?page=abc'),
    ('accessibility-statement', '/saavutettavuusseloste/'),
    ('accessibility-statement-sv', '/saavutettavuusseloste/?lang=sv'),
    ('privacy-notice', '/tietosuojaseloste/'),
    ('accessibility-feedback', '/@@accessibility-feedback'),
    ('catalogue-results', '/venues/?q=uimahalli'),
    ('catalogue-facets', '/venues/?region=Pirkanmaa&category=museum'),
    ('catalogue-no-results', '/venues/?q=zzzyyyxxx'),
    ('catalogue-bad-input', '/venues/?category=spaceship'),
    ('site-search', '/search?q=kortti'),
    ('login', '/login'),
    ('estimator', '/estimator/'),
    ('estimator-errors', '/estimator/?residents_expected=-5'),
    ('decision-brief', '/guides/kaikukortti-jyvaskyla-hyodyt-ja-kustannukset/'),
    ('registry-impact', '/registry/impact'),
    ('registry-my-card', '/registry/my-card'),
    ('workspace', '/tyotilat/jyvaskyla/'),
    ('workspace-summary', '/tyotilat/jyvaskyla/@@summary'),
    ('workspace-step-form', '/tyotilat/jyvaskyla/@@step/03-tyopari'),
    ('two-factor-setup', '/@@two-factor-setup'),
    ('users', '/@@users'),
    ('venue-import', '/venues/@@import'),
    ('venue-import-sv', '/venues/@@import?lang=sv'),
    ('review-queue', '/@@review'),
    ('sharing', '/guides/@@sharing?q=o'),
    ('sharing-sv', '/guides/@@sharing?q=o&lang=sv'),
    ('contents', '/guides/@@contents'),
    ('contents-sv', '/guides/@@contents?lang=sv'),
    ('translate', '/kaikukortti/@@translate?to=sv'),
    ('translate-sv', '/kaikukortti/@@translate?to=sv&lang=sv'),
    ('translations', '/@@translations?to=en'),
]

#: Pages visited as a logged-in administrator (the onboarding workspace is private).
LOGGED_IN = {
    'workspace',
    'workspace-summary',
    'workspace-step-form',
    'two-factor-setup',
    'users',
    'venue-import',
    'venue-import-sv',
    'review-queue',
    'sharing',
    'sharing-sv',
    'contents',
    'contents-sv',
    'translate',
    'translate-sv',
    'translations',
}

#: Pages seen only when logged in: ``(name, path, login)``.  The live server's database holds the users and
#: registry records that ``conftest.seed_registry`` makes; ``{partner}`` and ``{site}`` are its ids.
LOGGED_IN_PAGES = [
    ('registry-home', '/registry/', 'coordinator'),
    ('registry-stats', '/registry/stats', 'coordinator'),
    ('registry-door', '/registry/door', 'door'),
    ('registry-issue', '/registry/issue', 'issuer'),
    ('registry-cards', '/registry/cards', 'issuer'),
    ('registry-door-events', '/registry/door-events', 'door'),
    ('registry-all-cards', '/registry/all-cards', 'national'),
    ('registry-partners', '/registry/partners', 'coordinator'),
    ('registry-partners-filtered', '/registry/partners?training=due&sort=training', 'coordinator'),
    ('registry-partner', '/registry/partner?id={partner}', 'coordinator'),
    ('registry-partner-add', '/registry/partner-add', 'coordinator'),
    ('registry-sites', '/registry/sites', 'coordinator'),
    ('registry-site', '/registry/site?id={site}', 'coordinator'),
    ('registry-site-add', '/registry/site-add?partner={partner}', 'coordinator'),
    ('registry-people', '/registry/people', 'coordinator'),
    ('registry-person', '/registry/person?login=door', 'coordinator'),
    ('registry-stock', '/registry/stock', 'coordinator'),
    ('registry-site-stock', '/registry/site-stock', 'issuer'),
    ('registry-door-late', '/registry/door-late', 'door'),
]

#: Pages whose status is not 200 on purpose.
EXPECTED_STATUS = {'not-found': 404, 'bad-request': 400, 'catalogue-bad-input': 400}

#: Pages holding a form that, submitted empty, must answer with an error summary that takes focus.
#: The test skips a page that does not exist yet or has no form.
FORMS_WITH_ERRORS = [
    ('login', '/login'),
    ('accessibility-feedback', '/@@accessibility-feedback'),
]

#: The venue catalogue's search form: ``form[role=search]`` with a field ``#q`` and a submit button.
CATALOGUE_PATH = '/venues/'
