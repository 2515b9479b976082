"""Anonymous visitors: one row per (site, anonymous id), later attached to a lead."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from leadpulse.core.types import Touch, VisitContext
from leadpulse.store import locks
from leadpulse.store.activity import touch_from
from leadpulse.store.dialect import execute, is_postgres
from leadpulse.store.rows import as_dict
from leadpulse.store.schema import visitors


@dataclass(frozen=True, slots=True)
class VisitorRef:
    id: int
    lead_id: int | None
    is_bot: bool


_FIND = "SELECT id, lead_id, is_bot FROM visitors WHERE site_id = ? AND anonymous_id = ?"
_CREATE = (
    "INSERT INTO visitors (site_id, anonymous_id, is_bot, browser, os, device, country, region, "
    "city, language, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (site_id, anonymous_id) DO NOTHING"
)


def find_visitor(conn: Connection, site_id: int, anonymous_id: str) -> VisitorRef | None:
    row = execute(conn, _FIND, (site_id, anonymous_id)).fetchone()
    return None if row is None else VisitorRef(row[0], row[1], bool(row[2]))


_BY_ID = "SELECT id, lead_id, is_bot FROM visitors WHERE id = ?"


def hold_visitor(conn: Connection, ref: VisitorRef) -> VisitorRef | None:
    """Hold the lock of what the visitor's events score (store.locks) and return the visitor as
    it is now: another worker may have identified it, or merged its lead, since `ref` was read;
    None if it was deleted (its lead erased). On SQLite, with its one writer, `ref` is current
    already."""
    if not is_postgres(conn):
        return ref
    while True:
        locks.hold(conn, locks.subject(ref.lead_id, ref.id))
        row = execute(conn, _BY_ID, (ref.id,)).fetchone()
        if row is None:
            return None
        fresh = VisitorRef(row[0], row[1], bool(row[2]))
        if fresh.lead_id == ref.lead_id:
            return fresh
        ref = fresh


def get_or_create_visitor(
    conn: Connection, site_id: int, anonymous_id: str, ctx: VisitContext, at: int
) -> tuple[VisitorRef, bool]:
    """The visitor, and whether it was created now. Driver-level SQL: runs per request."""
    found = find_visitor(conn, site_id, anonymous_id)
    if found is not None:
        return found, False
    execute(
        conn,
        _CREATE,
        (
            site_id, anonymous_id, ctx.is_bot, ctx.browser, ctx.os, ctx.device, ctx.country,
            ctx.region, ctx.city, ctx.language, at, at,
        ),
    )  # fmt: skip
    created = find_visitor(conn, site_id, anonymous_id)
    assert created is not None  # inserted, or inserted by a concurrent writer
    return created, True


def visitors_of_lead(conn: Connection, lead_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        sa.select(
            visitors.c.id,
            visitors.c.site_id,
            visitors.c.anonymous_id,
            visitors.c.browser,
            visitors.c.os,
            visitors.c.device,
            visitors.c.country,
            visitors.c.region,
            visitors.c.city,
            visitors.c.language,
            visitors.c.first_touch,
            visitors.c.last_touch,
            visitors.c.first_seen_at,
            visitors.c.last_seen_at,
        )
        .where(visitors.c.lead_id == lead_id)
        .order_by(visitors.c.first_seen_at)
    )
    return [as_dict(r) for r in rows]


def attach(conn: Connection, visitor_id: int, lead_id: int) -> None:
    conn.execute(sa.update(visitors).where(visitors.c.id == visitor_id).values(lead_id=lead_id))


def touches_of(conn: Connection, visitor_id: int) -> list[Touch]:
    """The visitor's first and latest touch (on the collect path: driver-level SQL)."""
    row = execute(
        conn, "SELECT first_touch, last_touch FROM visitors WHERE id = ?", (visitor_id,)
    ).fetchone()
    if row is None:
        return []
    return [t for t in map(touch_from, row) if t]
