"""Finnish is complete: every interface string in the code and templates has a Finnish translation, and
the Swedish and English catalogs cover the same strings."""

import os
import re
import subprocess
import sys

import pytest
from babel.messages.pofile import read_po

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOMAINS = [
    ('kaiku', 'portal/locale', ['portal', 'themes/kaiku']),
    ('kaiku_registry', 'plugins/kaiku_registry/locale', ['plugins/kaiku_registry']),
]


def pot_create_options():
    """The options ``make i18n`` gives pot-create (the Makefile's own line), so that these tests extract
    what the tool extracts: with lingva's defaults only, a ``plural()`` call's msgids were not found, and
    ``make i18n`` marked their translations obsolete (English on Finnish screens)."""
    with open(os.path.join(REPO, 'Makefile')) as f:
        line = next(line for line in f if 'pot-create' in line and '$(DOMAIN).pot' in line)
    words = line.split()
    return words[1 : words.index('-o')]


def extracted(tmp_path, domain, sources):
    """The msgids lingva finds in ``sources`` now, not the ones the committed .pot remembers."""
    pot = tmp_path / f'{domain}.pot'
    bindir = os.path.dirname(sys.executable)
    subprocess.run(
        [os.path.join(bindir, 'pot-create'), *pot_create_options(), '-o', str(pot), *sources],
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


def test_make_i18n_extracts_every_plural_with_its_plural_form(tmp_path):
    """Every ``plural(request, singular, plural_form, ...)`` call's two msgids are extracted as one plural
    message, so that ``make i18n`` keeps their translations."""
    calls = set()
    for folder in ('portal', 'plugins'):
        for root, _dirs, names in os.walk(os.path.join(REPO, folder)):
            for name in names:
                if name.endswith('.py'):
                    with open(os.path.join(root, name), encoding='utf-8') as f:
                        found = re.findall(r"plural\(\s*request,\s*'([^']+)',\s*'([^']+)'", f.read())
                    calls.update(found)
    assert len(calls) >= 4
    wanted = set()
    for domain, _locale_dir, sources in DOMAINS:
        wanted |= extracted(tmp_path, domain, sources)
    assert sorted(calls - wanted) == []
