"""The one clock (:mod:`portal.clock`): stored UTC times read in Finnish time and the reader's format."""

import datetime

import pytest

#: 22.30 UTC on 4 December is half past midnight on the 5th in Finland (UTC+2 in winter), and 21.05
#: UTC on 30 June is five past midnight on 1 July (UTC+3 in summer).
WINTER = datetime.datetime(2026, 12, 4, 22, 30, tzinfo=datetime.UTC)
SUMMER = datetime.datetime(2026, 6, 30, 21, 5, tzinfo=datetime.UTC)


@pytest.mark.parametrize(
    ('value', 'lang', 'time', 'day'),
    [
        (WINTER, 'fi', '5.12.2026 0.30', '5.12.2026'),
        (WINTER, 'sv', '5.12.2026 0.30', '5.12.2026'),
        (WINTER, 'en', '05/12/2026, 00:30', '05/12/2026'),
        (SUMMER, 'fi', '1.7.2026 0.05', '1.7.2026'),
        (WINTER.replace(tzinfo=None), 'fi', '5.12.2026 0.30', '5.12.2026'),  # naive: stored UTC
    ],
)
def test_a_time_after_midnight_in_finland_is_shown_on_the_finnish_day(value, lang, time, day):
    from portal.clock import show_day, show_time

    assert show_time(value, lang) == time
    assert show_day(value, lang) == day


@pytest.mark.parametrize(
    ('lang', 'shown'), [('fi', 'joulukuu 2026'), ('sv', 'december 2026'), ('en', 'December 2026')]
)
def test_a_statistics_month_is_named_in_the_readers_language(lang, shown):
    from portal.clock import show_month

    assert show_month('2026-12', lang) == shown
    assert show_month(datetime.date(2026, 12, 24), lang) == shown


@pytest.mark.parametrize(
    ('value', 'lang', 'shown'), [(WINTER, 'fi', '0.30'), (SUMMER, 'sv', '0.05'), (WINTER, 'en', '00:30')]
)
def test_a_time_of_day_is_shown_in_finnish_time(value, lang, shown):
    from portal.clock import show_clock

    assert show_clock(value, lang) == shown
    assert show_clock(value.replace(tzinfo=None), lang) == shown  # naive: stored UTC
    assert show_clock(None, lang) == ''
