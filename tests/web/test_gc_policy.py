"""`leadpulse serve` collects garbage as a long-running process should (web/gc_policy.py), and
only while it runs; an app made for tests or a program of one's own leaves Python's settings."""

from __future__ import annotations

import gc

from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from leadpulse.core.settings import Settings
from leadpulse.pipeline import Pipeline
from leadpulse.web.app import create_app


def test_while_serving_start_up_is_frozen_and_young_collections_wait(
    settings: Settings, engine: Engine
) -> None:
    before = gc.get_threshold()
    pipeline = Pipeline(settings.replace(gc_threshold=12_345), engine)
    pipeline.start()
    wk = pipeline.add_site("s", []).write_key
    with TestClient(create_app(pipeline=pipeline, server=True)) as client:
        serving = gc.get_threshold(), gc.get_freeze_count()
        event = {"id": "e1", "type": "page_view", "anonymous_id": "a"}
        answer = client.post("/v1/collect", json={"write_key": wk, "events": [event]})
    assert answer.status_code == 200
    assert serving[0] == (12_345, *before[1:])
    assert serving[1] > 10_000  # the app, its libraries, the pipeline
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_an_app_that_is_not_the_server_leaves_the_collector_alone(client: TestClient) -> None:
    assert client.get("/health").status_code == 200
    assert gc.get_freeze_count() == 0
