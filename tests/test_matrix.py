"""Who may do what, everywhere: the role × view × state matrix, CSRF on every view, XSS in every text field,
and no view writing to the database on GET.

One application is built for the module with a folder per municipality (``turku`` has a local Editor),
a page in each workflow state in each, and one item of every content type, so that every registered view
can be reached.
"""

import logging

import colander
import deform.widget
import pytest
import transaction
import webtest

from portal.forms import text_rule_of
from portal.testing import add_user, build_app, close_app, log_in

PASSWORD = 'correct horse battery staple'
STATES = ('private', 'pending', 'published')
ROLES = ('anonymous', 'editor', 'publisher', 'admin', 'local')


def _create(registry, container, name, type_name, state, **values):
    item = registry.content_types[type_name].create({'title': name.title(), **values}, state=state)
    container.add(name, item, registry=registry)
    return item


def load_estimates(app, directory):
    """The estimator and a decision brief, loaded from copies of their content files."""
    import shutil

    from portal.loader import Loader
    from portal.testing import CONTENT_DIR, edit_site

    (directory / 'guides').mkdir()
    (directory / 'guides' / '_index.md').write_text('---\ntype: Folder\ntitle: Oppaat\n---\n')
    shutil.copy(f'{CONTENT_DIR}/estimator.md', directory / 'estimator.md')
    brief = f'{CONTENT_DIR}/guides/kaikukortti-jyvaskyla-hyodyt-ja-kustannukset.md'
    shutil.copy(brief, directory / 'guides' / 'brief.md')
    with edit_site(app) as site:
        report = Loader(app.registry).load(site, str(directory))
    assert report.problems == []


@pytest.fixture(scope='module')
def app(tmp_path_factory):
    app = build_app(str(tmp_path_factory.mktemp('matrix')), **{'portal.load_on_start': 'false'})
    registry = app.registry
    tm = transaction.TransactionManager()
    with tm:
        conn = registry._zodb_databases[''].open(transaction_manager=tm)
        site = conn.root()['site']
        for town in ('turku', 'oulu'):
            folder = _create(registry, site, town, 'Folder', 'published')
            for state in STATES:
                _create(registry, folder, state, 'Page', state)
        every = _create(registry, site, 'kaikki', 'Folder', 'published')
        _create(registry, site, 'venues', 'Folder', 'published')  # the venues folder's own views
        _create(
            registry,
            every,
            'venue',
            'Venue',
            'published',
            municipality='Turku',
            region='V-S',
            card_benefit='x',
            categories=('museum',),
        )
        _create(registry, every, 'material', 'Material', 'published', kind='brochure', audience=('public',))
        guide = _create(registry, every, 'guide', 'Guide', 'published')
        _create(registry, guide, 'step', 'Step', 'published', who=('culture',), checklist=('Tee näin',))
        workspaces = _create(registry, site, 'tyotilat', 'Workspaces', 'private')
        jkl = {'municipality': 'Jyväskylä', 'guide': 'kaikki/guide'}
        _create(registry, workspaces, 'jkl', 'Workspace', 'private', **jkl)
        tm.get().addAfterCommitHook(lambda ok: conn.close())
    load_estimates(app, tmp_path_factory.mktemp('estimates'))
    add_user(app, 'admin', PASSWORD, roles=['Administrator'])
    add_user(app, 'editor', PASSWORD, roles=['Editor'])
    add_user(app, 'publisher', PASSWORD, roles=['Publisher'])
    add_user(app, 'local', PASSWORD, local_roles={'/turku': ['Editor']})
    yield app
    close_app(app)


@pytest.fixture(scope='module')
def clients(app):
    found = {}
    for n, role in enumerate(ROLES):
        environ = {'HTTP_HOST': 'example.com', 'REMOTE_ADDR': f'10.0.0.{n}'}
        client = webtest.TestApp(app, extra_environ=environ)
        if role != 'anonymous':
            log_in(client, role, PASSWORD)
        found[role] = client
    return found


STAFF = {'editor', 'publisher', 'admin'}
EDITORS = {'editor', 'admin'}
PUBLISHERS = {'publisher', 'admin'}


def expected(action, role, town, state):
    """Whether ``role`` may do ``action`` to the page in ``state`` in ``town``'s folder."""
    local = role == 'local' and town == 'turku'
    if action == 'view':
        return state == 'published' or role in STAFF or local
    if action in ('add', 'edit', 'delete'):
        return role in EDITORS or local
    if action == 'submit':
        return state == 'private' and (role in EDITORS or local)
    if action in ('publish',):
        return state in ('private', 'pending') and role in PUBLISHERS
    if action == 'retract':
        return state == 'published' and role in PUBLISHERS
    raise AssertionError(action)


CASES = [
    (action, role, town, state)
    for action in ('view', 'add', 'edit', 'delete', 'submit', 'publish', 'retract')
    for role in ROLES
    for town in ('turku', 'oulu')
    for state in STATES
]


@pytest.mark.parametrize(('action', 'role', 'town', 'state'), CASES)
def test_matrix(clients, action, role, town, state):
    client = clients[role]
    allowed = expected(action, role, town, state)
    denied = 403
    if action == 'view':
        client.get(f'/{town}/{state}/', status=200 if allowed else denied)
    elif action == 'add':
        client.get(f'/{town}/@@add', params={'type': 'Page'}, status=200 if allowed else denied)
    elif action in ('edit', 'delete'):
        client.get(f'/{town}/{state}/@@{action}', status=200 if allowed else denied)
    else:
        res = client.get(f'/{town}/{state}/@@state', expect_errors=True)
        offered = res.status_int == 200 and f'value="{action}"' in res.text
        assert offered is allowed
        if not allowed and res.status_int == 200:
            token = client.get('/login').forms[1]['csrf_token'].value
            client.post(f'/{town}/{state}/@@state', {'csrf_token': token, 'transition': action}, status=403)


def test_state_change_post_is_checked_on_the_server(app, clients):
    token = clients['editor'].get('/login').forms[1]['csrf_token'].value
    clients['editor'].post(
        '/oulu/pending/@@state', {'csrf_token': token, 'transition': 'publish'}, status=403
    )
    token = clients['local'].get('/login').forms[1]['csrf_token'].value
    clients['local'].post('/oulu/private/@@state', {'csrf_token': token, 'transition': 'submit'}, status=403)


# Every registered view --------------------------------------------------------------------------------
CONTEXT_PATHS = {
    'Site': '/',
    'Container': '/turku/',
    'Folder': '/turku/',
    'Item': '/turku/private/',
    'Page': '/turku/private/',
    'Venue': '/kaikki/venue/',
    'Material': '/kaikki/material/',
    'Guide': '/kaikki/guide/',
    'Step': '/kaikki/guide/step/',
    'Estimate': '/estimator/',
    'DecisionBrief': '/guides/brief/',
    'CardRegistry': '/registry/',
    'Workspace': '/tyotilat/jkl/',
}


def registered_views(app):
    """(url, introspectable) for every view that traversal reaches, from Pyramid's introspector."""
    found = []
    for intr in app.registry.introspector.get_category('views'):
        view = intr['introspectable']
        if view['exception_only'] or view['route_name']:
            continue
        context = view['context']
        name = getattr(context, '__name__', None) if context is not None else None
        if (
            context is None
            or name == 'IExceptionResponse'
            or (isinstance(context, type) and issubclass(context, BaseException))
        ):
            continue
        assert name in CONTEXT_PATHS, f'no test item for views of {context!r}: add one to CONTEXT_PATHS'
        path = '/venues/' if view.get('is_venues') else CONTEXT_PATHS[name]
        url = path + (f'@@{view["name"]}' if view['name'] else '')
        found.append((url, intr))
    assert len(found) > 20
    return found


def test_every_view_has_an_explicit_permission(app):
    for url, intr in registered_views(app):
        permissions = [r for r in intr['related'] if r.category_name == 'permissions']
        assert permissions, f'{url} has no permission of its own'


def test_every_view_refuses_post_without_csrf_token(app, clients):
    admin = clients['admin']
    anonymous = clients['anonymous']
    for url, view in registered_views(app):
        methods = view['introspectable']['request_methods']
        methods = {methods} if isinstance(methods, str) else set(methods or ())
        if methods and methods <= {'GET', 'HEAD'}:
            admin.post(url, {'title': 'x'}, status=(400, 404, 405))  # read-only: refused or not reached
            continue
        admin.post(url, {'title': 'x', 'transition': 'publish', 'confirm': 'yes'}, status=400)
        anonymous.post(url, {'login': 'admin', 'password': PASSWORD}, status=(400, 403))
        admin.post(url, {'csrf_token': 'forged' * 8}, status=400)


def test_no_view_writes_on_get(app, clients, caplog):
    db = app.registry._zodb_databases['']
    audit = app.registry._zodb_databases['audit']
    urls = sorted({url for url, _view in registered_views(app)})
    before = (db.lastTransaction(), audit.lastTransaction())
    with caplog.at_level(logging.ERROR, logger='portal.security'):
        for role in ROLES:
            for url in urls:
                res = clients[role].get(url, expect_errors=True)
                assert res.status_int < 500, (role, url, res.status)
                clients[role].head(url, expect_errors=True)
    assert (db.lastTransaction(), audit.lastTransaction()) == before
    assert not [r for r in caplog.records if 'tried to write' in r.getMessage()]


# XSS -------------------------------------------------------------------------------------------------
PAYLOADS = ('<script>alert(1)</script>', '"><img src=x onerror=alert(2)>', "'><svg onload=alert(3)>")
BODY = '<script>alert(4)</script>\n\n[link](javascript:alert(5)) <a href="x" onclick="alert(6)">a</a>'
BODY += '\n\n<p style="color:red">styled</p> [ok](https://example.org/)'


def json_data(tag):
    """True for a JSON-LD block whose text is JSON with no markup in it."""
    import json

    if tag.get('type') != 'application/ld+json' or '<' in tag.text:
        return False
    try:
        json.loads(tag.text)
    except ValueError:
        return False
    return True


def dangers(html):
    """Markup that would run script or carry inline style: scripts without src, on* handlers,
    javascript: links, style attributes and elements.  Text that merely shows such code is fine."""
    from bs4 import BeautifulSoup

    found = []
    for tag in BeautifulSoup(html, 'html.parser').find_all(True):
        if tag.name in ('script',) and not tag.get('src') and not json_data(tag):
            found.append(str(tag)[:80])
        if tag.name in ('style', 'iframe', 'object', 'embed', 'svg'):
            found.append(str(tag)[:80])
        for attr, value in tag.attrs.items():
            text = ' '.join(value) if isinstance(value, list) else str(value)
            if attr.lower().startswith('on') or attr.lower() == 'style':
                found.append(f'{tag.name} {attr}')
            if attr.lower() in ('href', 'src', 'action') and text.strip().lower().startswith('javascript:'):
                found.append(f'{tag.name} {attr}={text}')
    return found


def free_text_fields(schema):
    for node in schema.children:
        if not isinstance(node.typ, colander.String):
            continue
        if not isinstance(node.widget, (deform.widget.TextInputWidget, deform.widget.TextAreaWidget)):
            continue
        if getattr(node.widget, 'readonly', False):  # shown, never posted (a venue's derived region)
            continue
        # The portal's text rule (portal.forms.apply_text_rules) comes first on every text node: look at
        # what the field's own declaration adds to it.
        validator = node.validator
        rule = text_rule_of(node)
        if rule is not None and validator is rule:
            validator = None
        elif rule is not None and isinstance(validator, colander.All) and validator.validators[0] is rule:
            rest = validator.validators[1:]
            validator = rest[0] if len(rest) == 1 else validator
        if validator is None or isinstance(validator, colander.Length):
            yield node.name


@pytest.mark.parametrize(
    ('type_name', 'path'),
    [
        ('Page', '/kaikki/venue'),
        ('Venue', '/kaikki/venue'),
        ('Material', '/kaikki/material'),
        ('Guide', '/kaikki/guide'),
        ('Step', '/kaikki/guide/step'),
        ('Folder', '/kaikki'),
    ],
)
def test_xss_payloads_come_back_escaped(app, clients, type_name, path):
    if type_name == 'Page':
        path = '/turku/published'
    admin = clients['admin']
    schema = app.registry.content_types[type_name].schema()
    form = admin.get(f'{path}/@@edit').forms['edit-form']
    for n, name in enumerate(free_text_fields(schema)):
        form[name] = BODY if name == 'body' else PAYLOADS[n % len(PAYLOADS)] + ' teksti'
    res = form.submit('save', expect_errors=True)
    assert res.status_int == 303, res.text[res.text.find('error-summary') - 100 :][:800]
    assert dangers(res.text) == []
    copy = admin.get(f'{path}/@@working-copy', expect_errors=True)
    if copy.status_int == 200:  # a published item's edit is a working copy until it is published
        assert dangers(copy.text) == []
        copy.forms['working-copy-form'].submit('step', value='publish', status=303)
    for page in (
        f'{path}/',
        f'{path}/@@edit',
        f'{path}/@@history',
        f'{path}/@@history?rev=2',
        '/@@audit',
        '/kaikki/@@contents',
        '/turku/@@contents',
    ):
        html = admin.get(page, expect_errors=True).text
        assert dangers(html) == [], page
    public = admin.get(f'{path}/').text
    assert '&lt;script&gt;alert(1)&lt;/script&gt; teksti' in public or 'alert(1)' not in public
    assert 'teksti' in public
    assert '<a href="https://example.org/" rel="noopener noreferrer">ok</a>' in public
