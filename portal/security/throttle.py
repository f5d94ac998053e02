"""Failed-login throttling.

Failed logins are counted per login name and per client address: after ``portal.login_max_failures``
failures within ``portal.login_window`` seconds further tries are refused (429) until the window has passed.
"""

import threading
import time
from collections import deque

from portal.security.principals import normalize_login


def login_key(login):
    return f'login:{normalize_login(login)}'


def address_key(request):
    return f'addr:{request.client_addr}'


class LoginThrottle:
    """Failed logins per key (a login name, a client address) within a sliding window, in memory."""

    def __init__(self, max_failures, window, clock=time.monotonic):
        self.max_failures = max_failures
        self.window = window
        self.clock = clock
        self._failures = {}
        self._lock = threading.Lock()

    def _recent(self, key, now):
        times = self._failures.get(key)
        if times is None:
            return None
        while times and now - times[0] > self.window:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times

    def retry_after(self, keys):
        """Seconds until a try is allowed again for every key, 0 when it is allowed now."""
        now = self.clock()
        wait = 0
        with self._lock:
            for key in keys:
                times = self._recent(key, now)
                if times and len(times) >= self.max_failures:
                    wait = max(wait, int(self.window - (now - times[0])) + 1)
        return wait

    def failed(self, keys):
        now = self.clock()
        with self._lock:
            for key in keys:
                self._failures.setdefault(key, deque()).append(now)
                if len(self._failures) > 100_000:  # bound the memory an attack can take
                    self._failures.pop(next(iter(self._failures)))

    def succeeded(self, key):
        with self._lock:
            self._failures.pop(key, None)
