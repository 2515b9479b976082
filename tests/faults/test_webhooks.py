"""The webhook receiver down for two minutes while automations fire on two workers on
PostgreSQL: once it is back, every delivery arrives, exactly once per message id."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults.harness import ON_POSTGRES, webhook_outage

pytestmark = [pytest.mark.faults, *ON_POSTGRES]


@pytest.mark.timeout(600)
def test_every_webhook_arrives_once_after_a_two_minute_outage(pg_db: str, tmp_path: Path) -> None:
    webhook_outage(pg_db, tmp_path, workers=2, leads=40, down_seconds=120, retry_seconds=1.0)
