"""Tracked events: append-only, deduplicated on (site, client event id)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from leadpulse.core.types import EventRecord, VisitContext
from leadpulse.store.dialect import insert_ignore
from leadpulse.store.rows import as_dict
from leadpulse.store.schema import events


def insert_events(
    conn: Connection,
    *,
    site_id: int,
    visitor_id: int,
    lead_id: int | None,
    ctx: VisitContext,
    records: list[EventRecord],
    received_at: int,
) -> set[str]:
    """Insert the events not stored yet; return the client ids of those inserted."""
    rows: list[dict[str, Any]] = []
    for rec in records:
        touch = rec.touch
        rows.append(
            {
                "site_id": site_id,
                "uid": rec.uid,
                "visitor_id": visitor_id,
                "lead_id": lead_id,
                "session_id": rec.session_id,
                "type": rec.type,
                "ts": rec.ts,
                "received_at": received_at,
                "url": rec.url,
                "referrer": rec.referrer,
                "title": rec.title,
                "properties": rec.properties,
                "channel": touch.channel if touch else None,
                "source": touch.source if touch else None,
                "medium": touch.medium if touch else None,
                "campaign": touch.campaign if touch else None,
                "keyword": touch.keyword if touch else None,
                "country": ctx.country,
                "browser": ctx.browser,
                "device": ctx.device,
                "ip": ctx.ip,
                "is_bot": ctx.is_bot,
            }
        )
    stmt = insert_ignore(conn, events).values(rows).returning(events.c.uid)
    return set(conn.execute(stmt).scalars())


def move_visitor_events(conn: Connection, visitor_id: int, lead_id: int) -> int:
    """Give every event of a visitor to a lead (on identify)."""
    return conn.execute(
        sa.update(events).where(events.c.visitor_id == visitor_id).values(lead_id=lead_id)
    ).rowcount


def move_lead_events(conn: Connection, from_lead: int, into_lead: int) -> int:
    return conn.execute(
        sa.update(events).where(events.c.lead_id == from_lead).values(lead_id=into_lead)
    ).rowcount


_COLUMNS = [
    events.c.id,
    events.c.uid,
    events.c.type,
    events.c.ts,
    events.c.session_id,
    events.c.url,
    events.c.referrer,
    events.c.title,
    events.c.properties,
    events.c.channel,
    events.c.source,
    events.c.medium,
    events.c.campaign,
    events.c.keyword,
    events.c.country,
    events.c.browser,
    events.c.device,
    events.c.visitor_id,
    events.c.site_id,
]


def lead_timeline(
    conn: Connection,
    lead_id: int,
    *,
    limit: int,
    before_id: int | None = None,
    types: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Newest first; `before_id` continues a page."""
    q = sa.select(*_COLUMNS).where(events.c.lead_id == lead_id)
    if before_id is not None:
        q = q.where(events.c.id < before_id)
    if types:
        q = q.where(events.c.type.in_(types))
    q = q.order_by(events.c.ts.desc(), events.c.id.desc()).limit(limit)
    return [as_dict(r) for r in conn.execute(q)]


def count_by_type(conn: Connection, lead_id: int) -> dict[str, int]:
    rows = conn.execute(
        sa.select(events.c.type, sa.func.count())
        .where(events.c.lead_id == lead_id)
        .group_by(events.c.type)
    )
    return {r[0]: int(r[1]) for r in rows}


def delete_lead_events(conn: Connection, lead_id: int) -> int:
    return conn.execute(sa.delete(events).where(events.c.lead_id == lead_id)).rowcount
