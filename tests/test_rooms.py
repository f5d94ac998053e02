"""The house rule on room sizes (DESIGN.md): no module of the portal, the plugin or the theme is over 400
lines unless its first line says why, as ``# Over 400 lines: <reason>``."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 400
REASON = '# Over 400 lines: '


def test_every_large_module_says_why():
    unexplained = {}
    for folder in ('portal', 'plugins', 'themes'):
        for path in (ROOT / folder).rglob('*.py'):
            lines = path.read_text(encoding='utf-8').splitlines()
            reason = lines[0].removeprefix(REASON).strip() if lines and lines[0].startswith(REASON) else ''
            if len(lines) > MAX_LINES and len(reason) < 20:
                unexplained[str(path.relative_to(ROOT))] = len(lines)
    assert unexplained == {}
