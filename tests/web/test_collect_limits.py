"""Rate limits and client addresses need their own settings."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from leadpulse.core import clock
from leadpulse.core.settings import Settings
from leadpulse.pipeline import Pipeline
from leadpulse.store.schema import events, visitors
from leadpulse.web.app import create_app


def _event() -> dict[str, str]:
    return {"id": str(uuid.uuid4()), "type": "page_view", "anonymous_id": "a"}


def test_the_rate_limit_answers_429(settings: Settings, engine: Engine) -> None:
    pipeline = Pipeline(settings.replace(rate_limit_per_minute=3), engine)
    pipeline.start()
    wk = pipeline.add_site("s", []).write_key
    start = clock.now_ms() // 60_000 * 60_000 + 1_000
    clock.set_clock(lambda: start)  # all five requests fall in one rate-limit minute
    try:
        with TestClient(create_app(pipeline=pipeline)) as client:
            codes = [
                client.post("/v1/collect", json={"write_key": wk, "events": [_event()]}).status_code
                for _ in range(5)
            ]
    finally:
        clock.set_clock(None)
    assert codes == [200, 200, 200, 429, 429]


def test_forwarded_ip_gives_the_country_and_is_stored_truncated(
    settings: Settings, engine: Engine
) -> None:
    pipeline = Pipeline(settings.replace(trust_proxy_headers=True), engine)
    pipeline.start()
    wk = pipeline.add_site("s", []).write_key
    with TestClient(create_app(pipeline=pipeline)) as client:
        r = client.post(
            "/v1/collect",
            json={"write_key": wk, "events": [_event()]},
            headers={"x-forwarded-for": "8.8.8.8, 10.0.0.1"},
        )
    assert r.status_code == 200
    with engine.connect() as conn:
        row = conn.execute(sa.select(events)).one()
        visitor = conn.execute(sa.select(visitors)).one()
    assert row.country == "US"
    assert row.ip == "8.8.8.0"
    assert visitor.country == "US"
