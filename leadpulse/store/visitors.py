"""Anonymous visitors: one row per (site, anonymous id), later attached to a lead."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from leadpulse.core.types import Touch, VisitContext
from leadpulse.store.dialect import insert_ignore
from leadpulse.store.rows import as_dict
from leadpulse.store.schema import visitors


@dataclass(frozen=True, slots=True)
class VisitorRef:
    id: int
    lead_id: int | None
    is_bot: bool


_SELECT = sa.select(visitors.c.id, visitors.c.lead_id, visitors.c.is_bot).where(
    visitors.c.site_id == sa.bindparam("site_id"),
    visitors.c.anonymous_id == sa.bindparam("anonymous_id"),
)


def find_visitor(conn: Connection, site_id: int, anonymous_id: str) -> VisitorRef | None:
    row = conn.execute(_SELECT, {"site_id": site_id, "anonymous_id": anonymous_id}).first()
    return None if row is None else VisitorRef(row.id, row.lead_id, bool(row.is_bot))


def get_or_create_visitor(
    conn: Connection, site_id: int, anonymous_id: str, ctx: VisitContext, at: int
) -> tuple[VisitorRef, bool]:
    """The visitor, and whether it was created now."""
    found = find_visitor(conn, site_id, anonymous_id)
    if found is not None:
        return found, False
    conn.execute(
        insert_ignore(conn, visitors).values(
            site_id=site_id,
            anonymous_id=anonymous_id,
            is_bot=ctx.is_bot,
            browser=ctx.browser,
            os=ctx.os,
            device=ctx.device,
            country=ctx.country,
            region=ctx.region,
            city=ctx.city,
            language=ctx.language,
            first_seen_at=at,
            last_seen_at=at,
        )
    )
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
    row = conn.execute(
        sa.select(visitors.c.first_touch, visitors.c.last_touch).where(visitors.c.id == visitor_id)
    ).first()
    if row is None:
        return []
    return [Touch(**t) for t in (row.first_touch, row.last_touch) if t]
