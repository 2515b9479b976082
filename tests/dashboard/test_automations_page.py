"""The automations page: lists, switching off and on, and the delivery log's retry, which
really sends again (a webhook receiver on loopback)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from leadpulse import demo
from leadpulse.core import clock
from leadpulse.core.settings import Settings
from leadpulse.pipeline import Pipeline
from leadpulse.store import engage as definition_store
from leadpulse.store import outbox as outbox_store
from leadpulse.store import segments as segment_store
from leadpulse.web.app import create_app
from tests.automate.receiver import receiver
from tests.dashboard.support import seed, sign_in


def apply(pipeline: Pipeline, kind: str, path: str) -> str:
    text = demo.example(path)
    key = text.split("key: ", 1)[1].split()[0]
    pipeline.save_definition(kind, key, text)
    return key


@pytest.fixture
def world(pipeline: Pipeline, client: TestClient) -> dict[str, Any]:
    ids = seed(pipeline)
    apply(pipeline, "automation", "automations/hot-lead-to-crm.yaml")
    apply(pipeline, "segment", "segments/meetup-fans.yaml")
    apply(pipeline, "offer", "offers/callback.yaml")
    for lead in list(ids.values())[:3]:
        pipeline.writer.run_sync(
            lambda conn, lead=lead: segment_store.enter(conn, "meetup-fans", lead, 1)
        )
    return {"ids": ids, "csrf": sign_in(client, "marketer@shop.example")}


def test_the_page_lists_what_is_switched_on(client: TestClient, world: dict[str, Any]) -> None:
    page = client.get("/app/automations")
    assert page.status_code == 200
    text = page.text
    assert "Hot lead to the CRM" in text
    assert "score: model website, above 60" in text
    assert "webhook: url https://crm.example/hooks/leadpulse" in text
    assert "whsec_" not in text
    assert '<a href="/app/leads?segment=meetup-fans">3</a>' in text
    assert "offer · callback · holdout 10 %" in text


def test_switch_off_and_on_again(
    client: TestClient, world: dict[str, Any], pipeline: Pipeline
) -> None:
    def switch(on: bool) -> None:
        answer = client.post(
            "/app/automations/switch",
            data={"csrf": world["csrf"], "kind": "automation", "key": "hot-lead-to-crm",
                  "on": "1" if on else "0"},
            follow_redirects=False,
        )  # fmt: skip
        assert answer.status_code == 303

    switch(False)
    with pipeline.engine.connect() as conn:
        assert definition_store.active(conn, "automation") == []
    assert (
        'Switched off: <span class="tag">hot-lead-to-crm</span>'
        in client.get("/app/automations").text
    )
    switch(True)
    with pipeline.engine.connect() as conn:
        [(key, version, _)] = definition_store.active(conn, "automation")
    assert (key, version) == ("hot-lead-to-crm", 2)
    again = client.post(
        "/app/automations/switch",
        data={"csrf": world["csrf"], "kind": "automation", "key": "hot-lead-to-crm", "on": "1"},
    )
    assert again.status_code == 404
    assert "is switched off" in again.text


@pytest.fixture
def once(settings: Settings, engine: Engine) -> Iterator[Pipeline]:
    """A pipeline whose dispatcher gives up after one attempt (a delivery is dead at once)."""
    p = Pipeline(settings.replace(webhook_retry_seconds=0.05, webhook_max_attempts=1), engine)
    p.start()
    yield p
    p.stop()


def wait_for(check: Any, what: str) -> Any:
    deadline = time.monotonic() + 30
    while not (value := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return value


def test_a_failed_delivery_is_sent_again(once: Pipeline) -> None:
    ids = seed(once)
    lead = ids["hot@acme.example"]
    with receiver(fail_first=1) as crm, TestClient(create_app(pipeline=once)) as client:
        at = clock.now_ms()
        once.writer.run_sync(
            lambda conn: outbox_store.enqueue(
                conn, message_id="m-1", automation="hot-lead-to-crm", lead_id=lead,
                kind="webhook", target={"url": crm.url, "secret": "s"}, body="{}", at=at,
            )
        )  # fmt: skip
        once.dispatcher.wake()

        def status() -> str | None:
            with once.engine.connect() as conn:
                [row] = outbox_store.deliveries(conn)
            return str(row["status"]) if row["status"] != "pending" else None

        assert wait_for(status, "the first attempt") == "dead"
        csrf = sign_in(client, "admin@shop.example")
        log = client.get("/app/deliveries?status=dead")
        assert "Send again" in log.text
        assert f'<a href="/app/leads/{lead}">{lead}</a>' in log.text
        delivery = outbox_store_id(once)
        answer = client.post(f"/app/deliveries/{delivery}/retry", data={"csrf": csrf})
        assert answer.status_code == 200
        assert "Queued again" in answer.text
        assert wait_for(status, "the retry") == "delivered"
        assert len(crm.requests) == 2
        assert client.get("/app/deliveries?status=bogus").status_code == 400
        assert client.post("/app/deliveries/999/retry", data={"csrf": csrf}).status_code == 404


def outbox_store_id(pipeline: Pipeline) -> int:
    with pipeline.engine.connect() as conn:
        [row] = outbox_store.deliveries(conn)
    return int(row["id"])


def test_sales_users_do_not_see_automations(client: TestClient, world: dict[str, Any]) -> None:
    sales = TestClient(client.app, base_url="http://testserver")
    sign_in(sales, "olga@shop.example")
    assert sales.get("/app/automations").status_code == 403
    assert sales.get("/app/deliveries").status_code == 403
