"""The one clock of the portal and its plugins: Finnish time.

Dates that decide something (is a card valid today, is a step overdue, may a date lie in the future) are
Finnish dates, whatever the server's own time zone; every date and time a person reads is shown in Finnish
time, formatted by Babel (CLDR) for the reader's language.  Stored times stay timezone-aware UTC.
"""

import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time

HELSINKI = ZoneInfo('Europe/Helsinki')
#: CLDR locales by interface language; English is British English, as EU public services write it.
LOCALES = {'fi': 'fi_FI', 'sv': 'sv_FI', 'en': 'en_GB'}


def now():
    """The present moment, timezone-aware (UTC)."""
    return datetime.datetime.now(datetime.UTC)


def today():
    """Today's date in Finland."""
    return now().astimezone(HELSINKI).date()


def show_time(value, lang, seconds=False):
    """A stored time as a reader of ``lang`` writes it, in Finnish time (``5.12.2026 13.40`` in Finnish).
    A naive time is taken to be UTC, as the portal stores them."""
    if value is None:
        return ''
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    return format_datetime(
        value, 'medium' if seconds else 'short', tzinfo=HELSINKI, locale=LOCALES.get(lang, 'fi_FI')
    )


def show_clock(value, lang):
    """The time of day of a stored time, in Finnish time, as a reader of ``lang`` writes it (``0.30``
    in Finnish): for lists of today's events, where the day goes without saying.  A naive time is
    taken to be UTC, as in :func:`show_time`."""
    if value is None:
        return ''
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    return format_time(value, 'short', tzinfo=HELSINKI, locale=LOCALES.get(lang, 'fi_FI'))


def show_day(value, lang):
    """A date as a reader of ``lang`` writes it (``5.12.2026`` in Finnish); a time is shown by its
    Finnish day, a naive one taken to be UTC as in :func:`show_time`."""
    if value is None:
        return ''
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.UTC)  # stored UTC, as show_time takes it
        value = value.astimezone(HELSINKI).date()
    return format_date(value, 'short', locale=LOCALES.get(lang, 'fi_FI'))


def show_month(value, lang):
    """A month (``'2026-01'``, as the statistics keep them, or a date) as a reader of ``lang`` names it:
    ``tammikuu 2026``, ``januari 2026``."""
    if isinstance(value, str):
        year, month = (int(part) for part in value.split('-'))
        value = datetime.date(year, month, 1)
    return format_date(value, 'LLLL yyyy', locale=LOCALES.get(lang, 'fi_FI'))
