"""What scoring remembers about one subject (a visitor, later its lead) between events.

Plain JSON-ready dicts, so storage can keep them as one row per subject. Applying the same
events in the same order to an empty state always gives the same state: incremental scoring
and replay are one code path.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

State = dict[str, Any]
Stats = dict[str, float]

_STATS = ("pages_viewed", "engaged_ms", "max_scroll", "mouse_intensity", "form_interactions",
          "events")  # fmt: skip
_FORM_TYPES = frozenset({"form_start", "form_submit", "form_abandon"})


HELD = ("pins", "scenarios")
"""Parts of a state that events do not make — stages set by hand, scenario runs the lead is
in — so a replay of the events must carry them over."""


def empty_state() -> State:
    return {"sessions": {}, "lifetime": new_stats(), "models": {}}


def new_stats() -> Stats:
    """Aggregates kept sparse: one still 0 is left out (read as 0), since every event encodes
    its subject's whole state and most subjects never scroll, ping or fill a form."""
    return {}


def observe(event_type: str, ts: int, fields: dict[str, Any], *aggregates: Stats) -> None:
    """Fold one event into aggregates: its session's and the lifetime's (what the event adds
    is worked out once for both)."""
    props = fields.get("properties") or {}
    added: str | None = None
    amount = 1.0
    if event_type == "page_view":
        added = "pages_viewed"
    elif event_type == "page_ping":
        added, amount = "engaged_ms", float(props.get("engaged_ms") or 0)
    elif event_type == "mouse_activity":
        added, amount = "mouse_intensity", float(props.get("intensity") or 0)
    elif event_type in _FORM_TYPES:
        added = "form_interactions"
    depth = float(props.get("depth") or 0) if event_type == "scroll" else None
    when = float(ts)  # compared as a float: compiled, a mixed comparison is a slow call
    for stats in aggregates:
        stats["events"] = stats.get("events", 0.0) + 1
        if not stats.get("first_ts"):
            stats["first_ts"] = ts
        if when > stats.get("last_ts", 0.0):
            stats["last_ts"] = when
        if added is not None and amount:
            stats[added] = stats.get(added, 0.0) + amount
        elif depth:
            stats["max_scroll"] = max(stats.get("max_scroll", 0.0), depth)


def metric_value(stats: Stats, metric: str) -> float:
    if metric == "engaged_seconds":
        return stats.get("engaged_ms", 0.0) / 1000
    if metric == "session_seconds":
        first = stats.get("first_ts")
        return (stats["last_ts"] - first) / 1000 if first else 0.0
    return float(stats.get(metric, 0.0))


def merge_states(
    into: State, other: State, half_lives: Mapping[str, float | None] | None = None
) -> State:
    """Combine two subjects' states (a visitor joining a lead, two leads merging).
    `half_lives`: by model key, the half-life (ms) its decaying points are brought to the later
    time with; a model not there (no longer published) takes the one its state was saved
    with by releases that kept it there, else none."""
    half_lives = half_lives or {}
    merged: State = {
        "sessions": {**other["sessions"], **into["sessions"]},
        "lifetime": _merge_stats(into["lifetime"], other["lifetime"]),
        "models": dict(into["models"]),
    }
    for key, theirs in other["models"].items():
        mine = merged["models"].get(key)
        if mine is None:
            merged["models"][key] = theirs
        else:
            half_life = half_lives.get(key, mine.get("half_life"))
            merged["models"][key] = _merge_model(mine, theirs, half_life)
    counts: dict[str, dict[str, list[int]]] = {}
    for source in (other.get("counts", {}), into.get("counts", {})):
        for key, scopes in source.items():
            for scope, times in scopes.items():
                counts.setdefault(key, {}).setdefault(scope, []).extend(times)
    merged["counts"] = {k: {s: sorted(t) for s, t in v.items()} for k, v in counts.items()}
    merged["sessions_seen"] = into.get("sessions_seen", 0) + other.get("sessions_seen", 0)
    for held in HELD:  # what was set by hand or by a scenario: the surviving lead's wins
        if held in into or held in other:
            merged[held] = {**other.get(held, {}), **into.get(held, {})}
    for name in ("prev_ts",):
        if name in into or name in other:
            merged[name] = max(into.get(name, 0), other.get(name, 0))
    return merged


def _merge_stats(a: Stats, b: Stats) -> Stats:
    out = {k: a.get(k, 0.0) + b.get(k, 0.0) for k in _STATS}
    out["max_scroll"] = max(a.get("max_scroll", 0.0), b.get("max_scroll", 0.0))
    firsts = [t for t in (a.get("first_ts"), b.get("first_ts")) if t]
    out["first_ts"] = min(firsts) if firsts else 0.0
    out["last_ts"] = max(a.get("last_ts", 0.0), b.get("last_ts", 0.0))
    return {k: v for k, v in out.items() if v}


def _merge_model(
    a: dict[str, Any], b: dict[str, Any], half_life_ms: float | None
) -> dict[str, Any]:
    """Counters add up; the decaying sum is brought to the later time and added. State rules
    (`on`) are on when on for either side; `Scorer.merge` books the double count back."""
    out = dict(a)
    for name in ("times", "points", "fired"):
        combined = dict(a.get(name, {}))
        for k, v in b.get(name, {}).items():
            combined[k] = combined.get(k, 0) + v
        out[name] = combined
    out["on"] = {
        k: int(bool(a.get("on", {}).get(k, 0) % 2 or b.get("on", {}).get(k, 0) % 2))
        for k in {*a.get("on", {}), *b.get("on", {})}
    }
    out["fixed"] = a.get("fixed", 0.0) + b.get("fixed", 0.0)
    out["decaying"] = _add_decaying(a.get("decaying"), b.get("decaying"), half_life_ms)
    return out


def _add_decaying(
    a: list[float] | None, b: list[float] | None, half_life_ms: float | None
) -> list[float] | None:
    if not a or not b:
        return a or b
    at = max(a[1], b[1])
    return [decayed(a[0], a[1], at, half_life_ms) + decayed(b[0], b[1], at, half_life_ms), at]


def decayed(value: float, since: float, now: float, half_life_ms: float | None) -> float:
    """`value` points given at `since`, as worth at `now`: value x 2^(-age / half-life)."""
    if not half_life_ms or now <= since:
        return value
    return value * math.pow(2.0, -(now - since) / half_life_ms)  # compiled: a direct call
