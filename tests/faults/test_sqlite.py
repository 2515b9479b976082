"""The quick fault tests, in the normal `make test`: a SQLite file server (one process) killed
with SIGKILL in the middle of a short load, and a webhook receiver down for a few seconds.

Every event answered 2xx is stored, nothing is scored twice, every webhook arrives once."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.faults.harness import (
    Server,
    check_scoring,
    load,
    missing,
    new_run,
    prepare,
    running,
    stored_uids,
    webhook_outage,
)


def test_kill_9_during_a_short_load_on_sqlite_loses_nothing_acknowledged(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'leadpulse.db'}"
    write_key = prepare(db_url, tmp_path)
    server = Server(db_url, tmp_path / "server.log")
    options = {
        "events": 24_000, "seconds": 8, "batch": 20, "visitors": 200, "hot": 5,
        "connections": 8, "retries": 200, "retry_pause": 0.3, "max_seconds": 45,
    }  # fmt: skip
    with running(server), load(tmp_path, server.port, write_key, new_run(), **options) as gen:
        time.sleep(3)
        server.kill()
        time.sleep(1)
        server.start()
        result = gen.wait()
    summary = json.dumps(result.summary)
    assert result.summary["errors"], "the kill was not felt by the load: " + summary
    assert result.summary["batches_given_up"] == 0, summary
    stored = stored_uids(db_url)
    assert result.acked <= stored, missing(result.acked, stored)
    check_scoring(db_url, replay=True)


def test_webhooks_fired_while_the_receiver_is_down_arrive_once_on_sqlite(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'leadpulse.db'}"
    webhook_outage(db_url, tmp_path, workers=1, leads=10, down_seconds=6, retry_seconds=0.5)
