"""The second factor: enrolment, the second login step, recovery codes, throttling and the reset.

Most tests build an application with the production default of ``portal.second_factor_roles`` (the test
settings turn it off, since other tests log the same users in many times a minute)."""

import re
import time

import pyotp
import pytest

from portal.testing import TEST_PASSWORD, add_user, browser, enrol_second_factor, form_with, log_in

DEFAULT_ROLES = ('Administrator', 'NationalAdmin', 'Coordinator', 'IssuerStaff')


@pytest.fixture
def app(make_app):
    return make_app(
        **{'portal.second_factor_roles': ' '.join(DEFAULT_ROLES), 'portal.login_max_failures': '4'}
    )


def audit_entries(app, action):
    from portal.audit import LOG_KEY
    from portal.testing import transaction

    db = app.registry._zodb_databases['audit']
    conn = db.open(transaction_manager=transaction.TransactionManager())
    try:
        log = conn.root().get(LOG_KEY)
        return [entry for entry in log.newest() if entry['action'] == action] if log else []
    finally:
        conn.close()


def user_of(app, login):
    from portal.security import ensure_principals
    from portal.testing import transaction

    conn = app.registry._zodb_databases[''].open(transaction_manager=transaction.TransactionManager())
    user = ensure_principals(conn.root()).get_user(login)
    return user, conn


def password_step(client, login, came_from=''):
    form = form_with(client.get('/login' + (f'?came_from={came_from}' if came_from else '')), 'login')
    form['login'] = login
    form['password'] = TEST_PASSWORD
    return form.submit(status=303)


def code_form(res):
    return form_with(res, 'code')


def now_code(secret, offset=0):
    return pyotp.TOTP(secret).at(time.time() + offset * 30)


def enrol_through_pages(client, res):
    """Follow the enrolment page: read the key shown as text, give its code; return (secret, page)."""
    page = res.follow()
    secret = page.html.find(id='twofactor-secret').get_text().replace(' ', '')
    form = code_form(page)
    form['code'] = now_code(secret)
    return secret, form.submit(status=200)


def test_the_production_default_names_the_roles_that_read_card_records():
    from portal import PortalSettings

    assert PortalSettings.from_settings({}).second_factor_roles == DEFAULT_ROLES
    assert PortalSettings.from_settings({'portal.second_factor_roles': ''}).second_factor_roles == ()


@pytest.mark.parametrize('role', DEFAULT_ROLES)
def test_a_role_that_needs_the_factor_is_sent_to_enrolment_and_holds_nothing_yet(app, role):
    add_user(app, 'staff', TEST_PASSWORD, roles=[role])
    client = browser(app)
    res = password_step(client, 'staff')
    assert res.location.endswith('/@@two-factor-setup')
    # The half-finished login grants nothing: not even the user's own name in the page header.
    assert 'staff' not in client.get('/').html.find('header').get_text()
    client.get('/@@users', status=403)
    client.get('/@@two-factor', status=303)  # no code step before enrolment


def test_a_local_role_that_needs_the_factor_counts_too(app):
    add_user(app, 'local', TEST_PASSWORD, roles=[], local_roles={'/guides': ['Administrator']})
    res = password_step(browser(app), 'local')
    assert res.location.endswith('/@@two-factor-setup')


def test_other_roles_log_in_with_the_password_alone(app):
    add_user(app, 'editor', TEST_PASSWORD, roles=['Editor'])
    res = password_step(browser(app), 'editor')
    assert res.location == 'http://example.com/'


def test_enrolment_shows_a_qr_code_and_the_key_then_ten_recovery_codes_once(app):
    add_user(app, 'admin2', TEST_PASSWORD, roles=['Administrator'])
    client = browser(app)
    res = password_step(client, 'admin2')
    page = res.follow()
    svg = page.html.find('svg')
    assert svg['role'] == 'img' and svg.find('title').get_text() == 'QR-koodi todennussovellustasi varten'
    assert '<script' not in page.text and 'style=' not in page.text
    secret_text = page.html.find(id='twofactor-secret').get_text()
    assert re.fullmatch(r'([A-Z2-7]{4} ){7}[A-Z2-7]{4}', secret_text)
    link = page.html.find('a', href=re.compile('^otpauth://totp/'))
    assert f'secret={secret_text.replace(" ", "")}' in link['href'] and 'admin2' in link['href']
    field = page.html.find(id='twofactor-code')
    assert field['autocomplete'] == 'one-time-code' and field['inputmode'] == 'numeric'
    assert page.html.find('label', attrs={'for': 'twofactor-code'}) is not None
    # A reload shows the same key: a code from an app that scanned the first page still works.
    assert client.get('/@@two-factor-setup').html.find(id='twofactor-secret').get_text() == secret_text

    form = code_form(page)
    form['code'] = now_code(secret_text.replace(' ', ''))
    done = form.submit(status=200)
    codes = [li.get_text() for li in done.html.select('ol.recovery-codes li')]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(re.fullmatch(r'[A-Z2-9]{5}-[A-Z2-9]{5}', code) for code in codes)
    client.get('/@@users', status=200)  # logged in now
    user, conn = user_of(app, 'admin2')
    try:
        assert user.totp_secret == secret_text.replace(' ', '')
        stored = ' '.join(user.recovery_hashes)
        assert all(code.replace('-', '') not in stored for code in codes)
    finally:
        conn.close()
    # Shown once: the setup page now only says the factor is on.
    again = client.get('/@@two-factor-setup')
    assert 'ol class="recovery-codes"' not in again.text and 'twofactor-code' not in again.text
    assert [entry['detail'] for entry in audit_entries(app, 'user-edit')] == [{'changed': ('second_factor',)}]


def test_a_wrong_first_code_is_refused_beside_the_field(app):
    add_user(app, 'coord', TEST_PASSWORD, roles=['Coordinator'])
    client = browser(app)
    page = password_step(client, 'coord').follow()
    form = code_form(page)
    form['code'] = '000000' if now_code('A' * 32) != '000000' else '111111'
    res = form.submit(status=400)
    field = res.html.find(id='twofactor-code')
    assert field['aria-invalid'] == 'true'
    assert 'twofactor-code-error' in field['aria-describedby']
    assert res.html.find(id='twofactor-code-error') is not None
    client.get('/@@users', status=403)


def test_the_downloaded_codes_are_the_users_own_unused_ones(app):
    add_user(app, 'coord', TEST_PASSWORD, roles=['Coordinator'])
    client = browser(app)
    _secret, done = enrol_through_pages(client, password_step(client, 'coord'))
    download = next(form for form in done.forms.values() if form.action.endswith('two-factor-codes.txt'))
    res = download.submit()
    assert res.content_type == 'text/plain'
    assert 'attachment' in res.headers['Content-Disposition']
    codes = [li.get_text() for li in done.html.select('ol.recovery-codes li')]
    assert all(code in res.text for code in codes)
    token = download['csrf_token'].value
    client.post('/@@two-factor-codes.txt', {'csrf_token': token, 'code': 'ABCDE-FGHJK'}, status=404)


def test_an_enrolled_user_gives_a_code_after_the_password(app):
    add_user(app, 'issuer', TEST_PASSWORD, roles=['IssuerStaff'])
    secret, _codes = enrol_second_factor(app, 'issuer')
    client = browser(app)
    res = password_step(client, 'issuer', came_from='/@@two-factor-setup')
    assert res.location.endswith('/@@two-factor')
    page = res.follow()
    client.get('/@@two-factor-setup', status=303)  # half-logged: back to the code step
    field = page.html.find(id='twofactor-code')
    assert field['autocomplete'] == 'one-time-code' and field['inputmode'] == 'numeric'
    form = code_form(page)
    form['code'] = ' '.join([now_code(secret)[:3], now_code(secret)[3:]])  # pasted with a space
    done = form.submit(status=303)
    assert done.location == 'http://example.com/@@two-factor-setup'
    assert 'issuer' in client.get('/').html.find('header').get_text()
    logins = audit_entries(app, 'login')
    assert logins[0]['actor'] == 'issuer' and logins[0]['detail'] == {'second_factor': 'code'}


def test_the_full_login_starts_a_fresh_session(app):
    add_user(app, 'issuer', TEST_PASSWORD, roles=['IssuerStaff'])
    secret, _codes = enrol_second_factor(app, 'issuer')
    client = browser(app)
    page = password_step(client, 'issuer').follow()
    half_token = code_form(page)['csrf_token'].value
    form = code_form(page)
    form['code'] = now_code(secret)
    form.submit(status=303)
    assert form_with(client.get('/login'), 'login')['csrf_token'].value != half_token
    user, conn = user_of(app, 'issuer')
    try:
        assert len(user.sessions) == 1
    finally:
        conn.close()


def test_an_enrolled_user_of_any_role_gives_a_code(make_app):
    app = make_app()  # the test settings: no role needs the factor
    add_user(app, 'editor', TEST_PASSWORD, roles=['Editor'])
    enrol_second_factor(app, 'editor')
    assert password_step(browser(app), 'editor').location.endswith('/@@two-factor')


def test_a_code_is_used_once(app):
    add_user(app, 'issuer', TEST_PASSWORD, roles=['IssuerStaff'])
    secret, _codes = enrol_second_factor(app, 'issuer')
    code = now_code(secret)
    first = browser(app)
    form = code_form(password_step(first, 'issuer').follow())
    form['code'] = code
    form.submit(status=303)
    second = browser(app, addr='203.0.113.9')
    form = code_form(password_step(second, 'issuer').follow())
    form['code'] = code
    res = form.submit(status=400)
    assert res.html.find(id='twofactor-code-error') is not None
    second.get('/@@users', status=403)
    # An older code than the last one accepted is refused too.
    form = code_form(res)
    form['code'] = now_code(secret, -1)
    form.submit(status=400)


def test_wrong_codes_are_throttled_like_passwords_and_a_right_password_does_not_clear_them(app):
    add_user(app, 'issuer', TEST_PASSWORD, roles=['IssuerStaff'])
    secret, _codes = enrol_second_factor(app, 'issuer')
    right = now_code(secret)
    wrong = next(code for code in ('123456', '654321', '111111') if code not in {right, now_code(secret, 1)})
    for _attempt in range(4):
        client = browser(app, addr='203.0.113.1')
        form = code_form(password_step(client, 'issuer').follow())
        form['code'] = wrong
        form.submit(status=400)
    # The code's failures count as the password's do: for this login from this address ...
    client = browser(app, addr='203.0.113.1')
    form = form_with(client.get('/login'), 'login')
    form['login'] = 'issuer'
    form['password'] = TEST_PASSWORD
    res = form.submit(status=429)
    assert 'Retry-After' in res.headers
    throttled = audit_entries(app, 'login-throttled')
    assert throttled and throttled[0]['detail']['login'] == 'issuer'
    # ... and not for the same person at another address (the login's own ceiling is much higher).
    elsewhere = browser(app, addr='203.0.113.50')
    form = form_with(elsewhere.get('/login'), 'login')
    form['login'] = 'issuer'
    form['password'] = TEST_PASSWORD
    form.submit(status=303)


def test_the_code_step_refuses_even_a_right_code_once_throttled(app):
    add_user(app, 'issuer', TEST_PASSWORD, roles=['IssuerStaff'])
    secret, _codes = enrol_second_factor(app, 'issuer')
    client = browser(app)
    page = password_step(client, 'issuer').follow()
    for _ in range(4):
        form = code_form(page)
        form['code'] = 'abc'
        page = form.submit(status=400)
        assert 'Anna ne kuusi numeroa' in page.text
    form = code_form(page)
    form['code'] = now_code(secret)
    res = form.submit(status=429)
    assert res.html.find(id='twofactor-code-error') is not None
    client.get('/@@users', status=403)


def test_a_recovery_code_works_once(app):
    add_user(app, 'natadmin', TEST_PASSWORD, roles=['NationalAdmin'])
    _secret, codes = enrol_second_factor(app, 'natadmin')
    client = browser(app)
    page = password_step(client, 'natadmin').follow()
    form = form_with(page, 'recovery_code')
    form['recovery_code'] = codes[3].lower().replace('-', ' ')
    form.submit(status=303)
    assert audit_entries(app, 'login')[0]['detail'] == {'second_factor': 'recovery_code'}
    again = browser(app, addr='203.0.113.8')
    form = form_with(password_step(again, 'natadmin').follow(), 'recovery_code')
    form['recovery_code'] = codes[3]
    res = form.submit(status=400)
    field = res.html.find(id='twofactor-recovery')
    assert field['aria-invalid'] == 'true' and 'twofactor-recovery-error' in field['aria-describedby']
    assert res.html.select_one('main details').get('open') == 'open'
    user, conn = user_of(app, 'natadmin')
    try:
        assert len(user.recovery_hashes) == 9
    finally:
        conn.close()


def test_a_half_finished_login_expires(app, monkeypatch):
    add_user(app, 'issuer', TEST_PASSWORD, roles=['IssuerStaff'])
    secret, _codes = enrol_second_factor(app, 'issuer')
    client = browser(app)
    form = code_form(password_step(client, 'issuer').follow())
    later = time.time() + 16 * 60
    monkeypatch.setattr('portal.views.twofactor.time.time', lambda: later)
    form['code'] = pyotp.TOTP(secret).at(later)
    res = form.submit(status=303)
    assert res.location.endswith('/login')
    client.get('/@@users', status=403)


def test_an_administrator_resets_a_users_second_factor_and_it_is_audited(app):
    add_user(app, 'admin', TEST_PASSWORD, roles=['Administrator'])
    add_user(app, 'issuer', TEST_PASSWORD, roles=['IssuerStaff'])
    admin_secret, _codes = enrol_second_factor(app, 'admin')
    secret, _codes = enrol_second_factor(app, 'issuer')
    issuer = browser(app, addr='203.0.113.20')
    form = code_form(password_step(issuer, 'issuer').follow())
    form['code'] = now_code(secret)
    form.submit(status=303)
    issuer.get('/', status=200)

    admin = browser(app)
    form = code_form(password_step(admin, 'admin').follow())
    form['code'] = now_code(admin_secret)
    form.submit(status=303)
    listing = admin.get('/@@users')
    reset = next(
        form
        for form in listing.forms.values()
        if form.action.endswith('@@reset-second-factor') and form['login'].value == 'issuer'
    )
    reset.submit(status=303)
    assert audit_entries(app, 'user-edit')[0]['detail'] == {'changed': ('second_factor_reset',)}
    assert audit_entries(app, 'user-edit')[0]['actor'] == 'admin'
    assert 'issuer' not in issuer.get('/').html.find('header').get_text()  # sessions ended
    assert password_step(browser(app, addr='203.0.113.21'), 'issuer').location.endswith('/@@two-factor-setup')
    # Without the CSRF token, nothing happens.
    admin.post('/@@reset-second-factor', {'login': 'admin'}, status=400)


def test_only_user_managers_can_reset(app):
    add_user(app, 'editor', TEST_PASSWORD, roles=['Editor'])
    add_user(app, 'issuer', TEST_PASSWORD, roles=['IssuerStaff'])
    enrol_second_factor(app, 'issuer')
    editor = browser(app)
    log_in(editor, 'editor', TEST_PASSWORD)
    token = form_with(editor.get('/login'), 'login')['csrf_token'].value
    editor.post('/@@reset-second-factor', {'login': 'issuer', 'csrf_token': token}, status=403)
    user, conn = user_of(app, 'issuer')
    try:
        assert user.totp_secret
    finally:
        conn.close()


def test_anyone_logged_in_may_turn_the_factor_on_and_then_gives_codes(make_app):
    app = make_app()  # the test settings: no role needs the factor
    add_user(app, 'editor', TEST_PASSWORD, roles=['Editor'])
    client = browser(app, 'editor')
    page = client.get('/@@two-factor-setup')
    secret = page.html.find(id='twofactor-secret').get_text().replace(' ', '')
    form = code_form(page)
    form['code'] = now_code(secret)
    done = form.submit(status=200)
    assert len(done.html.select('ol.recovery-codes li')) == 10
    assert 'editor' in client.get('/').html.find('header').get_text()  # still logged in
    assert password_step(browser(app, addr='203.0.113.30'), 'editor').location.endswith('/@@two-factor')


def test_the_enrolment_page_needs_a_password_first(app):
    browser(app).get('/@@two-factor-setup', status=303)
    browser(app).get('/@@two-factor', status=303)


def give_roles(app, login, roles=None, local=None):
    """Change a user's roles without ending their sessions, as the registry's people page does."""
    from portal import SITE_KEY
    from portal.security import ensure_principals
    from portal.testing import transaction

    tm = transaction.TransactionManager()
    conn = app.registry._zodb_databases[''].open(transaction_manager=tm)
    try:
        with tm:
            root = conn.root()
            user = ensure_principals(root).get_user(login)
            if roles is not None:
                user.roles = tuple(roles)
            for name, names in (local or {}).items():
                root[SITE_KEY][name].set_local_roles(user.principal, names)
    finally:
        conn.close()


def test_a_session_that_gains_a_role_needing_the_factor_is_sent_to_enrolment(app):
    add_user(app, 'editor', TEST_PASSWORD, roles=['Editor'])
    client = browser(app, 'editor')
    assert 'editor' in client.get('/').html.find('header').get_text()
    give_roles(app, 'editor', roles=['Editor', 'IssuerStaff'])
    res = client.get('/guides/', status=303)
    assert res.location.endswith('/@@two-factor-setup')
    assert 'editor' not in client.get('/').html.find('header').get_text()
    _secret, done = enrol_through_pages(client, res)
    assert done.html.find('a', string='Jatka')['href'] == 'http://example.com/guides/'
    assert 'editor' in client.get('/guides/').html.find('header').get_text()


def test_a_local_role_needing_the_factor_counts_where_it_is_held(app):
    add_user(app, 'editor', TEST_PASSWORD, roles=['Editor'])
    client = browser(app, 'editor')
    give_roles(app, 'editor', local={'guides': ['Administrator']})
    assert client.get('/guides/', status=303).location.endswith('/@@two-factor-setup')


def test_a_factor_turned_on_elsewhere_is_asked_of_open_sessions(make_app):
    app = make_app()  # the test settings: no role needs the factor
    add_user(app, 'editor', TEST_PASSWORD, roles=['Editor'])
    client = browser(app, 'editor')
    enrol_second_factor(app, 'editor')
    assert client.get('/', status=303).location.endswith('/@@two-factor')
