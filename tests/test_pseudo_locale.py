"""Every screen in the reader's language: a crawl of every page type, every form in its error state and every
registry page for every role, read in the pseudo-locale (every interface string marked, see
``tests/pseudolocale.py``) and in Swedish.

The crawl starts from the quality gates' page table (``tests/browser/pages.py``) and each role's start pages,
follows the links it finds (two pages of each kind: two venues, not all of them) and submits each form once
empty and once with bad values.  Nothing it does is committed.
"""

import datetime

import pytest
import webtest
from pseudolocale import BAD_VALUE, Crawl

from portal.testing import (
    TEST_PASSWORD,
    add_user,
    build_app,
    close_app,
    edit_site,
    enrol_second_factor,
    form_with,
    log_in,
)

#: Who the crawl visits as, and where each starts besides the page table.
ROLES = {
    None: [
        '/',
        '/venues/?sort=popular',
        '/venues/?page=0',
        '/search?q=kortti&type=Spaceship',
        '/@@setup?token=x',
    ],
    'browser-admin': ['/', '/@@users', '/@@audit', '/@@feedback', '/venues/@@contents', '/@@sharing'],
    'national': [
        '/registry/',
        '/registry/stats',
        '/registry/impact',
        '/registry/partners',
        '/registry/people',
    ],
    'coordinator': ['/registry/', '/registry/stats', '/registry/partners', '/registry/sites'],
    'door': ['/registry/', '/registry/door'],
    'issuer': ['/registry/', '/registry/issue', '/registry/cards'],
}
#: Forms filled with values that pass the form's checks and break a rule of the registry: ``{login: [(path,
#: steps)]}``, each step the values of the next form (found by its first field) to submit.
RULE_CASES = {
    None: [
        ('/login', [{'login': 'kaksivaihe', 'password': TEST_PASSWORD}, {'code': '000000'}]),
        ('/login', [{'login': 'kaksivaihe', 'password': TEST_PASSWORD}, {'recovery_code': 'väärä'}]),
    ],
    'issuer': [
        (
            '/registry/issue',
            [{'birth_year': str(datetime.date.today().year - 5), 'postcode': '123', 'children': '1'}],
        ),
        ('/registry/issue', [{'birth_year': '1890', 'postcode': '33100', 'children': '99'}]),
    ],
    'door': [
        ('/registry/door', [{'code': '{card}'}, {'children': '2', 'course': 'true'}]),
        ('/registry/door', [{'code': '{card}'}, {'children': '9'}]),
        ('/registry/door', [{'code': 'ABCD-EFGH-JKLM'}]),
    ],
}


@pytest.fixture(scope='module')
def site(tmp_path_factory):
    """An application with registry records, a card, a visit, a token and a page edited once, and the
    pseudo-locale installed over Finnish."""
    from browser.conftest import prepare_logged_in_pages, seed_registry
    from pseudolocale import build_pseudo_locale, install_pseudo_locale

    from kaiku_registry import codes
    from portal.clock import today

    directory = tmp_path_factory.mktemp('pseudo-db')
    key_path = directory / 'qr-signing.pem'
    key_path.write_bytes(codes.private_key_pem(codes.generate_key()))
    app = build_app(str(directory), **{'kaiku_registry.signing_key': str(key_path)})
    seeded = seed_registry(app)
    prepare_logged_in_pages(app)
    add_user(app, 'national', TEST_PASSWORD, roles=['NationalAdmin'], title='Kansallinen Ylläpitäjä')
    add_user(app, 'kaksivaihe', TEST_PASSWORD, roles=['Editor'])
    enrol_second_factor(app, 'kaksivaihe')  # their login asks for a one-time code
    with edit_site(app) as root:
        registry = root['registry']
        venue = registry.sites[seeded['site']]
        issuer = registry.sites[registry.members['issuer']]
        card = registry.issue_card(issuer, today(), 1980, '33100', 2)
        registry.record_visit(card, venue, today(), 'culture', children=1)
        registry.new_token(venue)
        two_years_ago = today() - datetime.timedelta(days=800)
        registry.issue_card(issuer, two_years_ago, 1970, '33200', 0)  # expired
        registry.replace_card(registry.issue_card(issuer, today(), 1990, '33300', 1), issuer, today())
        seeded['card'] = card.code
    app.marked = build_pseudo_locale(str(directory / 'pseudo'))
    install_pseudo_locale(app, directory / 'pseudo')
    editor = webtest.TestApp(app, extra_environ={'HTTP_HOST': 'example.com'})
    log_in(editor, 'browser-admin', TEST_PASSWORD)
    form = editor.get('/kaikukortti/@@edit').forms['edit-form']
    form['body'] = form['body'].value + '\n\nMuokattu kerran.'
    form.submit('save', status=303)
    app.seeded = seeded
    yield app
    close_app(app)


def crawl_targets(site):
    from browser.pages import LOGGED_IN, LOGGED_IN_PAGES, PAGES

    table = {None: [], 'browser-admin': []}
    for name, path in PAGES:
        if '{' not in path and 'lang=' not in path:
            table['browser-admin' if name in LOGGED_IN else None].append(path)
    for _name, path, login in LOGGED_IN_PAGES:
        table.setdefault(login, []).append(path.format(**site.seeded))
    table['issuer'].append(f'/registry/cards?code={site.seeded["card"]}')
    table['coordinator'].append(f'/registry/site?id={site.seeded["site"]}')
    return {login: table.get(login, []) + seeds for login, seeds in ROLES.items()}


@pytest.fixture(scope='module')
def allowed(site):
    """The words that may stand unmarked: content, places, the fixtures' records and the language names."""
    from pseudolocale import content_words, place_words, words

    from portal.i18n import LANGUAGE_NAMES

    found = content_words() | place_words()
    fixtures = [
        *('Tampereen kaupunki', 'Uimahalli Tampere', 'Sosiaalitoimi Tampere', 'Kulttuurijohtaja'),
        *('Hyte-koordinaattori', 'Esimiesten kanssa sovittu. Työaika 20 %.', 'Muokattu kerran.'),
        *(
            'Kansallinen Ylläpitäjä',
            'browser-admin',
            'national',
            'coordinator',
            'door',
            'issuer',
            'kaksivaihe',
            'Vesijumppa',  # the venue site's own event (tests/browser/conftest.py)
        ),
        *(BAD_VALUE, site.seeded['card'], *LANGUAGE_NAMES.values()),
    ]
    for text in fixtures:
        found |= words(text)
    # Month names come from Babel's locale data (portal.clock.show_month), not from the catalogs.
    from babel import Locale

    for language in ('fi', 'sv'):
        for context in ('format', 'stand-alone'):
            found |= {name.casefold() for name in Locale(language).months[context]['wide'].values()}
    return found


def test_every_interface_string_on_every_page_is_translated(site, allowed):
    """In the pseudo-locale every word on a page is either marked or content: nothing bypasses a catalog."""
    from pseudolocale import unmarked

    problems, pages, forms, counted = [], 0, 0, []
    for login, seeds in crawl_targets(site).items():
        crawl = Crawl(site, login, 'fi', RULE_CASES.get(login, ()))
        for where, res in crawl.everything(seeds, site.seeded):
            found = unmarked(res.text, allowed, counted)
            problems += [f'{login or "anonymous"} {where}: {text}' for text in found]
        pages, forms = pages + crawl.pages, forms + crawl.forms
    print(
        f'pseudo-locale: {pages} pages, {forms} form error states, {sum(counted)} text nodes and attributes '
        f'read, {site.marked} messages marked'
    )
    assert not problems, '\n'.join(problems)


#: Downloads a person opens in a spreadsheet: ``(login, path)``; their header row must be translated.
CSV_DOWNLOADS = [
    ('coordinator', '/registry/stats.csv'),
    ('national', '/registry/stats.csv?municipality=Tampere'),
    (None, '/estimator/estimate.csv'),
]


@pytest.mark.parametrize(('login', 'path'), CSV_DOWNLOADS)
def test_the_headers_of_a_csv_download_are_translated(site, login, path):
    import csv
    import io

    from pseudolocale import OPEN, strip_marked

    crawl = Crawl(site, login, 'fi', RULE_CASES.get(login, ()))
    res = crawl.client.get(path)
    text = res.body.decode('utf-8-sig')
    dialect = csv.Sniffer().sniff(text.splitlines()[0], delimiters=',;')
    header = next(csv.reader(io.StringIO(text), dialect))
    assert header and all(cell.startswith(OPEN) and not strip_marked(cell).strip() for cell in header), header


def test_no_english_msgid_is_shown_on_a_swedish_page(site):
    """A Swedish page never shows a msgid whose Swedish translation differs from it."""
    from pseudolocale import SOURCES, library_sources, shown_msgids, verbatim_msgids

    from portal.i18n import LANGUAGE_NAMES

    catalogs = [path.replace('/fi/', '/sv/') for _domain, path in SOURCES]
    catalogs += [
        path.replace(f'{domain}.pot', f'sv/LC_MESSAGES/{domain}.po') for domain, path in library_sources()
    ]
    exact, patterns = verbatim_msgids(catalogs)
    msgids = exact - set(LANGUAGE_NAMES.values()), patterns  # the language switcher names each in itself
    problems, pages, forms, counted, memo = [], 0, 0, [], {}
    for login, seeds in crawl_targets(site).items():
        crawl = Crawl(site, login, 'sv', RULE_CASES.get(login, ()))
        for where, res in crawl.everything(seeds, site.seeded):
            found = shown_msgids(res.text, msgids, counted, memo)
            problems += [f'{login or "anonymous"} {where}: {msgid}' for msgid in found]
        pages, forms = pages + crawl.pages, forms + crawl.forms
    print(
        f'Swedish: {pages} pages, {forms} form error states, {sum(counted)} text nodes and attributes read, '
        f'{len(exact) + len(patterns)} msgids looked for'
    )
    assert not problems, '\n'.join(problems)


def test_the_check_finds_unmarked_words_and_lets_marked_ones_and_content_pass():
    from pseudolocale import unmarked

    page = '<html><body><p>«Hae» «${n} kohdetta: «Museo»» Uimahalli</p><p>50 venues found</p></body></html>'
    found = unmarked(page, {'uimahalli'})
    assert len(found) == 1 and '[venues]' in found[0] and '[found]' in found[0]
    assert unmarked('<p>«Hae»</p><button title="Close">«Sulje»</button>', set()) == ['[close] Close']
    assert unmarked('<p>«Hae» 2 kB JSON · ABCD EFGH JKLM</p>', set()) == []


def test_the_swedish_check_finds_a_msgid_with_or_without_placeholders():
    from pseudolocale import shown_msgids

    msgids = {'Required'}, [('', __import__('re').compile('.+ venues found'), '${n} venues found')]
    assert shown_msgids('<p>0 venues found</p><p>Obligatoriskt</p><input title="Required">', msgids) == [
        '${n} venues found',
        'Required',
    ]


def swedish(site, login=None):
    """A client of ``site`` reading Swedish (its catalogs are the real ones), logged in as ``login``."""
    client = webtest.TestApp(site, extra_environ={'HTTP_HOST': 'example.com'})
    if login:
        log_in(client, login, TEST_PASSWORD)
    client.set_cookie('lang', 'sv')
    return client


def test_a_door_rule_error_is_in_the_readers_language(site):
    client = swedish(site, 'door')
    form = form_with(client.get('/registry/door'), 'code')
    form['code'] = site.seeded['card']
    record = form_with(form.submit(), 'children')
    record['children'].force_value('9')
    res = record.submit(status=409)
    assert 'Med det här kortet får man högst 2 barnbiljetter.' in res.text
    assert 'allows at most' not in res.text


def test_a_rule_error_reads_as_english_outside_a_request():
    from kaiku_registry.i18n import _
    from kaiku_registry.records import RuleError

    error = RuleError(
        'too_many_children', _('This card allows at most ${n} child tickets.', mapping={'n': 2})
    )
    assert str(error) == 'This card allows at most 2 child tickets.'
    assert error.message.domain == 'kaiku_registry'


def test_history_shows_notes_and_stored_values_in_the_readers_language(site):
    client = swedish(site, 'browser-admin')
    listing = client.get('/kaikukortti/@@history')
    notes = [span.get_text(strip=True) for span in listing.html.select('.history .muted')]
    assert '(första sparade versionen)' in notes
    first = client.get('/kaikukortti/@@history?rev=1').html.select_one('.diff').get_text(' ', strip=True)
    assert 'False' not in first.split() and 'Nej' in first.split()


def test_a_course_venue_tells_how_to_get_a_course_place(site):
    client = swedish(site)
    course = client.get('/venues/lahdenperan-kansalaisopisto/').html.select('#terms-heading ~ h3')
    assert 'Så får du en kursplats' in [h.get_text(strip=True) for h in course]
    hall = client.get('/venues/harjurinteen-kirjasto/').html.select('#terms-heading ~ h3')
    assert next(h.get_text(strip=True) for h in hall) == 'Så här får du biljetten'


@pytest.mark.parametrize(
    ('lang', 'authority'),
    [
        ('fi', 'Liikenne- ja viestintävirasto Traficom'),
        ('sv', 'Transport- och kommunikationsverket Traficom'),
        ('en', 'Finnish Transport and Communications Agency Traficom'),
    ],
)
def test_the_accessibility_statement_names_traficom_as_the_supervisor(testapp, lang, authority):
    main = testapp.get(f'/saavutettavuusseloste/?lang={lang}').html.find('main')
    text = main.get_text(' ', strip=True)
    assert authority in text and 'HE 71/2024' in text.replace('RP 71/2024', 'HE 71/2024')
    assert any('saavutettavuusvaatimukset.fi' in a['href'] for a in main.find_all('a', href=True))
    assert '2.5.8' in text and '2.4.11' in text
