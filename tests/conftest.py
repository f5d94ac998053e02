import os
import tempfile

# Chameleon keeps the Python it compiles from each template in this folder, so the hundreds of
# applications the tests build (and the servers they start) compile each template once, not once
# each: about half of building an application and all but 30 ms of its first pages.  Set before
# anything imports Chameleon.
os.environ.setdefault('CHAMELEON_CACHE', os.path.join(tempfile.gettempdir(), 'kaiku-chameleon-cache'))
os.makedirs(os.environ['CHAMELEON_CACHE'], exist_ok=True)

from portal.testing import *  # noqa: E402, F403


def pytest_terminal_summary(terminalreporter):
    """Say loudly when browser tests were skipped: a quiet skip would look like a pass."""
    skipped = [report for report in terminalreporter.stats.get('skipped', []) if 'browser' in report.keywords]
    reasons = sorted({str(report.longrepr[-1]) for report in skipped if isinstance(report.longrepr, tuple)})
    if not any(reason.startswith('Skipped: browser tests skipped') for reason in reasons):
        return
    terminalreporter.write_sep('!', 'BROWSER TESTS WERE SKIPPED', red=True, bold=True)
    terminalreporter.write_line(
        f'{len(skipped)} browser test(s) did not run: accessibility, valid HTML, reflow and keyboard '
        'checks were NOT made.'
    )
    for reason in reasons:
        terminalreporter.write_line(f'  {reason}')
    terminalreporter.write_line(
        'Install them with: apt-get install chromium chromium-driver; make node_modules'
    )
