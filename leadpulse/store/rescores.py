"""Rescore runs: where a replay of history has got to, so an interrupted one resumes."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from leadpulse.store.schema import rescore_runs


@dataclass(frozen=True, slots=True)
class Run:
    id: int
    models: str
    phase: str
    after_id: int
    subjects: int
    events: int


def unfinished(conn: Connection) -> Run | None:
    row = conn.execute(
        sa.select(rescore_runs)
        .where(rescore_runs.c.finished_at.is_(None))
        .order_by(rescore_runs.c.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return Run(row.id, row.models, row.phase, row.after_id, row.subjects, row.events)


def start(conn: Connection, models: str, at: int) -> Run:
    conn.execute(
        sa.update(rescore_runs).where(rescore_runs.c.finished_at.is_(None)).values(finished_at=at)
    )
    run_id = conn.execute(
        sa.insert(rescore_runs)
        .values(models=models, phase="lead", after_id=0, subjects=0, events=0, started_at=at)
        .returning(rescore_runs.c.id)
    ).scalar_one()
    return Run(int(run_id), models, "lead", 0, 0, 0)


def advance(conn: Connection, run: Run) -> None:
    conn.execute(
        sa.update(rescore_runs)
        .where(rescore_runs.c.id == run.id)
        .values(phase=run.phase, after_id=run.after_id, subjects=run.subjects, events=run.events)
    )


def finish(conn: Connection, run_id: int, at: int) -> None:
    conn.execute(sa.update(rescore_runs).where(rescore_runs.c.id == run_id).values(finished_at=at))


def latest(conn: Connection) -> dict[str, object] | None:
    """The most recent run, finished or not (the dashboard shows its progress)."""
    row = conn.execute(sa.select(rescore_runs).order_by(rescore_runs.c.id.desc()).limit(1)).first()
    return None if row is None else dict(row._mapping)
