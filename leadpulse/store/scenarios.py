"""Scenario runs: one lead going through a scenario's steps — which step is next, and when."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from leadpulse.store.rows import as_dict, where_given
from leadpulse.store.schema import scenario_runs

RUNNING, DONE, EXITED = "running", "done", "exited"


@dataclass(frozen=True, slots=True)
class Run:
    id: int
    automation: str
    lead_id: int
    trigger: dict[str, Any]
    step: int


def running(conn: Connection, automation: str, lead_id: int) -> bool:
    found = conn.execute(
        sa.select(scenario_runs.c.id).where(
            scenario_runs.c.automation == automation,
            scenario_runs.c.lead_id == lead_id,
            scenario_runs.c.status == RUNNING,
        )
    ).first()
    return found is not None


def start(conn: Connection, automation: str, lead_id: int, trigger: dict[str, Any], at: int) -> Run:
    run_id = conn.execute(
        sa.insert(scenario_runs)
        .values(automation=automation, lead_id=lead_id, trigger=trigger, step=0,
                status=RUNNING, next_at=at, started_at=at)
        .returning(scenario_runs.c.id)
    ).scalar_one()  # fmt: skip
    return Run(int(run_id), automation, lead_id, trigger, 0)


def save(conn: Connection, run_id: int, *, step: int, status: str, next_at: int, at: int) -> None:
    ended = at if status != RUNNING else None
    conn.execute(
        sa.update(scenario_runs)
        .where(scenario_runs.c.id == run_id)
        .values(step=step, status=status, next_at=next_at, ended_at=ended)
    )


def due(conn: Connection, now: int, limit: int) -> list[Run]:
    rows = conn.execute(
        sa.select(scenario_runs)
        .where(scenario_runs.c.status == RUNNING, scenario_runs.c.next_at <= now)
        .order_by(scenario_runs.c.next_at, scenario_runs.c.id)
        .limit(limit)
    )
    return [Run(r.id, r.automation, r.lead_id, _json(r.trigger), r.step) for r in rows]


def exit_runs(conn: Connection, automation: str, lead_id: int, at: int) -> int:
    return conn.execute(
        sa.update(scenario_runs)
        .where(
            scenario_runs.c.automation == automation,
            scenario_runs.c.lead_id == lead_id,
            scenario_runs.c.status == RUNNING,
        )
        .values(status=EXITED, ended_at=at)
    ).rowcount


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, (str, bytes)) else value


def runs(
    conn: Connection,
    *,
    automation: str | None = None,
    lead_id: int | None = None,
    status: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Scenario runs, newest first: where each lead stands in each scenario."""
    query = sa.select(scenario_runs).order_by(scenario_runs.c.id.desc()).limit(limit)
    query = where_given(query, scenario_runs, automation=automation, lead_id=lead_id, status=status)
    out = []
    for row in conn.execute(query):
        item = as_dict(row)
        item["trigger"] = _json(item["trigger"])
        out.append(item)
    return out
