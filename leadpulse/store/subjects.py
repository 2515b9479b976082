"""Walking every scoring subject in id order: leads, then visitors never identified."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from leadpulse.store.dialect import execute
from leadpulse.store.schema import leads, sites, visitors


def lead_ids_after(conn: Connection, after: int, limit: int) -> list[int]:
    rows = conn.execute(
        sa.select(leads.c.id)
        .where(leads.c.id > after, leads.c.merged_into.is_(None))
        .order_by(leads.c.id)
        .limit(limit)
    )
    return [r[0] for r in rows]


def anonymous_visitors_after(conn: Connection, after: int, limit: int) -> list[tuple[int, str]]:
    """(visitor id, site key) of human visitors without a lead."""
    rows = conn.execute(
        sa.select(visitors.c.id, sites.c.key)
        .join(sites, sites.c.id == visitors.c.site_id)
        .where(visitors.c.id > after, visitors.c.lead_id.is_(None), visitors.c.is_bot.is_(False))
        .order_by(visitors.c.id)
        .limit(limit)
    )
    return [(r[0], r[1]) for r in rows]


def still_anonymous(conn: Connection, visitor_ids: Sequence[int]) -> list[int]:
    """Those of these visitors that no lead has (yet), in the order given."""
    if not visitor_ids:
        return []
    marks = ", ".join("?" * len(visitor_ids))
    sql = f"SELECT id FROM visitors WHERE id IN ({marks}) AND +lead_id IS NULL"
    found = {r[0] for r in execute(conn, sql, tuple(visitor_ids))}
    return [v for v in visitor_ids if v in found]


def site_keys(conn: Connection) -> dict[int, str]:
    return {r.id: r.key for r in conn.execute(sa.select(sites.c.id, sites.c.key))}


def count_subjects(conn: Connection) -> int:
    n_leads = conn.execute(
        sa.select(sa.func.count()).select_from(leads).where(leads.c.merged_into.is_(None))
    ).scalar_one()
    n_visitors = conn.execute(
        sa.select(sa.func.count())
        .select_from(visitors)
        .where(visitors.c.lead_id.is_(None), visitors.c.is_bot.is_(False))
    ).scalar_one()
    return int(n_leads) + int(n_visitors)
