"""Finnish is complete: every interface string in the code and templates has a Finnish translation, and
the Swedish and English catalogs cover the same strings."""

import os
import subprocess
import sys

import pytest
from babel.messages.pofile import read_po

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOMAINS = [
    ('kaiku', 'portal/locale', ['portal', 'themes/kaiku']),
    ('kaiku_registry', 'plugins/kaiku_registry/locale', ['plugins/kaiku_registry']),
]


def extracted(tmp_path, domain, sources):
    """The msgids lingva finds in ``sources`` now, not the ones the committed .pot remembers."""
    pot = tmp_path / f'{domain}.pot'
    bindir = os.path.dirname(sys.executable)
    subprocess.run(
        [os.path.join(bindir, 'pot-create'), '-c', 'lingva.cfg', '-o', str(pot), *sources],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    with open(pot, 'rb') as f:
        return {message.id for message in read_po(f) if message.id}


@pytest.mark.parametrize(('domain', 'locale_dir', 'sources'), DOMAINS)
def test_every_interface_string_is_translated(tmp_path, domain, locale_dir, sources):
    wanted = extracted(tmp_path, domain, sources)
    assert len(wanted) > 50
    for lang in ('fi', 'sv', 'en'):
        with open(os.path.join(REPO, locale_dir, lang, 'LC_MESSAGES', f'{domain}.po'), 'rb') as f:
            catalog = read_po(f)
        translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
        missing = sorted(wanted - translated)
        assert not missing, f'{len(missing)} strings lack a {lang} translation (make i18n): {missing[:10]}'
