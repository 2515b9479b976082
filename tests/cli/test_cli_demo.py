"""`leadpulse demo` and the offer/personalisation commands, run as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from leadpulse.store.engine import create_engine
from tests.cli_runner import leadpulse as run

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


def _json(value: Any) -> Any:
    """SQLite hands JSON back as text; PostgreSQL as decoded values."""
    return json.loads(value) if isinstance(value, str) else value


def test_demo_sets_up_the_shop_and_leads_in_every_band(db_url: str) -> None:
    first = run(db_url, "demo", "--no-serve", "--visitors", "60")
    assert "admin key (shown once): lp_sk_" in first.stderr
    assert "/demo/" in first.stderr
    engine = create_engine(db_url)
    with engine.connect() as conn:
        sites = conn.execute(sa.text("SELECT key, domains FROM sites")).all()
        kinds = conn.execute(
            sa.text("SELECT kind, count(*) FROM engage_definitions GROUP BY kind ORDER BY kind")
        ).all()
        stored = conn.execute(sa.text("SELECT scores FROM leads WHERE scores IS NOT NULL"))
        bands = {_json(row[0])["website"]["band"] for row in stored}
        shown = conn.execute(sa.text("SELECT count(*) FROM exposures")).scalar_one()
        models = conn.execute(sa.text("SELECT key FROM scoring_models")).scalars().all()
    engine.dispose()
    assert [s.key for s in sites] == ["demo"]
    assert [tuple(k) for k in kinds] == [("offer", 2), ("personalization", 2)]
    assert models == ["website"]
    assert shown > 0
    assert {"warm", "hot"} <= bands
    again = run(db_url, "demo", "--no-serve")
    assert "already set up" in again.stderr


def test_offer_commands(db_url: str, tmp_path: Path) -> None:
    offer = str(EXAMPLES / "offers" / "callback.yaml")
    assert "is valid" in run(db_url, "offer", "validate", offer).stdout
    assert "version 1" in run(db_url, "offer", "apply", offer).stdout
    assert "callback" in run(db_url, "offer", "list").stdout
    headline = str(EXAMPLES / "personalizations" / "credit-headline.yaml")
    assert "version 1" in run(db_url, "personalization", "apply", headline).stdout
    assert "deleted" in run(db_url, "offer", "delete", "callback").stdout
    missing = run(db_url, "offer", "delete", "callback", ok=False)
    assert missing.returncode == 1 and "no offer 'callback'" in missing.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("key: x\nshow: {title: Hi, fields: [phone, phone]}\n")
    failed = run(db_url, "offer", "validate", str(bad), ok=False)
    assert failed.returncode == 1
    assert failed.stderr.strip().splitlines() == [
        "error: bad.yaml: show.fields[1]: the field 'phone' is asked twice"
    ]


def test_automation_commands(db_url: str) -> None:
    path = str(EXAMPLES / "automations" / "hot-lead-to-crm.yaml")
    assert "is valid" in run(db_url, "automation", "validate", path).stdout
    assert "version 1" in run(db_url, "automation", "apply", path).stdout
    listed = run(db_url, "automation", "list").stdout
    assert "hot-lead-to-crm" in listed and "webhook" in listed


def test_every_example_automation_and_segment_applies(db_url: str) -> None:
    for path in sorted((EXAMPLES / "automations").glob("*.yaml")):
        assert "version 1" in run(db_url, "automation", "apply", str(path)).stdout, path
    listed = run(db_url, "automation", "list").stdout
    assert "hot-lead-chain" in listed and "win-back" in listed
    for path in sorted((EXAMPLES / "segments").glob("*.yaml")):
        assert "version 1" in run(db_url, "segment", "apply", str(path)).stdout, path
    assert "meetup-fans" in run(db_url, "segment", "list").stdout
    assert run(db_url, "segment", "members", "meetup-fans").returncode == 0
