"""A small in-process limiter for failed code lookups (the enumeration guard).

Each app process counts failures per key (a site, a user) in a sliding window.  With several processes
the limit is per process, which still caps guessing at processes × limit per window; the codes' 45
random bits make guessing hopeless at that rate.
"""

import threading
import time
from collections import deque


class FailureLimiter:
    def __init__(self, limit, window_seconds, clock=time.monotonic):
        self.limit = limit
        self.window = window_seconds
        self.clock = clock
        self._failures = {}
        self._lock = threading.Lock()

    def _recent(self, key, now):
        failures = self._failures.get(key)
        if failures is None:
            return None
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            del self._failures[key]
            return None
        return failures

    def blocked(self, *keys):
        """Seconds to wait when any key has used up its failures, else 0."""
        now = self.clock()
        with self._lock:
            waits = []
            for key in keys:
                failures = self._recent(key, now)
                if failures is not None and len(failures) >= self.limit:
                    waits.append(failures[0] + self.window - now)
            return max(waits, default=0)

    def fail(self, *keys):
        now = self.clock()
        with self._lock:
            for key in keys:
                self._recent(key, now)
                self._failures.setdefault(key, deque()).append(now)
