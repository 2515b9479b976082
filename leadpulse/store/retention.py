"""Retention: anonymous visitors nobody identified, deleted with their raw events once they
have been quiet for a while. Leads and what belongs to them are kept until erased."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from leadpulse.store import decoded, locks
from leadpulse.store.schema import events, exposures, score_ledger, visitors


def quiet_anonymous(conn: Connection, seen_before: int, after: int, limit: int) -> list[int]:
    """Up to `limit` anonymous visitors last seen before `seen_before`, by id after `after`."""
    rows = conn.execute(
        sa.select(visitors.c.id)
        .where(
            visitors.c.id > after,
            visitors.c.lead_id.is_(None),
            visitors.c.last_seen_at < seen_before,
        )
        .order_by(visitors.c.id)
        .limit(limit)
    )
    return [r.id for r in rows]


def delete_anonymous(conn: Connection, ids: list[int], seen_before: int) -> tuple[int, int]:
    """Delete these visitors with their events, scores and offer exposures — those still
    anonymous and quiet once their locks are held (one may have been identified meanwhile).
    Returns (visitors, events) deleted."""
    locks.hold(conn, *(locks.subject(None, visitor_id) for visitor_id in ids))
    still = sa.select(visitors.c.id).where(
        visitors.c.id.in_(ids),
        visitors.c.lead_id.is_(None),
        visitors.c.last_seen_at < seen_before,
    )
    gone = [r.id for r in conn.execute(still)]
    if not gone:
        return 0, 0
    conn.execute(sa.delete(score_ledger).where(score_ledger.c.visitor_id.in_(gone)))
    decoded.forget(conn)  # their states go with their rows
    conn.execute(sa.delete(exposures).where(exposures.c.visitor_id.in_(gone)))
    removed = conn.execute(sa.delete(events).where(events.c.visitor_id.in_(gone))).rowcount
    conn.execute(sa.delete(visitors).where(visitors.c.id.in_(gone)))
    return len(gone), removed
