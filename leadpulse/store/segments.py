"""Segment membership with enter and leave times (history kept), and the event reads that
segment counts need."""

from __future__ import annotations

from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from leadpulse.store.schema import events, leads, segment_members


def current(conn: Connection, lead_id: int) -> set[str]:
    rows = conn.execute(
        sa.select(segment_members.c.segment).where(
            segment_members.c.lead_id == lead_id, segment_members.c.left_at.is_(None)
        )
    )
    return {r.segment for r in rows}


def counts(conn: Connection) -> dict[str, int]:
    """Current members of every segment."""
    rows = conn.execute(
        sa.select(segment_members.c.segment, sa.func.count())
        .where(segment_members.c.left_at.is_(None))
        .group_by(segment_members.c.segment)
    )
    return {r[0]: int(r[1]) for r in rows}


def enter(conn: Connection, segment: str, lead_id: int, at: int) -> None:
    conn.execute(sa.insert(segment_members).values(segment=segment, lead_id=lead_id, entered_at=at))


def leave(conn: Connection, segment: str, lead_id: int, at: int) -> None:
    conn.execute(
        sa.update(segment_members)
        .where(
            segment_members.c.segment == segment,
            segment_members.c.lead_id == lead_id,
            segment_members.c.left_at.is_(None),
        )
        .values(left_at=at)
    )


def members(conn: Connection, segment: str, after: int, limit: int) -> list[dict[str, Any]]:
    """Current members by lead id (keyset paging: pass the last id as `after`)."""
    rows = conn.execute(
        sa.select(leads.c.id, leads.c.name, leads.c.email, leads.c.phone, leads.c.score,
                  segment_members.c.entered_at)
        .join(leads, leads.c.id == segment_members.c.lead_id)
        .where(segment_members.c.segment == segment, segment_members.c.left_at.is_(None),
               segment_members.c.lead_id > after)
        .order_by(segment_members.c.lead_id)
        .limit(limit)
    )  # fmt: skip
    return [dict(r._mapping) for r in rows]


def lead_events(
    conn: Connection, lead_id: int, type_: str, since: int | None, until: int | None
) -> list[dict[str, Any]]:
    """The lead's events of one type in [since, until): url, properties, ts."""
    query = sa.select(events.c.uid, events.c.url, events.c.properties, events.c.ts).where(
        events.c.lead_id == lead_id, events.c.type == type_
    )
    if since is not None:
        query = query.where(events.c.ts >= since)
    if until is not None:
        query = query.where(events.c.ts < until)
    out = []
    for r in conn.execute(query):
        props = (
            orjson.loads(r.properties) if isinstance(r.properties, (str, bytes)) else r.properties
        )
        out.append({"id": r.uid, "type": type_, "url": r.url, "properties": props, "ts": r.ts})
    return out
