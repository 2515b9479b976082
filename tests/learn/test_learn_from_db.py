"""`leadpulse learn --from-db`: the leads that were won or lost, with what they did before the
outcome, learned from as a file would be — on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, datetime
from pathlib import Path

from leadpulse.collect.schema import Batch, Event
from leadpulse.core import clock
from leadpulse.pipeline import Pipeline
from leadpulse.store import history, learning
from tests.cli_runner import leadpulse as run


def _history(pipeline: Pipeline, leads: int = 240) -> None:
    """Leads on the pro plan, and those who read the pricing page, win more often; events
    after a lead's outcome must not count (here: every lost lead views pricing afterwards)."""
    rng = random.Random(4)
    site = pipeline.add_site("Shop", [], key="history-shop")
    ctx = pipeline.visit_context("Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0", None, None)
    for i in range(leads):
        anon = f"v{i}"
        plan = rng.choice(["pro", "free"])
        lead = asyncio.run(pipeline.identify(
            site, anon, {"email": f"l{i}@example.com", "plan": plan, "size": rng.randint(1, 500)},
            ctx,
        )).lead  # fmt: skip
        assert lead is not None
        pricing = rng.random() < 0.5
        kinds = ["page_view"] * rng.randint(1, 4) + (["pricing_view"] if pricing else [])
        events = [Event(id=uuid.uuid4().hex, type=k, session_id=f"s{i}") for k in kinds]
        asyncio.run(pipeline.collect(site, Batch(write_key=site.write_key, anonymous_id=anon,
                                                 events=events), ctx))  # fmt: skip
        won = rng.random() < 0.15 + 0.35 * (plan == "pro") + 0.35 * pricing
        decided = clock.now_ms() + 1000
        pipeline.add_outcome(lead, {"outcome": "won" if won else "lost", "at": decided})
        if not won:
            after = datetime.fromtimestamp((decided + 1000) / 1000, tz=UTC)
            late = [Event(id=uuid.uuid4().hex, type="pricing_view", session_id=f"t{i}", ts=after)]
            batch = Batch(write_key=site.write_key, anonymous_id=anon, events=late)
            asyncio.run(pipeline.collect(site, batch, ctx))


def test_learn_from_the_database(pipeline: Pipeline, db_url: str, tmp_path: Path) -> None:
    _history(pipeline)
    with pipeline.engine.connect() as conn:
        found = history.outcome_rows(conn)
        timed = history.outcome_rows(conn, with_created=True)
    headers, rows = found.headers, found.rows
    assert headers[-1] == "outcome" and "plan" in headers and "events.pricing_view" in headers
    assert "email" not in headers and "created_at" not in headers  # no identities, no ids
    assert timed.headers[0] == "created_at" and timed.rows[0][0].endswith("Z")
    at = headers.index("events.pricing_view")
    lost = [r for r in rows if r[-1] == "lost"]
    assert len(rows) == 240 and all(r[at] <= 1 for r in rows)  # later views are not counted
    assert any(r[at] == 0 for r in lost)
    model = tmp_path / "from-db.yaml"
    proc = run(db_url, "learn", "--from-db", "-o", str(model))
    output = proc.stdout + proc.stderr
    assert "database.csv: 240 rows, outcome = 'won'" in output
    assert "scorecard ROC AUC 0." in output
    assert "plan: pro" in output or "events.pricing_view" in output  # a key action
    assert "is valid" in run(db_url, "model", "validate", str(model)).stdout
    assert "kept the report in the database" in output
    with pipeline.engine.connect() as conn:
        kept = learning.latest_report(conn)
    assert kept is not None and kept["source"] == "database.csv"
    assert kept["report"]["rows"]["used"] == 240
    assert "edited after their outcome" not in output
    pipeline.upsert_lead({"email": "l1@example.com", "plan": "enterprise"}, "crm")  # after
    look = tmp_path / "look.json"
    timed_run = run(db_url, "learn", "--from-db", "--time", "created_at", "--lookalike", str(look))
    assert "warning: 1 of 240 leads were edited after their outcome" in timed_run.stderr
    assert "@example.com" not in look.read_text(encoding="utf-8")


def test_learn_from_an_empty_database_or_both_sources_is_one_line(
    db_url: str, tmp_path: Path
) -> None:
    empty = run(db_url, "learn", "--from-db", ok=False)
    assert empty.returncode == 1
    assert empty.stderr.strip().startswith(
        "error: the database has no leads with a recorded outcome"
    )
    file = tmp_path / "leads.csv"
    file.write_text("a,Converted\n1,0\n", encoding="utf-8")
    both = run(db_url, "learn", str(file), "--from-db", ok=False)
    assert both.stderr.strip() == "error: give a CSV file or --from-db, not both"
    neither = run(db_url, "learn", ok=False)
    assert neither.stderr.strip() == "error: give a CSV file to learn from, or --from-db"
