"""The door page hands its script the registry's public key, so a scanned QR code can be checked offline.

The browser side (the signature and dates checked by WebCrypto, the page with the network cut) is in
``tests/browser/test_door_offline.py``; here: the right key in the page, the script served as a file (the
Content-Security-Policy forbids inline scripts), and the page still a plain form without JavaScript.
"""

import base64

import pytest
import webtest
from bs4 import BeautifulSoup

from portal.testing import TEST_PASSWORD, add_user, build_app, close_app, edit_site, log_in


def make_door_app(directory, signed=True):
    from kaiku_registry import codes

    settings = {}
    if signed:
        path = directory / 'signing.pem'
        path.write_bytes(codes.private_key_pem(codes.generate_key()))
        settings['kaiku_registry.signing_key'] = str(path)
    app = build_app(str(directory), **settings)
    with edit_site(app) as site:
        registry = site['registry']
        partner = registry.add_partner('Tampereen kaupunki', 'municipality', 'Tampere', 'Pirkanmaa')
        registry.set_member('door', registry.add_site(partner, 'Uimahalli', 'venue'))
    add_user(app, 'door', TEST_PASSWORD, roles=['VenueStaff'])
    return app


@pytest.fixture(scope='module')
def signed_app(tmp_path_factory):
    app = make_door_app(tmp_path_factory.mktemp('door-signed'))
    yield app
    close_app(app)


def door_client(app):
    client = webtest.TestApp(app, extra_environ={'HTTP_HOST': 'example.com'})
    log_in(client, 'door', TEST_PASSWORD)
    return client


def test_the_door_page_holds_the_registry_public_key(signed_app):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    res = door_client(signed_app).get('/registry/door')
    form = res.html.select_one('form.door-form')
    text = form['data-public-key']
    raw = base64.urlsafe_b64decode(text + '=' * (-len(text) % 4))
    assert raw == signed_app.registry.registry_public_key
    public = Ed25519PublicKey.from_public_bytes(raw)
    key = signed_app.registry.registry_signing_key
    public.verify(key.sign(b'door'), b'door')  # the page's key is the pair of the signing key
    assert 'PRIVATE' not in res.text and '-----BEGIN' not in res.text
    assert form['data-health-url'] == 'http://example.com/healthz'


def test_the_script_is_a_file_and_no_script_is_inline(signed_app):
    client = door_client(signed_app)
    res = client.get('/registry/door')
    scripts = res.html.select('script')
    assert scripts and all(tag.get('src') and not tag.text.strip() for tag in scripts)
    door_js = [tag['src'] for tag in scripts if tag['src'].split('?')[0].endswith('/door.js')]
    assert door_js, [tag['src'] for tag in scripts]
    assert "script-src 'self'" in res.headers['Content-Security-Policy']
    served = client.get(door_js[0].replace('http://example.com', ''), status=200)
    assert served.content_type in ('application/javascript', 'text/javascript')
    assert 'crypto.subtle' in served.text and "name: 'Ed25519'" in served.text
    assert 'eval(' not in served.text and 'innerHTML' not in served.text
    anonymous = webtest.TestApp(signed_app, extra_environ={'HTTP_HOST': 'example.com'})
    assert anonymous.get(door_js[0].replace('http://example.com', ''), status=200).cache_control.max_age


def test_without_javascript_the_page_is_the_plain_form(signed_app):
    res = door_client(signed_app).get('/registry/door')
    offline = res.html.select_one('#offline-result')
    assert offline.has_attr('hidden')
    form = res.html.select_one('form.door-form')
    assert form['method'] == 'post' and form['action'].endswith('/registry/door')
    assert form.select_one('input[name="csrf_token"]') and form.select_one('input[name="code"]')
    visible = BeautifulSoup(str(res.html.select_one('main')), 'html.parser')
    for tag in visible.select('[hidden]'):
        tag.decompose()
    assert 'offline' not in visible.text.lower()


def test_a_signed_payload_still_goes_to_the_server_which_decides(signed_app):
    """The server's answer stays authoritative: a correctly signed QR code of a card the registry does
    not hold is UNKNOWN, whatever the offline check would say."""
    from datetime import date, timedelta

    from kaiku_registry import codes

    payload = codes.sign_payload(
        signed_app.registry.registry_signing_key, codes.new_code(), date.today() + timedelta(days=30), 2
    )
    client = door_client(signed_app)
    form = client.get('/registry/door').forms[2]
    form['code'] = payload
    res = form.submit(status=200)
    assert res.html.select_one('.server-result .verdict').text == 'TUNTEMATON'


def test_without_a_signing_key_the_page_says_nothing_of_a_key(tmp_path):
    app = make_door_app(tmp_path, signed=False)
    try:
        res = door_client(app).get('/registry/door')
        assert res.html.select_one('form.door-form')['data-public-key'] == ''
    finally:
        close_app(app)
