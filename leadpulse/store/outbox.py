"""The outbox: every effect of an automation, written in the transaction of the change that
caused it, then delivered (and retried) by the dispatcher. Also the automations' firings, for
their cool-down."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from leadpulse.store.rows import as_dict, where_given
from leadpulse.store.schema import automation_firings, leads, outbox

PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"


def fired_since(conn: Connection, automation: str, lead_id: int, since: int) -> bool:
    found = conn.execute(
        sa.select(automation_firings.c.id)
        .where(
            automation_firings.c.automation == automation,
            automation_firings.c.lead_id == lead_id,
            automation_firings.c.fired_at > since,
        )
        .limit(1)
    ).first()
    return found is not None


def record_firing(
    conn: Connection, automation: str, lead_id: int, trigger: dict[str, Any], at: int
) -> None:
    conn.execute(
        sa.insert(automation_firings).values(
            automation=automation, lead_id=lead_id, trigger=trigger, fired_at=at
        )
    )


def firings_of(conn: Connection, lead_id: int, limit: int) -> list[dict[str, Any]]:
    """The automations that fired for a lead, newest first, with what triggered them."""
    rows = conn.execute(
        sa.select(automation_firings.c.automation, automation_firings.c.trigger,
                  automation_firings.c.fired_at)
        .where(automation_firings.c.lead_id == lead_id)
        .order_by(automation_firings.c.fired_at.desc(), automation_firings.c.id.desc())
        .limit(limit)
    )  # fmt: skip
    return [{**as_dict(r), "trigger": _json(r.trigger)} for r in rows]


def quiet_leads(
    conn: Connection, automation: str, seen_before: int, limit: int
) -> list[tuple[int, int]]:
    """(lead, last seen) of leads not seen since `seen_before` for which `automation` has not
    fired since they were last seen."""
    fired_after = sa.exists().where(
        automation_firings.c.automation == automation,
        automation_firings.c.lead_id == leads.c.id,
        automation_firings.c.fired_at >= leads.c.last_seen_at,
    )
    rows = conn.execute(
        sa.select(leads.c.id, leads.c.last_seen_at)
        .where(leads.c.merged_into.is_(None), leads.c.last_seen_at <= seen_before, ~fired_after)
        .order_by(leads.c.last_seen_at, leads.c.id)
        .limit(limit)
    )
    return [(r.id, r.last_seen_at) for r in rows]


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    message_id: str
    kind: str
    target: dict[str, Any]
    body: str
    attempts: int
    created_at: int


def enqueue(
    conn: Connection,
    *,
    message_id: str,
    automation: str,
    lead_id: int,
    kind: str,
    target: dict[str, Any],
    body: str,
    at: int,
) -> None:
    conn.execute(
        sa.insert(outbox).values(
            message_id=message_id, automation=automation, lead_id=lead_id, kind=kind,
            target=target, body=body, status=PENDING, attempts=0, next_at=at, created_at=at,
        )
    )  # fmt: skip


def claim(conn: Connection, now: int, limit: int, until: int) -> list[Delivery]:
    """Take up to `limit` due deliveries for one dispatcher. Their next try moves to `until`, so
    no other dispatcher (another worker's) takes them meanwhile; rows another one is claiming
    at this moment are skipped, not waited for (PostgreSQL's SKIP LOCKED). A dispatcher that
    dies before it marks them leaves them to be taken again at `until`."""
    chosen = (
        sa.select(outbox.c.id)
        .where(outbox.c.status == PENDING, outbox.c.next_at <= now)
        .order_by(outbox.c.next_at, outbox.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = conn.execute(
        sa.update(outbox)
        .where(outbox.c.id.in_(chosen.scalar_subquery()))
        .values(next_at=until)
        .returning(outbox.c.id, outbox.c.message_id, outbox.c.kind, outbox.c.target,
                   outbox.c.body, outbox.c.attempts, outbox.c.created_at)
    )  # fmt: skip
    claimed = [
        Delivery(r.id, r.message_id, r.kind, _json(r.target), r.body, r.attempts, r.created_at)
        for r in rows
    ]
    return sorted(claimed, key=lambda d: d.id)


def next_due(conn: Connection) -> int | None:
    """When the earliest pending delivery is due (epoch ms), or None."""
    value = conn.execute(
        sa.select(sa.func.min(outbox.c.next_at)).where(outbox.c.status == PENDING)
    ).scalar()
    return None if value is None else int(value)


def mark(
    conn: Connection,
    delivery_id: int,
    *,
    status: str,
    attempts: int,
    next_at: int,
    last_status: int | None,
    last_error: str | None,
    delivered_at: int | None = None,
) -> None:
    conn.execute(
        sa.update(outbox)
        .where(outbox.c.id == delivery_id)
        .values(status=status, attempts=attempts, next_at=next_at, last_status=last_status,
                last_error=last_error, delivered_at=delivered_at)
    )  # fmt: skip


def replay(conn: Connection, delivery_id: int, now: int) -> bool:
    """Send a delivery again (a dead one, or a delivered one the receiver lost)."""
    return bool(
        conn.execute(
            sa.update(outbox)
            .where(outbox.c.id == delivery_id)
            .values(status=PENDING, attempts=0, next_at=now, last_error=None)
        ).rowcount
    )


def deliveries(
    conn: Connection,
    *,
    lead_id: int | None = None,
    automation: str | None = None,
    status: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """The delivery log, newest first (without the secret)."""
    query = sa.select(
        outbox.c.id, outbox.c.message_id, outbox.c.automation, outbox.c.lead_id, outbox.c.kind,
        outbox.c.target, outbox.c.status, outbox.c.attempts, outbox.c.next_at,
        outbox.c.last_status, outbox.c.last_error, outbox.c.created_at, outbox.c.delivered_at,
    ).order_by(outbox.c.id.desc()).limit(limit)  # fmt: skip
    query = where_given(query, outbox, lead_id=lead_id, automation=automation, status=status)
    out = []
    for row in conn.execute(query):
        item = as_dict(row)
        target = _json(item.pop("target"))
        item["url"] = target.get("url")
        out.append(item)
    return out


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, (str, bytes)) else value
