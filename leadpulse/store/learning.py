"""Learning reports (`leadpulse learn --save`): kept so the dashboard can show the latest."""

from __future__ import annotations

import math
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from leadpulse.store.schema import learning_reports


def save_report(conn: Connection, source: str, report: dict[str, Any], at: int) -> int:
    return int(
        conn.execute(
            sa.insert(learning_reports)
            .values(source=source[:300], report=_finite(report), created_at=at)
            .returning(learning_reports.c.id)
        ).scalar_one()
    )


def _finite(value: Any) -> Any:
    """The report with NaN and infinities as null: JSON (and PostgreSQL's jsonb) has no word
    for them (a rate of no leads is NaN)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def latest_report(conn: Connection) -> dict[str, Any] | None:
    """The newest report: `id`, `source`, `created_at` (epoch ms) and the `report` itself."""
    row = conn.execute(
        sa.select(learning_reports).order_by(learning_reports.c.id.desc()).limit(1)
    ).first()
    if row is None:
        return None
    report = row.report
    return {
        "id": row.id,
        "source": row.source,
        "created_at": row.created_at,
        "report": orjson.loads(report) if isinstance(report, str | bytes) else report,
    }
