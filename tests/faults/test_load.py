"""200,000 events offered in 60 seconds to two workers on PostgreSQL with scoring on: without
faults, and with the server killed (SIGKILL to the parent and its workers) in the middle.

What must hold: every event answered 2xx is stored; no event is scored twice (retried batches
included) and no concurrent score update is lost — the live totals equal the ledger's sums and
what `leadpulse rescore` replays."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.faults.harness import (
    ON_POSTGRES,
    LoadResult,
    Server,
    check_identity,
    check_scoring,
    identify,
    load,
    missing,
    new_run,
    prepare,
    running,
    stored_uids,
)
from tests.faults.loadgen import visitor_id

pytestmark = [pytest.mark.faults, *ON_POSTGRES]

EVENTS = 200_000
SECONDS = 60
HOT = 20
"""Visitors that get a quarter of the batches. The first half of them are three leads' devices,
so batches of one lead arrive at once from different visitors on both workers."""
LOAD = {
    "events": EVENTS,
    "seconds": SECONDS,
    "batch": 20,
    "visitors": 2000,
    "hot": HOT,
    "connections": 32,
    "max_seconds": SECONDS + 120,
}


def start_load_with_leads(server: Server, write_key: str) -> str:
    """A run id whose first hot visitors are three leads before the load begins."""
    run = new_run()
    for n in range(HOT // 2):
        identify(server.base, write_key, visitor_id(run, n), f"{run}-lead{n % 3}@example.com")
    return run


def show(result: LoadResult) -> str:
    return json.dumps(result.summary)


@pytest.mark.timeout(600)
def test_two_workers_store_and_score_every_event_of_the_load(pg_db: str, tmp_path: Path) -> None:
    write_key = prepare(pg_db, tmp_path)
    server = Server(pg_db, tmp_path / "server.log", workers=2)
    with running(server):
        run = start_load_with_leads(server, write_key)
        with load(tmp_path, server.port, write_key, run, **LOAD) as generator:
            time.sleep(SECONDS / 3)
            # Four hot visitors, seen anonymous on both workers by now, become two leads.
            for n in range(HOT // 2, HOT // 2 + 4):
                identify(server.base, write_key, visitor_id(run, n), f"{run}-late{n % 2}@x.example")
            result = generator.wait()
    print(show(result))
    assert result.summary["errors"] == {}, show(result)
    assert result.non_2xx() == {}, show(result)
    stored = stored_uids(pg_db)
    assert result.acked <= stored, missing(result.acked, stored)
    assert len(result.acked) == result.summary["events_acked"]
    check_scoring(pg_db, replay=False)  # a lost update shows without a replay
    check_identity(pg_db)


@pytest.mark.timeout(600)
def test_kill_9_of_the_server_in_the_middle_of_the_load_loses_nothing_acknowledged(
    pg_db: str, tmp_path: Path
) -> None:
    write_key = prepare(pg_db, tmp_path)
    server = Server(pg_db, tmp_path / "server.log", workers=2)
    options = {**LOAD, "retries": 400, "retry_pause": 0.5}
    with running(server):
        run = start_load_with_leads(server, write_key)
        with load(tmp_path, server.port, write_key, run, **options) as generator:
            time.sleep(SECONDS / 3)
            server.kill()
            time.sleep(2)
            server.start()
            result = generator.wait()
    print(show(result))
    assert result.summary["errors"], "the kill was not felt by the load: " + show(result)
    stored = stored_uids(pg_db)
    assert result.acked <= stored, missing(result.acked, stored)
    assert result.summary["batches_given_up"] == 0, show(result)
    check_scoring(pg_db, replay=True)
