"""Failed sign-ins counted per email and per client address, so guessing passwords is slow.

Kept in the server process's memory: a restart forgets them, which only gives an attacker a
fresh window, never a way in.
"""

from __future__ import annotations

import threading
from collections import deque

from leadpulse.core import clock

WINDOW_MS = 10 * 60_000
PER_EMAIL = 10
PER_ADDRESS = 50
MAX_KEYS = 100_000


class Throttle:
    def __init__(self) -> None:
        self._failures: dict[str, deque[int]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: int) -> deque[int]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - WINDOW_MS:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def wait_minutes(self, email: str, address: str) -> int:
        """0 when a sign-in may be tried now; else how many minutes to wait."""
        now = clock.now_ms()
        with self._lock:
            waits = [
                times[-limit] + WINDOW_MS - now
                for key, limit in ((f"e:{email}", PER_EMAIL), (f"a:{address}", PER_ADDRESS))
                if len(times := self._recent(key, now)) >= limit
            ]
        return -(-max(waits) // 60_000) if waits else 0

    def failed(self, email: str, address: str) -> None:
        now = clock.now_ms()
        with self._lock:
            if len(self._failures) >= MAX_KEYS:
                self._failures.clear()
            for key in (f"e:{email}", f"a:{address}"):
                self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, email: str) -> None:
        with self._lock:
            self._failures.pop(f"e:{email}", None)
