"""PostgreSQL stopped and started again under load: the server (two workers) recovers by itself
— requests succeed again once PostgreSQL is back, without restarting Leadpulse — and every
event it acknowledged is stored. Errors while PostgreSQL is down are allowed (5xx, 503)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from tests.faults.harness import (
    BROWSER,
    ON_POSTGRES,
    Server,
    check_scoring,
    load,
    missing,
    new_run,
    postgres_stopped,
    prepare,
    running,
    stored_uids,
    wait_until,
)

pytestmark = [pytest.mark.faults, *ON_POSTGRES]

SECONDS = 45
DOWN_AT = 12
DOWN_FOR = 6
RECOVERY = 60
"""How long the server may take to answer 2xx again once PostgreSQL accepts connections."""


def collect_once(server: Server, write_key: str, uid: str) -> int:
    """One batch on a connection of its own (so it may land on either worker)."""
    event = {"id": uid, "type": "page_view", "url": "https://shop.example/probe"}
    try:
        return httpx.post(
            server.base + "/v1/collect",
            json={"write_key": write_key, "anonymous_id": "probe", "events": [event]},
            headers={"user-agent": BROWSER},
            timeout=10,
        ).status_code
    except httpx.HTTPError:
        return 0


@pytest.mark.timeout(600)
def test_the_server_recovers_by_itself_after_postgresql_restarts(
    pg_db: str, tmp_path: Path
) -> None:
    write_key = prepare(pg_db, tmp_path)
    server = Server(pg_db, tmp_path / "server.log", workers=2)
    options = {
        "events": 90_000, "seconds": SECONDS, "batch": 20, "visitors": 1000, "hot": 10,
        "connections": 32, "retries": 400, "retry_pause": 0.5, "max_seconds": SECONDS + 120,
    }  # fmt: skip
    probes: list[str] = []
    with running(server):
        run = new_run()
        with load(tmp_path, server.port, write_key, run, **options) as generator:
            time.sleep(DOWN_AT)
            with postgres_stopped():
                time.sleep(DOWN_FOR)
            n = 0

            def answered() -> bool:
                nonlocal n
                n += 1
                probes.append(f"{run}-probe-{n}")
                return collect_once(server, write_key, probes[-1]) == 200

            wait_until(answered, "a 2xx from the server after PostgreSQL came back", RECOVERY)
            result = generator.wait()
        # Both workers answer again: 40 batches, each on a new connection, all accepted.
        after = [f"{run}-after-{i}" for i in range(40)]
        statuses = [collect_once(server, write_key, uid) for uid in after]
    print(json.dumps(result.summary))
    assert statuses == [200] * len(after), f"after the recovery: {statuses}"
    assert result.summary["errors"] or result.non_2xx(), "the outage was not felt by the load"
    assert result.summary["batches_given_up"] == 0, json.dumps(result.summary)
    stored = stored_uids(pg_db)
    acked = result.acked | set(after) | {probes[-1]}
    assert acked <= stored, missing(acked, stored)
    check_scoring(pg_db, replay=False)
