"""Sales managers, the leads they own, and their tasks (the call-back of S0.6)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from leadpulse.store.rows import as_dict, where_given
from leadpulse.store.schema import leads, managers, tasks

OPEN, DONE = "open", "done"


def put_manager(conn: Connection, key: str, values: dict[str, Any], at: int) -> dict[str, Any]:
    """Create or update the manager `key`."""
    found = conn.execute(sa.select(managers.c.id).where(managers.c.key == key)).first()
    if found is None:
        conn.execute(sa.insert(managers).values(key=key, created_at=at, **values))
    else:
        conn.execute(sa.update(managers).where(managers.c.id == found.id).values(**values))
    row = conn.execute(sa.select(managers).where(managers.c.key == key)).one()
    return as_dict(row)


def list_managers(conn: Connection) -> list[dict[str, Any]]:
    return [as_dict(r) for r in conn.execute(sa.select(managers).order_by(managers.c.key))]


def manager(conn: Connection, *, key: str | None = None, id_: int | None = None) -> Any:
    where = managers.c.key == key if key is not None else managers.c.id == id_
    row = conn.execute(sa.select(managers).where(where)).first()
    return None if row is None else as_dict(row)


def next_in_turn(conn: Connection, team: str | None, at: int) -> dict[str, Any] | None:
    """Round robin: the active manager (of `team`) who was given a lead longest ago."""
    query = sa.select(managers).where(managers.c.active.is_(True))
    if team is not None:
        query = query.where(managers.c.team == team)
    row = conn.execute(
        query.order_by(
            managers.c.assigned_at.is_not(None), managers.c.assigned_at, managers.c.id
        ).limit(1)
    ).first()
    if row is None:
        return None
    conn.execute(sa.update(managers).where(managers.c.id == row.id).values(assigned_at=at))
    return as_dict(row)


def owner_of(conn: Connection, lead_id: int) -> dict[str, Any] | None:
    row = conn.execute(
        sa.select(managers)
        .join(leads, leads.c.owner_id == managers.c.id)
        .where(leads.c.id == lead_id)
    ).first()
    return None if row is None else as_dict(row)


def set_owner(conn: Connection, lead_id: int, manager_id: int) -> None:
    conn.execute(sa.update(leads).where(leads.c.id == lead_id).values(owner_id=manager_id))


def create_task(conn: Connection, values: dict[str, Any]) -> int:
    return int(
        conn.execute(
            sa.insert(tasks).values(status=OPEN, **values).returning(tasks.c.id)
        ).scalar_one()
    )


def list_tasks(
    conn: Connection,
    *,
    manager_key: str | None = None,
    status: str | None = None,
    lead_id: int | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Tasks, soonest due first, with the lead's name and phone to call."""
    query = (
        sa.select(tasks, managers.c.key.label("manager"), leads.c.name.label("lead_name"),
                  leads.c.phone.label("lead_phone"))
        .join(leads, leads.c.id == tasks.c.lead_id)
        .outerjoin(managers, managers.c.id == tasks.c.manager_id)
        .order_by(tasks.c.due_at, tasks.c.id)
        .limit(limit)
    )  # fmt: skip
    if manager_key is not None:
        query = query.where(managers.c.key == manager_key)
    query = where_given(query, tasks, status=status, lead_id=lead_id)
    return [as_dict(r) for r in conn.execute(query)]


def complete_task(conn: Connection, task_id: int, at: int) -> bool:
    done = conn.execute(
        sa.update(tasks)
        .where(tasks.c.id == task_id, tasks.c.status == OPEN)
        .values(status=DONE, done_at=at)
    )
    return bool(done.rowcount)
