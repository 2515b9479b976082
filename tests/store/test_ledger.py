"""The ledger takes a rescore's thousands of rows for one lead, beyond one statement's limit of
parameters (65,535 on PostgreSQL, ten per row)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from leadpulse.scoring.engine import Entry
from leadpulse.store import leads as lead_store
from leadpulse.store import scores as score_store
from leadpulse.store.schema import score_ledger


def test_a_lead_with_ten_thousand_entries(engine: Engine) -> None:
    entries = [
        Entry("website", 1, "view", f"e{i}", 1.0, 1_000 + i, f"e{i}", True) for i in range(10_000)
    ]
    with engine.begin() as conn:
        lead = lead_store.create_lead(conn, {"last_seen_at": 1}, 1)
        score_store.add_entries(conn, lead, None, entries)
    with engine.connect() as conn:
        total = conn.execute(
            sa.select(sa.func.count(), sa.func.sum(score_ledger.c.points))
            .where(score_ledger.c.lead_id == lead)
        ).one()  # fmt: skip
    assert tuple(total) == (10_000, 10_000.0)
