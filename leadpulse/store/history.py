"""The leads with a recorded outcome, as rows to learn from (`leadpulse learn --from-db`).

One row per lead that was won or lost: what is known of it (its traits, country, source,
channel and first touch) and what it did *before* the outcome (its events counted by type,
and its visits) — never events after it, which would leak the answer. Traits are the lead's
traits as they are now (they are not kept per moment), so `changed_after` counts the leads
edited since their outcome. Ids and traits that identify a person are left out, and so is the
deal's value (known only for won leads). The outcome is the lead's latest one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from leadpulse.store.schema import LEAD_ROW, events, leads, outcomes

OUTCOME = "outcome"
"""The column with `won` or `lost`."""
CREATED = "created_at"
"""When the lead came: only for `--time created_at` (it is unique per lead, so as a feature it
would only tell leads apart)."""
_FIXED = ("source", "channel", "country", "first_channel", "first_source", "first_medium",
          "first_campaign", "visits")  # fmt: skip
_PERSONAL = frozenset({"email", "phone", "name", "first_name", "last_name", "external_id",
                       "company", "id"})  # fmt: skip
"""Traits that identify a person: never features (a model file would carry them, ranked)."""


@dataclass(frozen=True, slots=True)
class History:
    headers: list[str]
    rows: list[list[Any]]
    changed_after: int
    """Leads whose traits changed after their outcome: what they hold now may tell it."""


def outcome_rows(conn: Connection, *, with_created: bool = False) -> History:
    """Fixed columns (and `created_at` when asked), then every trait seen (dotted for nested
    ones) except those that identify a person, then `events.TYPE` counts, then `outcome`."""
    decided = (
        sa.select(outcomes.c.lead_id, outcomes.c.outcome, outcomes.c.at)
        .where(
            outcomes.c.id.in_(sa.select(sa.func.max(outcomes.c.id)).group_by(outcomes.c.lead_id))
        )
        .subquery()
    )
    query = (
        sa.select(*LEAD_ROW, decided.c.outcome, decided.c.at.label("decided_at"))
        .join(decided, decided.c.lead_id == leads.c.id)
        .where(leads.c.merged_into.is_(None))
        .order_by(leads.c.id)
    )
    found = [dict(r._mapping) for r in conn.execute(query)]
    counts = _activity_before(conn, decided)
    traits = [dict(_flat(_json(r["traits"]))) for r in found]
    fixed = [CREATED, *_FIXED] if with_created else list(_FIXED)
    trait_names = sorted(
        {n for t in traits for n in t if n.split(".")[0].lower() not in _PERSONAL} - set(fixed)
    )
    types = sorted({t for c in counts.values() for t in c if t != "visits"})
    headers = [*fixed, *trait_names, *(f"events.{t}" for t in types), OUTCOME]
    rows = []
    for row, flat in zip(found, traits, strict=True):
        touch = _json(row["first_touch"]) or {}
        seen = counts.get(row["id"], {})
        created = [_iso(row["created_at"])] if with_created else []
        rows.append([
            *created, row["source"], row["channel"], row["country"],
            touch.get("channel"), touch.get("source"), touch.get("medium"), touch.get("campaign"),
            seen.get("visits", 0), *(flat.get(n) for n in trait_names),
            *(seen.get(t, 0) for t in types), row["outcome"],
        ])  # fmt: skip
    changed = sum(1 for r in found if r["updated_at"] > r["decided_at"])
    return History(headers, rows, changed)


def _activity_before(conn: Connection, decided: sa.Subquery) -> dict[int, dict[str, int]]:
    """Per lead, its events by type and its visits (sessions) before its outcome."""
    found: dict[int, dict[str, int]] = {}
    sessions: dict[int, set[str]] = {}
    query = (
        sa.select(events.c.lead_id, events.c.type, events.c.session_id)
        .join(decided, decided.c.lead_id == events.c.lead_id)
        .where(events.c.is_bot.is_(False), events.c.ts < decided.c.at)
    )
    for lead_id, kind, session in conn.execute(query):
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
