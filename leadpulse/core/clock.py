"""The one source of time, so windows, decay and schedules are testable.

Times are integer milliseconds since the Unix epoch everywhere inside Leadpulse; ISO 8601
strings exist only at the edges (HTTP, CSV, CLI).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime


def _wall_clock() -> int:
    return time.time_ns() // 1_000_000


_now: Callable[[], int] = _wall_clock


def now_ms() -> int:
    """Current time in epoch milliseconds."""
    return _now()


def set_clock(fn: Callable[[], int] | None) -> None:
    """Replace the clock (tests); `None` restores the wall clock."""
    global _now
    _now = fn if fn is not None else _wall_clock


def to_iso(ms: int | None) -> str | None:
    """Epoch milliseconds to an ISO 8601 UTC string with a `Z` suffix."""
    if ms is None:
        return None
    dt = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return dt.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def from_datetime(dt: datetime) -> int:
    """An aware or naive (taken as UTC) datetime to epoch milliseconds."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


def parse_iso(text: str) -> int:
    """Parse an ISO 8601 date or datetime (naive means UTC) to epoch milliseconds.

    Raises ValueError with the offending text when it is not a date.
    """
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not an ISO 8601 date or time: {text!r}") from None
    return from_datetime(dt)
