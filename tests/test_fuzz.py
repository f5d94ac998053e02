"""Hostile input for every public view, through WebTest: never a 500, never a traceback, never a marker
reflected unescaped.

Each target in ``PUBLIC_VIEWS`` gets seeded, bounded hypothesis examples: query strings built from its own
parameters, the ones every page reads (``lang``, ``page``, ``q``) and random extra keys, with keys repeated,
values long, empty, binary (not UTF-8), full of control characters, odd Unicode, markup and script markers;
the same pairs as a form POST; and a hostile ``Accept-Language`` and ``lang`` cookie.  ``FORM_PAGES`` lists
pages whose forms are filled field by field with hostile values and submitted the way a browser would.
To fuzz a new view, add one line to a table.
"""

import contextlib
import urllib.parse

import pytest
import webtest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.testing import DoomedTestApp

#: (name, path, parameters of its own).  ``{venue}``, ``{material}`` and ``{step}`` are the first such
#: item in the loaded content.
PUBLIC_VIEWS = [
    ('home', '/', ()),
    ('venues', '/venues/', ()),
    ('materials', '/materials/', ()),
    ('guides', '/guides/', ()),
    ('page', '/kaikukortti/', ()),
    ('venue', '{venue}', ()),
    ('venue-picture', '{venue}picture', ()),
    ('material', '{material}', ()),
    ('material-download', '{material}download', ()),
    ('guide', '/guides/kaikukortti-jyvaskyla/', ()),
    ('step', '{step}', ()),
    ('accessibility-statement', '/saavutettavuusseloste/', ()),
    ('privacy-notice', '/tietosuojaseloste/', ()),
    ('not-found', '/no-such-page', ()),
    ('robots', '/robots.txt', ()),
    ('sitemap', '/sitemap.xml', ()),
    ('catalogue', '/venues/', ('region', 'municipality', 'category', 'access', 'sort')),
    ('catalogue-json', '/venues/search.json', ('region', 'municipality', 'category', 'access', 'sort')),
    ('catalogue-csv', '/venues/search.csv', ('region', 'category')),
    ('site-search', '/search', ('type',)),
    ('estimator', '/estimator/', ('residents_expected', 'activation_low', 'ticket_value_high')),
    ('estimator-csv', '/estimator/estimate.csv', ('residents_expected', 'activation_low')),
    ('registry-impact', '/registry/impact', ('municipality',)),
    ('registry-api-openapi', '/registry/api/v1/openapi.json', ()),
]
COMMON_PARAMS = ('lang', 'page', 'q')

#: Pages holding forms to fill with hostile values; a page not in this build yet is skipped.
FORM_PAGES = ['/login', '/venues/', '/estimator/', '/@@accessibility-feedback']

EXAMPLES = 40
MARKERS = [
    '<script>alert(1)</script>',
    '"><img src=x onerror=1>',
    "'><svg onload=alert(1)>",
    '<iframe src=javascript:alert(1)>',
]
HOSTILE = [
    *MARKERS,
    '',
    ' ',
    '0',
    '-1',
    '1.5',
    '1e9',
    '99999999999999999999999',
    '²',
    '١٢',
    'Ⅻ',
    '%',
    '%00',
    '%ff',
    '\x00',
    '\r\nSet-Cookie: x=1',
    '\u202e\u200b\ufeff',
    '𝕂𝔞𝔦𝔨𝔲 👩🏽‍🦯',
    'ä' * 5000,
    'x' * 20_000,
    '../../../etc/passwd',
    '{{7*7}}${7*7}<%= 7*7 %>',
    "' OR 1=1 --",
    'fi',
    'sv',
    'en',
    'de',
    'fi-FI',
    'fi;q=0.5,*',
    '[]',
    '{"a": 1}',
]

values = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=300),
    st.text(alphabet=st.characters(max_codepoint=0x9F), max_size=50),
    st.binary(max_size=40),
    st.integers().map(str),
    st.builds(lambda a, b: a + b, st.sampled_from(MARKERS), st.text(max_size=20)),
)
header_values = st.one_of(
    st.sampled_from([h for h in HOSTILE if h.isascii() and '\n' not in h and '\x00' not in h]),
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=200),
)


def pairs_for(own):
    keys = st.one_of(st.sampled_from((*COMMON_PARAMS, *own)), st.text(min_size=1, max_size=30))
    return st.lists(st.tuples(keys, values), max_size=8)


@contextlib.contextmanager
def client(app):
    """A WebTest client whose requests never commit, fresh for each example."""
    yield DoomedTestApp(app, extra_environ={'HTTP_HOST': 'example.com'})


def check(res, what):
    assert res.status_int < 500, f'{res.status} for {what}'
    body = res.body.decode('utf-8', 'replace')
    assert 'Traceback' not in body, f'traceback in the body for {what}'
    for marker in MARKERS:
        assert marker not in body, f'{marker!r} reflected unescaped for {what}'


@pytest.fixture(scope='module')
def known(app):
    """The first venue, material and guide step in the loaded content."""

    def first(path):
        with client(app) as browser:
            res = browser.get(path)
        for link in res.html.select('main a[href]'):
            href = urllib.parse.urlsplit(link['href']).path
            if href.startswith(path) and href != path:
                return href
        raise AssertionError(f'no item on {path}')

    return {
        'venue': first('/venues/'),
        'material': first('/materials/'),
        'step': first('/guides/kaikukortti-jyvaskyla/'),
    }


FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.parametrize(('name', 'path', 'own'), PUBLIC_VIEWS, ids=[row[0] for row in PUBLIC_VIEWS])
def test_query_strings(name, path, own, app, known):
    path = path.format(**known)

    @FUZZ
    @given(pairs=pairs_for(own), accept_language=header_values, cookie=header_values)
    def run(pairs, accept_language, cookie):
        url = f'{path}?{urllib.parse.urlencode(pairs)}'
        headers = {'Accept-Language': accept_language, 'Cookie': f'lang={urllib.parse.quote(cookie)}'}
        with client(app) as browser:
            res = browser.get(url, headers=headers, expect_errors=True)
        check(res, f'GET {url[:300]}')

    run()


@pytest.mark.parametrize(('name', 'path', 'own'), PUBLIC_VIEWS, ids=[row[0] for row in PUBLIC_VIEWS])
def test_every_hostile_value_in_every_parameter(name, path, own, app, known):
    """The fixed list, each value alone in each parameter: random draws may miss one."""
    path = path.format(**known)
    with client(app) as browser:
        for key in (*COMMON_PARAMS, *own):
            for value in HOSTILE:
                url = f'{path}?{urllib.parse.urlencode([(key, value)])}'
                check(browser.get(url, expect_errors=True), f'GET {url[:300]}')


@pytest.mark.parametrize(('name', 'path', 'own'), PUBLIC_VIEWS, ids=[row[0] for row in PUBLIC_VIEWS])
def test_form_posts(name, path, own, app, known):
    path = path.format(**known)

    @FUZZ
    @given(pairs=pairs_for(own))
    def run(pairs):
        body = urllib.parse.urlencode(pairs)
        with client(app) as browser:
            res = browser.post(
                path, body, content_type='application/x-www-form-urlencoded', expect_errors=True
            )
        check(res, f'POST {path} {body[:300]}')

    run()


@pytest.mark.parametrize('path', FORM_PAGES)
def test_every_form_field(path, app):
    """Each form on the page, every visible field filled with hostile values, submitted as a browser would.

    The page is read and its forms parsed once: each example sets every field a person fills in, so
    nothing of the one before is left (parsing the estimator's 90 kB page anew for each example was most
    of this test's time)."""
    with client(app) as browser:
        res = browser.get(path, expect_errors=True)
        if res.status_int == 404 or not res.forms:
            pytest.skip(f'no form on {path} in this build yet')
        forms = res.forms
        form_ids = list(forms)

        @FUZZ
        @given(data=st.data())
        def run(data):
            form = forms[data.draw(st.sampled_from(form_ids))]
            for field_name, fields in form.fields.items():
                for index, field in enumerate(fields):
                    if field_name is None or isinstance(field, webtest.forms.Hidden | webtest.forms.Submit):
                        continue
                    value = data.draw(values.filter(lambda v: isinstance(v, str)))
                    if isinstance(field, webtest.forms.Checkbox):
                        form.set(field_name, data.draw(st.booleans()), index=index)
                    else:
                        field.force_value(value)
            check(form.submit(expect_errors=True), f'{form.method} {path} form {form.id}')

        run()
