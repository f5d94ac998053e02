"""The identifier guard refuses identity codes and full dates in free text."""

import pytest


def _callFUT(text):
    from kaiku_registry.privacy import find_identifier

    return find_identifier(text)


@pytest.mark.parametrize(
    'text',
    [
        '131052-308T',
        'hetu 010101A123B tässä',
        '311299-9872',
        '010594Y9032',
        '020300 B 123X',
        '12.3.1985',
        '1/1/2001',
    ],
)
def test_identifiers_are_found(text):
    assert _callFUT(text) is not None


@pytest.mark.parametrize(
    'text', ['', None, 'Konsertti 12.3.', 'Lippuja 2 kpl', 'postinumero 40100', 'koodi ABCD-EFGH-JK', '2025']
)
def test_ordinary_text_passes(text):
    assert _callFUT(text) is None
