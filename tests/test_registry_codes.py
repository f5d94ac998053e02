"""Card codes, their check character, and the signed QR payload."""

import datetime
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st


def _codes():
    from kaiku_registry import codes

    return codes


def test_new_codes_are_well_formed_and_unique():
    codes = _codes()
    made = {codes.new_code() for _ in range(2000)}
    assert len(made) == 2000
    assert all(len(code) == 10 and codes.is_valid(code) for code in made)
    assert not set(''.join(made)) & set('01IO')


@settings(max_examples=200, derandomize=True)
@given(st.integers(min_value=0, max_value=9), st.integers(min_value=1, max_value=30))
def test_any_single_typo_is_caught(position, shift):
    codes = _codes()
    code = codes.new_code(randbelow=random.Random(position * 31 + shift).randrange)
    alphabet = codes.ALPHABET
    wrong = alphabet[(alphabet.index(code[position]) + shift) % len(alphabet)]
    typo = code[:position] + wrong + code[position + 1 :]
    assert typo == code or not codes.is_valid(typo)


def test_swapped_neighbours_are_caught():
    codes = _codes()
    rng = random.Random(7)
    caught = total = 0
    for _ in range(500):
        code = codes.new_code(randbelow=rng.randrange)
        i = rng.randrange(9)
        swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
        if swapped != code:
            total += 1
            caught += not codes.is_valid(swapped)
    assert caught / total > 0.95


@pytest.mark.parametrize(
    ('typed', 'ok'),
    [('', None), (None, None), ('ABCDEFGHJ', None), ('ÄBCD-EFGH-JK', None)],
)
def test_parse_refuses_what_cannot_be_a_code(typed, ok):
    assert _codes().parse(typed) is ok


def test_parse_accepts_the_printed_form_in_any_case():
    codes = _codes()
    code = codes.new_code()
    assert codes.parse(codes.grouped(code).lower()) == code
    assert codes.parse(' '.join(code)) == code


def test_signed_payload_verifies_and_tampering_is_detected():
    codes = _codes()
    key = codes.generate_key()
    public = codes.public_key_raw(key)
    code = codes.new_code()
    payload = codes.sign_payload(key, code, datetime.date(2027, 5, 31), 2)
    assert codes.verify_payload(public, payload) == (code, datetime.date(2027, 5, 31), 2)
    prefix, c, until, children, signature = payload.split('.')
    for tampered in (
        '.'.join([prefix, c, '20991231', children, signature]),
        '.'.join([prefix, c, until, '9', signature]),
        '.'.join([prefix, codes.new_code(), until, children, signature]),
        payload[:-2] + ('AA' if payload[-2:] != 'AA' else 'BB'),
        'garbage',
        '',
    ):
        with pytest.raises(codes.PayloadError):
            codes.verify_payload(public, tampered)
    other = codes.public_key_raw(codes.generate_key())
    with pytest.raises(codes.PayloadError):
        codes.verify_payload(other, payload)


def test_key_survives_pem_round_trip():
    codes = _codes()
    key = codes.generate_key()
    again = codes.load_private_key(codes.private_key_pem(key))
    assert codes.public_key_raw(again) == codes.public_key_raw(key)


def test_pictures_are_svg():
    codes = _codes()
    code = codes.new_code()
    assert codes.qr_svg('KK1.x', 'QR').lstrip().startswith('<svg')
    barcode = codes.code39_svg(code)
    assert barcode.startswith('<svg')
    assert barcode.count('<rect') > 40


def test_pictures_draw_under_the_content_security_policy_and_scale():
    """No style attributes (the CSP's style-src 'self' ignores them and the barcode turned solid black),
    and a viewBox on both, so the stylesheet scales them to their printed size instead of cutting them."""
    import re

    codes = _codes()
    key = codes.generate_key()
    payload = codes.sign_payload(key, codes.new_code(), datetime.date(2030, 1, 31), 3)
    for svg in (codes.qr_svg(payload, 'QR'), codes.code39_svg(codes.new_code())):
        assert 'style=' not in svg
        assert re.search(r'<svg[^>]*viewBox="0 0 [\d.]+ [\d.]+"', svg), svg[:200]
    barcode = codes.code39_svg(codes.new_code())
    assert 'fill="white"' in barcode and barcode.count('fill="black"') > 40


def test_public_key_text_is_unpadded_base64url():
    import base64

    codes = _codes()
    raw = codes.public_key_raw(codes.generate_key())
    text = codes.public_key_text(raw)
    assert '=' not in text and len(text) == 43
    assert base64.urlsafe_b64decode(text + '=') == raw
    assert codes.public_key_text(None) == ''


@pytest.mark.parametrize(
    'spoil',
    [
        lambda g: g.replace('-', '\u2013'),  # en dash, as a word processor writes it
        lambda g: g.replace('-', '\u2011'),  # non-breaking hyphen
        lambda g: g.replace('-', '\u2212'),  # minus sign
        lambda g: g.replace('-', ' \u200b'),  # a space and a zero-width space
        lambda g: g.lower().replace('-', '\u2014'),  # em dash, lower case
        lambda g: ''.join(chr(ord(c) + 0xFEE0) if c.isalnum() else c for c in g),  # fullwidth
    ],
    ids=['en-dash', 'nb-hyphen', 'minus', 'zwsp', 'em-dash-lower', 'fullwidth'],
)
def test_a_code_typed_with_any_dash_or_width_is_read(spoil):
    from kaiku_registry import codes

    code = codes.new_code()
    assert codes.parse(spoil(codes.grouped(code))) == code
