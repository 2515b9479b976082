"""The leads with a recorded outcome, as rows to learn from (`leadpulse learn --from-db`).

One row per lead that was won or lost: what was known of it (its traits, country, source,
channel and first touch) and what it did *before* the outcome (its events counted by type,
and its visits) — never what came after, which would leak the answer. The outcome is the
lead's latest one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from leadpulse.store.schema import events, leads, outcomes

OUTCOME = "outcome"
"""The column with `won` or `lost`."""
_FIXED = ("created_at", "source", "channel", "country", "first_channel",
          "first_source", "first_medium", "first_campaign", "visits")  # fmt: skip


def outcome_rows(conn: Connection) -> tuple[list[str], list[list[Any]]]:
    """(headers, rows): fixed columns, then every trait seen (dotted for nested ones), then
    `events.TYPE` counts, then `outcome`. Ids and the outcome's value are left out: one
    identifies, the other is only known for won leads (it would give the answer away)."""
    latest = (
        sa.select(outcomes.c.lead_id, sa.func.max(outcomes.c.id).label("id"))
        .group_by(outcomes.c.lead_id)
        .subquery()
    )
    query = (
        sa.select(leads, outcomes.c.outcome, outcomes.c.at.label("decided_at"))
        .join(latest, latest.c.lead_id == leads.c.id)
        .join(outcomes, outcomes.c.id == latest.c.id)
        .where(leads.c.merged_into.is_(None))
        .order_by(leads.c.id)
    )
    found = [dict(r._mapping) for r in conn.execute(query)]
    counts = _activity_before(conn, {r["id"]: r["decided_at"] for r in found})
    traits = [dict(_flat(_json(r["traits"]))) for r in found]
    trait_names = sorted({name for t in traits for name in t} - set(_FIXED))
    types = sorted({t for c in counts.values() for t in c if t != "visits"})
    headers = [*_FIXED, *trait_names, *(f"events.{t}" for t in types), OUTCOME]
    rows = []
    for row, flat in zip(found, traits, strict=True):
        touch = _json(row["first_touch"]) or {}
        seen = counts.get(row["id"], {})
        rows.append([
            _iso(row["created_at"]), row["source"], row["channel"], row["country"],
            touch.get("channel"), touch.get("source"), touch.get("medium"), touch.get("campaign"),
            seen.get("visits", 0), *(flat.get(n) for n in trait_names),
            *(seen.get(t, 0) for t in types), row["outcome"],
        ])  # fmt: skip
    return headers, rows


def _activity_before(conn: Connection, decided: Mapping[int, int]) -> dict[int, dict[str, int]]:
    """Per lead, its events by type and its visits (sessions) before its outcome."""
    if not decided:
        return {}
    found: dict[int, dict[str, int]] = {}
    sessions: dict[int, set[str]] = {}
    query = sa.select(events.c.lead_id, events.c.type, events.c.ts, events.c.session_id).where(
        events.c.lead_id.in_(list(decided)), events.c.is_bot.is_(False)
    )
    for lead_id, kind, ts, session in conn.execute(query):
        if ts >= decided[lead_id]:
            continue
        mine = found.setdefault(lead_id, {})
        mine[kind] = mine.get(kind, 0) + 1
        if session:
            sessions.setdefault(lead_id, set()).add(session)
    for lead_id, seen in sessions.items():
        found[lead_id]["visits"] = len(seen)
    return found


def _flat(value: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, Mapping):
            yield from _flat(item, f"{name}.")
        elif isinstance(item, list):
            yield name, ";".join(str(v) for v in item)
        else:
            yield name, item


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat().replace("+00:00", "Z")
