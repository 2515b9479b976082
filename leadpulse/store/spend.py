"""Advertising spend per day and channel, source or campaign (S2.4): cost per lead and per
sale in the conversion report. Importing the same day and split again replaces it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from leadpulse.store.schema import ad_spend

SPLITS = ("channel", "source", "campaign")


def put(conn: Connection, rows: Iterable[dict[str, Any]], at: int) -> int:
    """Store rows (day, channel, source, campaign, cost, currency), replacing any with the
    same day and split; returns how many were stored."""
    stored = 0
    for row in rows:
        key = [ad_spend.c[c] == row[c] for c in ("day", *SPLITS)]
        conn.execute(sa.delete(ad_spend).where(*key))
        conn.execute(sa.insert(ad_spend).values(imported_at=at, **row))
        stored += 1
    return stored


def totals(conn: Connection, by: str) -> dict[str, float]:
    """Cost per value of `by` (channel, source or campaign); spend not split by it is left
    out (it cannot be given to any one value)."""
    column = ad_spend.c[by]
    rows = conn.execute(
        sa.select(column, sa.func.sum(ad_spend.c.cost)).where(column != "").group_by(column)
    )
    return {r[0]: float(r[1]) for r in rows}
