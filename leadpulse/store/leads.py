"""Leads, their identity keys, merges and outcomes."""

from __future__ import annotations

from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from leadpulse.store import decoded, locks
from leadpulse.store.dialect import execute, insert_ignore, is_postgres
from leadpulse.store.rows import as_dict
from leadpulse.store.schema import (
    LEAD_ROW,
    automation_firings,
    events,
    exposures,
    lead_identities,
    lead_merges,
    leads,
    outbox,
    outcomes,
    scenario_runs,
    score_ledger,
    segment_members,
    tasks,
    visitors,
)


def owners_of(conn: Connection, keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Which lead holds each identity key (only keys that are held)."""
    if not keys:
        return {}
    cond = sa.or_(
        *[sa.and_(lead_identities.c.kind == k, lead_identities.c.value == v) for k, v in keys]
    )
    rows = conn.execute(
        sa.select(lead_identities.c.kind, lead_identities.c.value, lead_identities.c.lead_id).where(
            cond
        )
    )
    return {(r.kind, r.value): r.lead_id for r in rows}


def hold_owners(conn: Connection, keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """`owners_of`, with the identities' and their leads' locks held (store.locks), so that two
    workers identifying the same new email make one lead, and a merge under way is waited for."""
    if not is_postgres(conn):
        return owners_of(conn, keys)
    locks.hold(conn, *(locks.identity(kind, value) for kind, value in keys))
    while True:
        owners = owners_of(conn, keys)
        locks.hold(conn, *(locks.lead(lead_id) for lead_id in owners.values()))
        if owners_of(conn, keys) == owners:
            return owners


def claim_identities(conn: Connection, lead_id: int, keys: list[tuple[str, str]]) -> None:
    """Give `keys` to the lead (keys held by another lead are moved: that lead was merged)."""
    for kind, value in keys:
        conn.execute(
            insert_ignore(conn, lead_identities).values(kind=kind, value=value, lead_id=lead_id)
        )
        conn.execute(
            sa.update(lead_identities)
            .where(lead_identities.c.kind == kind, lead_identities.c.value == value)
            .values(lead_id=lead_id)
        )


def create_lead(conn: Connection, values: dict[str, Any], at: int) -> int:
    row = {"traits": {}, "quality": {}, **values, "created_at": at, "updated_at": at}
    return int(conn.execute(sa.insert(leads).values(**row).returning(leads.c.id)).scalar_one())


def update_lead(conn: Connection, lead_id: int, values: dict[str, Any], at: int) -> None:
    conn.execute(sa.update(leads).where(leads.c.id == lead_id).values(**values, updated_at=at))


def survivor(conn: Connection, lead_id: int) -> int | None:
    """Follow merges to the lead that holds this one's data now; None if it does not exist."""
    seen: set[int] = set()
    current = lead_id
    while current not in seen:
        seen.add(current)
        row = conn.execute(sa.select(leads.c.merged_into).where(leads.c.id == current)).first()
        if row is None:
            return None
        if row.merged_into is None:
            return current
        current = row.merged_into
    return current


def hold_survivor(conn: Connection, lead_id: int) -> int | None:
    """`survivor`, with its lock held (store.locks): a merge that finished while this waited
    for the lock is followed to where the data went."""
    while True:
        alive = survivor(conn, lead_id)
        if alive is None or not is_postgres(conn):
            return alive
        locks.hold(conn, locks.lead(alive))
        if survivor(conn, alive) == alive:
            return alive
        lead_id = alive


def get_lead(conn: Connection, lead_id: int) -> dict[str, Any] | None:
    row = conn.execute(sa.select(*LEAD_ROW).where(leads.c.id == lead_id)).first()
    return None if row is None else as_dict(row)


def merge_lead(
    conn: Connection, from_id: int, into_id: int, reason: str, at: int
) -> dict[str, Any]:
    """Move everything of `from_id` to `into_id`; keep a snapshot; return the snapshot."""
    snapshot = get_lead(conn, from_id) or {}
    conn.execute(
        sa.update(lead_identities)
        .where(lead_identities.c.lead_id == from_id)
        .values(lead_id=into_id)
    )
    conn.execute(sa.update(visitors).where(visitors.c.lead_id == from_id).values(lead_id=into_id))
    conn.execute(sa.update(events).where(events.c.lead_id == from_id).values(lead_id=into_id))
    conn.execute(sa.update(outcomes).where(outcomes.c.lead_id == from_id).values(lead_id=into_id))
    _move_runs(conn, from_id, into_id, at)
    for table in (tasks, automation_firings, outbox):  # its to-dos, cool-downs and delivery log
        conn.execute(sa.update(table).where(table.c.lead_id == from_id).values(lead_id=into_id))
    # the merged-away lead leaves its segments; the survivor's are worked out at this change
    conn.execute(
        sa.update(segment_members)
        .where(segment_members.c.lead_id == from_id, segment_members.c.left_at.is_(None))
        .values(left_at=at)
    )
    conn.execute(sa.update(leads).where(leads.c.merged_into == from_id).values(merged_into=into_id))
    conn.execute(
        sa.update(leads).where(leads.c.id == from_id).values(merged_into=into_id, updated_at=at)
    )
    conn.execute(
        sa.insert(lead_merges).values(
            from_lead_id=from_id, into_lead_id=into_id, reason=reason, snapshot=snapshot, at=at
        )
    )
    return snapshot


def _move_runs(conn: Connection, from_id: int, into_id: int, at: int) -> None:
    """Scenario runs follow the lead; where both were in the same scenario, the survivor's run
    goes on and the other ends as exited (a lead goes through a scenario once at a time)."""
    running = scenario_runs.c.status == "running"
    theirs = sa.select(scenario_runs.c.automation).where(
        scenario_runs.c.lead_id == into_id, running
    )
    conn.execute(
        sa.update(scenario_runs)
        .where(scenario_runs.c.lead_id == from_id, running,
               scenario_runs.c.automation.in_(theirs))
        .values(status="exited", ended_at=at)
    )  # fmt: skip
    conn.execute(
        sa.update(scenario_runs).where(scenario_runs.c.lead_id == from_id).values(lead_id=into_id)
    )


def merges_into(conn: Connection, lead_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        sa.select(lead_merges.c.from_lead_id, lead_merges.c.reason, lead_merges.c.at)
        .where(lead_merges.c.into_lead_id == lead_id)
        .order_by(lead_merges.c.id)
    )
    return [as_dict(r) for r in rows]


def identities_of(conn: Connection, lead_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        sa.select(lead_identities.c.kind, lead_identities.c.value)
        .where(lead_identities.c.lead_id == lead_id)
        .order_by(lead_identities.c.id)
    )
    return [as_dict(r) for r in rows]


def add_outcome(conn: Connection, lead_id: int, values: dict[str, Any], at: int) -> int:
    return int(
        conn.execute(
            sa.insert(outcomes)
            .values(lead_id=lead_id, created_at=at, **values)
            .returning(outcomes.c.id)
        ).scalar_one()
    )


def outcomes_of(conn: Connection, lead_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        sa.select(
            outcomes.c.id,
            outcomes.c.outcome,
            outcomes.c.value,
            outcomes.c.currency,
            outcomes.c.owner,
            outcomes.c.note,
            outcomes.c.at,
        )
        .where(outcomes.c.lead_id == lead_id)
        .order_by(outcomes.c.at, outcomes.c.id)
    )
    return [as_dict(r) for r in rows]


def erase_lead(conn: Connection, lead_id: int) -> int:
    """Delete a lead and everything about it, including leads merged into it.

    Returns the number of lead rows removed. Events and visitors go with it.
    """
    ids = [lead_id]
    ids += [r[0] for r in conn.execute(sa.select(leads.c.id).where(leads.c.merged_into == lead_id))]
    visitor_ids = sa.select(visitors.c.id).where(visitors.c.lead_id.in_(ids))
    conn.execute(sa.delete(score_ledger).where(score_ledger.c.lead_id.in_(ids)))
    conn.execute(sa.delete(score_ledger).where(score_ledger.c.visitor_id.in_(visitor_ids)))
    decoded.forget(conn)  # their states go with their rows
    conn.execute(sa.delete(exposures).where(exposures.c.visitor_id.in_(visitor_ids)))
    conn.execute(sa.delete(outbox).where(outbox.c.lead_id.in_(ids)))
    conn.execute(sa.delete(tasks).where(tasks.c.lead_id.in_(ids)))
    conn.execute(sa.delete(segment_members).where(segment_members.c.lead_id.in_(ids)))
    conn.execute(sa.delete(scenario_runs).where(scenario_runs.c.lead_id.in_(ids)))
    conn.execute(sa.delete(automation_firings).where(automation_firings.c.lead_id.in_(ids)))
    conn.execute(sa.delete(events).where(events.c.visitor_id.in_(visitor_ids)))
    conn.execute(sa.delete(events).where(events.c.lead_id.in_(ids)))
    conn.execute(sa.delete(visitors).where(visitors.c.lead_id.in_(ids)))
    conn.execute(sa.delete(outcomes).where(outcomes.c.lead_id.in_(ids)))
    conn.execute(sa.delete(lead_identities).where(lead_identities.c.lead_id.in_(ids)))
    conn.execute(
        sa.delete(lead_merges).where(
            sa.or_(lead_merges.c.from_lead_id.in_(ids), lead_merges.c.into_lead_id.in_(ids))
        )
    )
    conn.execute(sa.update(leads).where(leads.c.id.in_(ids)).values(merged_into=None))
    return conn.execute(sa.delete(leads).where(leads.c.id.in_(ids))).rowcount


def traits_of(conn: Connection, lead_id: int) -> dict[str, Any]:
    """A lead's traits (on the collect path: driver-level SQL)."""
    row = execute(conn, "SELECT traits FROM leads WHERE id = ?", (lead_id,)).fetchone()
    if row is None:
        return {}
    value = row[0]
    traits = orjson.loads(value) if isinstance(value, (str, bytes)) else value
    return traits if isinstance(traits, dict) else {}


def scores_of(conn: Connection, lead_id: int) -> dict[str, Any]:
    """The lead's scores as last remembered (`{model: {total, band, stage}}`), driver-level."""
    row = execute(conn, "SELECT scores FROM leads WHERE id = ?", (lead_id,)).fetchone()
    value = None if row is None else row[0]
    scores = orjson.loads(value) if isinstance(value, (str, bytes)) else value
    return scores if isinstance(scores, dict) else {}


def fill_country(conn: Connection, lead_id: int, country: str) -> None:
    """Set the lead's country from a visit when nothing better is known."""
    conn.execute(
        sa.update(leads)
        .where(leads.c.id == lead_id, leads.c.country.is_(None))
        .values(country=country[:2].upper())
    )


def set_scores(conn: Connection, lead_id: int, score: float, scores: dict[str, Any]) -> None:
    """Remember the latest totals for sorting and listing (decay is applied at read time)."""
    conn.execute(sa.update(leads).where(leads.c.id == lead_id).values(score=score, scores=scores))
