"""The door page's camera scanning (its script, the decoder served from the app, the page's
Content-Security-Policy) and its answer for a replaced or lost card.  Scanning itself, in Chromium with a
fake camera, is in ``tests/browser/test_door_camera.py``."""

import pytest
import webtest

from portal.testing import TEST_PASSWORD, add_user, build_app, close_app, edit_site, log_in


@pytest.fixture(scope='module')
def app(tmp_path_factory):
    from kaiku_registry import today

    app = build_app(str(tmp_path_factory.mktemp('door-scan')))
    with edit_site(app) as site:
        registry = site['registry']
        partner = registry.add_partner('Tampereen kaupunki', 'municipality', 'Tampere', 'Pirkanmaa')
        registry.set_member('door', registry.add_site(partner, 'Uimahalli', 'venue'))
        issuer = registry.add_site(partner, 'Sosiaalitoimi', 'issuer')
        replaced = registry.issue_card(issuer, today(), 1980, '33100', 1)
        registry.replace_card(replaced, issuer, today())
        lost = registry.issue_card(issuer, today(), 1980, '33100', 1)
        registry.close_card(lost, 'lost', today())
        returned = registry.issue_card(issuer, today(), 1980, '33100', 1)
        registry.close_card(returned, 'returned', today())
    app.codes = {'replaced': replaced.code, 'lost': lost.code, 'returned': returned.code}
    add_user(app, 'door', TEST_PASSWORD, roles=['VenueStaff'])
    yield app
    close_app(app)


@pytest.fixture
def door(app):
    app.registry.lookup_throttle.clear()
    client = webtest.TestApp(app, extra_environ={'HTTP_HOST': 'example.com'})
    log_in(client, 'door', TEST_PASSWORD)
    return client


def check(door, code):
    form = door.get('/registry/door').forms[2]
    form['code'] = code
    return form.submit(status=200)


def test_the_door_page_allows_webassembly_and_no_other_page_does(door):
    res = door.get('/registry/door')
    csp = res.headers['Content-Security-Policy']
    assert "script-src 'self' 'wasm-unsafe-eval';" in csp
    assert "'unsafe-eval'" not in csp.replace("'wasm-unsafe-eval'", '')
    assert 'wasm-unsafe-eval' not in door.get('/registry/').headers['Content-Security-Policy']
    assert 'wasm-unsafe-eval' not in door.get('/').headers['Content-Security-Policy']


def test_the_scan_block_is_in_the_form_and_hidden_until_a_camera_is_found(door):
    res = door.get('/registry/door')
    block = res.html.select_one('form.door-form .door-scan')
    assert block is not None and block.has_attr('hidden')
    assert block.select_one('button.scan-start')['type'] == 'button'  # it never submits by itself
    scripts = [s['src'] for s in res.html.select('script[src]')]
    assert any('door-scan.js' in src for src in scripts)
    assert not [s for s in res.html.select('script') if not s.has_attr('src')]


def test_the_decoder_is_served_by_the_app_when_copied(door):
    """``make scanner`` copies zxing-wasm's script and WebAssembly into the plugin's static files."""
    from kaiku_registry.pages.door import scanner_present

    block = door.get('/registry/door').html.select_one('.door-scan')
    if not scanner_present():
        assert not block.has_attr('data-decoder')
        pytest.skip('zxing-wasm is not copied (make scanner): the door reads only with BarcodeDetector')
    wasm = door.get(block['data-wasm'])
    assert wasm.content_type == 'application/wasm'
    assert wasm.body[:4] == b'\0asm'
    script = door.get(block['data-decoder'])
    assert b'ZXingWASM' in script.body[:200]
    assert block['data-decoder'].startswith('http://example.com/')  # the app's own origin


def test_a_replaced_card_says_the_holder_has_a_new_card(door, app):
    res = check(door, app.codes['replaced'])
    assert res.html.select_one('.verdict').text == 'SULJETTU'
    assert res.html.select_one('.closed-replaced') is not None
    assert 'uusia' not in res.html.select_one('.server-result').text  # not the renewal advice


def test_a_lost_card_says_so_and_a_returned_one_gets_the_renewal_advice(door, app):
    lost = check(door, app.codes['lost']).html.select_one('.server-result')
    assert lost.select_one('.closed-lost') is not None and lost.select_one('.closed-replaced') is None
    returned = check(door, app.codes['returned']).html.select_one('.server-result')
    assert returned.select_one('.closed-lost') is None and returned.select_one('.closed-replaced') is None
    assert 'uusia' in returned.text


def test_the_replaced_message_in_swedish(door, app):
    form = door.get('/registry/door?lang=sv').forms[2]
    form['code'] = app.codes['replaced']
    res = form.submit(status=200)
    assert 'nytt kort' in res.html.select_one('.closed-replaced').text
