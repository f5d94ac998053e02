"""Hot spots of concurrent writes that the fault test (tests/test_faults.py) found on RelStorage: the
retry's waits must outlast PostgreSQL's deadlock detection (a site's visits of one day, which split the
buckets of the door's list at every few visits, are now one set: tests/test_registry_shards.py)."""

import types

import pytest

import portal


def ceilings(monkeypatch, backoff, attempts):
    """The longest wait :func:`portal.back_off_before_retry` may choose before each retry."""
    chosen = []
    monkeypatch.setattr(portal.random, 'uniform', lambda low, high: chosen.append(high) or 0)
    monkeypatch.setattr(portal.time, 'sleep', lambda seconds: None)
    settings = types.SimpleNamespace(retry_backoff=backoff)
    request = types.SimpleNamespace(registry=types.SimpleNamespace(portal_settings=settings))
    for attempt in range(attempts - 1):
        portal.back_off_before_retry(
            types.SimpleNamespace(request=request, environ={'retry.attempt': attempt})
        )
    return chosen


def test_the_waits_of_ten_attempts_outlast_a_deadlock_detection_and_five_stay_short(monkeypatch):
    ten = ceilings(monkeypatch, 0.004, 10)
    assert sum(ten) / 2 > 1.0  # the average of all waits: longer than deadlock_timeout (1 s)
    assert max(ten) == pytest.approx(1.024)  # no single wait longer than about a second
    five = ceilings(monkeypatch, 0.004, 5)[-4:]
    assert sum(five) < 0.07  # ZEO's five attempts wait a few ms, as before


def test_no_wait_when_the_backoff_is_off(monkeypatch):
    assert ceilings(monkeypatch, 0, 10) == []
