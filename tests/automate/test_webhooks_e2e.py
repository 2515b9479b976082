"""Automations end to end with real components: a lead crosses a threshold through the
collector, the webhook arrives at a real HTTP receiver, its signature verifies, failures are
retried with the same idempotency key, a dead delivery can be replayed, a killed server resumes
its deliveries, and 50 concurrent events fire exactly once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from leadpulse.automate.webhooks import verify
from leadpulse.collect.schema import Batch, Event
from leadpulse.core.settings import Settings
from leadpulse.pipeline import Pipeline
from leadpulse.store import migrate
from leadpulse.store.engine import create_engine
from leadpulse.store.schema import automation_firings, outbox
from leadpulse.web.app import create_app
from tests.automate.receiver import receiver
from tests.automate.support import MODEL, SECRET, Mailing, free_port, wait_for


def automation(url: str, when: str, cooldown: int = 60, key: str = "hot-to-crm") -> str:
    return (
        f"key: {key}\nwhen: {when}\ncooldown_minutes: {cooldown}\n"
        f"actions:\n  - webhook: {{url: '{url}', secret: '{SECRET}'}}\n"
    )


def lead_of(pipeline: Pipeline, anon: str) -> int:
    site = pipeline.add_site("Shop", [], key=f"shop-{uuid.uuid4().hex[:6]}")
    ctx = pipeline.visit_context("Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0", None, None)
    result = asyncio.run(pipeline.identify(site, anon, {"email": f"{anon}@example.com"}, ctx))
    assert result.lead is not None
    pipeline._shop = site  # type: ignore[attr-defined]
    return result.lead


def views(pipeline: Pipeline, anon: str, n: int, kind: str = "page_view") -> None:
    site = pipeline._shop  # type: ignore[attr-defined]
    ctx = pipeline.visit_context("Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0", None, None)
    events = [Event(id=uuid.uuid4().hex, type=kind, url=f"https://s.example/{i}") for i in range(n)]
    asyncio.run(pipeline.collect(site, Batch(write_key=site.write_key, anonymous_id=anon,
                                             events=events), ctx))  # fmt: skip


def rows(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(outbox).order_by(outbox.c.id))]


def test_a_lead_crossing_the_threshold_reaches_the_crm_signed(fast: Pipeline) -> None:
    fast.publish_model("website", MODEL)
    with receiver() as crm:
        hot = automation(crm.url, "{score: {model: website, above: 50}}")
        fast.save_definition("automation", "hot-to-crm", hot)
        lead = lead_of(fast, "anna")
        views(fast, "anna", 4)  # 40: not yet
        views(fast, "anna", 2)  # 60: crossed
        [got] = wait_for(lambda: crm.requests, "the webhook")
        views(fast, "anna", 3)  # still above: nothing new
        time.sleep(0.3)
        assert len(crm.requests) == 1
    assert verify(SECRET, got.headers, got.body)
    assert not verify("whsec_" + "b3RoZXItc2VjcmV0LWtleS0xMjM0", got.headers, got.body)
    assert got.headers["idempotency-key"] == got.headers["webhook-id"]
    body = got.json
    assert body["type"] == "automation.fired" and body["version"] == 1
    assert body["id"] == got.headers["webhook-id"]
    assert body["automation"] == {"key": "hot-to-crm", "name": "hot-to-crm"}
    assert body["trigger"] == {"kind": "score", "model": "website", "threshold": 50,
                               "direction": "up", "from": 40.0, "to": 60.0}  # fmt: skip
    assert body["lead"]["id"] == lead and body["lead"]["email"] == "anna@example.com"
    assert body["lead"]["scores"]["website"]["band"] == "hot"
    [row] = wait_for(lambda: [r for r in rows(fast.engine) if r["status"] == "delivered"], "log")
    assert row["attempts"] == 1 and row["last_status"] == 200


def test_failures_are_retried_with_the_same_id_then_dead_then_replayed(fast: Pipeline) -> None:
    fast.publish_model("website", MODEL)
    with receiver(fail_first=5) as crm:
        hot = automation(crm.url, "{band: {model: website, becomes: hot}}")
        fast.save_definition("automation", "hot-to-crm", hot)
        lead_of(fast, "ben")
        views(fast, "ben", 5)
        [dead] = wait_for(lambda: [r for r in rows(fast.engine) if r["status"] == "dead"], "dead")
        assert dead["attempts"] == 3 and dead["last_status"] == 500
        assert len(crm.requests) == 3
        client = TestClient(create_app(pipeline=fast))
        key = fast.create_api_key("t")
        auth = {"Authorization": f"Bearer {key}"}
        log = client.get("/v1/deliveries", params={"status": "dead"}, headers=auth).json()
        assert [d["id"] for d in log["items"]] == [dead["id"]]
        assert "secret" not in str(log)
        assert client.post(f"/v1/deliveries/{dead['id']}/replay", headers=auth).status_code == 200
        # the receiver fails twice more (4th, 5th request), then takes it: 3 tries after replay
        wait_for(lambda: rows(fast.engine)[0]["status"] == "delivered", "the replay delivered")
        ids = {r.headers["webhook-id"] for r in crm.requests}
        assert len(crm.requests) == 6 and ids == {dead["message_id"]}
        missing = client.post("/v1/deliveries/999999/replay", headers=auth)
        assert missing.status_code == 404


def test_crossing_down_and_events_fire_too(fast: Pipeline) -> None:
    fast.publish_model("website", MODEL)
    with receiver() as crm:
        fast.save_definition("automation", "cooled",
                             automation(crm.url, "{score: {model: website, below: 20}}",
                                        key="cooled"))  # fmt: skip
        fast.save_definition("automation", "unsubscribed",
                             automation(crm.url, "{event: {type: unsubscribed}}",
                                        key="unsubscribed"))  # fmt: skip
        lead_of(fast, "cid")
        views(fast, "cid", 3)
        views(fast, "cid", 1, kind="unsubscribed")
        got = wait_for(lambda: crm.requests if len(crm.requests) == 2 else [], "two webhooks")
    kinds = sorted(r.json["trigger"]["kind"] for r in got)
    assert kinds == ["event", "score"]
    event = next(r.json for r in got if r.json["trigger"]["kind"] == "event")
    assert event["event"]["type"] == "unsubscribed"


def test_fifty_concurrent_events_fire_exactly_once(fast: Pipeline) -> None:
    fast.publish_model("website", MODEL)
    with receiver() as crm:
        fast.save_definition("automation", "hot-to-crm",
                             automation(crm.url, "{score: {model: website, above: 50}}",
                                        cooldown=0))  # fmt: skip
        lead_of(fast, "dora")
        site = fast._shop  # type: ignore[attr-defined]
        ctx = fast.visit_context("Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0", None, None)

        async def burst() -> None:
            await asyncio.gather(*(
                fast.collect(site, Batch(write_key=site.write_key, anonymous_id="dora",
                                         events=[Event(id=uuid.uuid4().hex, type="page_view")]),
                             ctx)
                for _ in range(50)
            ))  # fmt: skip

        asyncio.run(burst())
        wait_for(lambda: crm.requests, "the webhook")
        time.sleep(0.3)
        assert len(crm.requests) == 1
    with fast.engine.connect() as conn:
        firings = conn.execute(sa.select(sa.func.count()).select_from(automation_firings))
        assert firings.scalar_one() == 1


def test_a_killed_server_delivers_after_restart(db_url: str, tmp_path: Path) -> None:
    """`leadpulse serve` is killed (SIGKILL) while a delivery is being retried; the next
    server delivers it, with the same id."""
    engine = create_engine(db_url)
    migrate.upgrade(engine)
    setup = Pipeline(Settings(database_url=db_url), engine)
    setup.start()
    site = setup.add_site("Shop", [])
    setup.publish_model("website", MODEL)
    key = setup.create_api_key("t")
    with receiver(fail_first=10**6) as crm:
        hot = automation(crm.url, "{score: {model: website, above: 50}}")
        setup.save_definition("automation", "hot-to-crm", hot)
        setup.stop()
        env = {
            **os.environ,
            "LEADPULSE_DATABASE_URL": db_url,
            "LEADPULSE_WEBHOOK_RETRY_SECONDS": "0.2",
            "LEADPULSE_LOG_LEVEL": "error",
        }

        def serve() -> tuple[subprocess.Popen[bytes], str]:
            port = free_port()
            proc = subprocess.Popen(
                [sys.executable, "-m", "leadpulse", "serve", "--port", str(port)], env=env,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            base = f"http://127.0.0.1:{port}"
            wait_for(lambda: _up(base), "the server", timeout=30)
            return proc, base

        first, base = serve()
        try:
            httpx.post(f"{base}/v1/identify", json={"write_key": site.write_key,
                       "anonymous_id": "eve", "traits": {"email": "eve@example.com"}})  # fmt: skip
            events = [{"id": uuid.uuid4().hex, "type": "page_view"} for _ in range(6)]
            httpx.post(f"{base}/v1/collect", json={"write_key": site.write_key,
                       "anonymous_id": "eve", "events": events})  # fmt: skip
            wait_for(lambda: len(crm.requests) >= 2, "a failed attempt and a retry")
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        tried = len(crm.requests)
        crm.fail_first = 0
        second, base = serve()
        try:
            wait_for(lambda: len(crm.requests) > tried, "the delivery after the restart")
            log = httpx.get(f"{base}/v1/deliveries", headers={"Authorization": f"Bearer {key}"})
            wait_for(lambda: rows(engine)[0]["status"] == "delivered", "delivered in the log")
        finally:
            second.terminate()
            second.wait(10)
    assert log.status_code == 200
    assert {r.headers["webhook-id"] for r in crm.requests} == {rows(engine)[0]["message_id"]}
    engine.dispose()


def _up(base: str) -> bool:
    try:
        return httpx.get(f"{base}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_an_email_reaches_a_real_smtp_server(mailing: Mailing, engine: Engine) -> None:
    p, inbox = mailing.pipeline, mailing.inbox.messages
    p.publish_model("website", MODEL)
    mail = (
        "key: welcome\nwhen: {band: {model: website, becomes: hot}}\nactions:\n"
        "  - email: {to: lead, subject: 'Hello {{lead.traits.name | there}}',\n"
        "            text: 'Your score is {{lead.scores.website.total}}.'}\n"
        "  - email: {to: owner, subject: 'x', text: 'y'}\n"
    )
    p.save_definition("automation", "welcome", mail)
    site = p.add_site("Shop", [], key="mail-shop")
    ctx = p.visit_context("Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0", None, None)
    traits = {"email": "ola@example.com", "name": "Ola"}
    asyncio.run(p.identify(site, "ola", traits, ctx))
    events = [Event(id=uuid.uuid4().hex, type="page_view") for _ in range(5)]
    asyncio.run(p.collect(site, Batch(write_key=site.write_key, anonymous_id="ola",
                                      events=events), ctx))  # fmt: skip
    [got] = wait_for(lambda: inbox, "the email")
    statuses = wait_for(
        lambda: sorted(r["status"] for r in rows(engine)) == ["dead", "delivered"], "both"
    )
    assert statuses
    assert got["To"] == "ola@example.com" and got["From"] == "shop@example.com"
    assert got["Subject"] == "Hello Ola"
    assert got.get_payload().strip() == "Your score is 50.0."
    dead = next(r for r in rows(engine) if r["status"] == "dead")
    assert dead["attempts"] == 1 and "has no email" in dead["last_error"]


def test_inactivity_fires_once_per_quiet_spell(fast: Pipeline) -> None:
    from leadpulse.core import clock

    start = clock.now_ms()
    day = 86_400_000
    clock.set_clock(lambda: start)
    try:
        fast.publish_model("website", MODEL)
        with receiver() as crm:
            quiet = automation(crm.url, "{inactive: {days: 14}}", cooldown=0, key="quiet")
            fast.save_definition("automation", "quiet", quiet)
            lead = lead_of(fast, "fay")
            views(fast, "fay", 1)
            assert fast.tick() == 0  # seen just now
            clock.set_clock(lambda: start + 15 * day)
            assert fast.tick() == 1
            assert fast.tick() == 0  # once per quiet spell
            [got] = wait_for(lambda: crm.requests, "the inactivity webhook")
            clock.set_clock(lambda: start + 16 * day)
            views(fast, "fay", 1)  # back a day later: re-armed
            clock.set_clock(lambda: start + 30 * day)
            assert fast.tick() == 1
            wait_for(lambda: len(crm.requests) == 2, "the second inactivity webhook")
    finally:
        clock.set_clock(None)
    trigger = got.json["trigger"]
    assert trigger["kind"] == "inactive" and trigger["days"] == 14
    assert got.json["lead"]["id"] == lead


def test_tags_and_traits_and_an_offer_shown_because_of_them(fast: Pipeline) -> None:
    """An automation tags a lead; an offer whose condition is that tag appears in the lead's
    next collect answer — how an automation shows an on-site offer through the tracker."""
    fast.publish_model("website", MODEL)
    tagging = (
        "key: vip\nwhen: {score: {model: website, above: 50}}\nactions:\n"
        "  - tag: vip-offer\n  - set: {lifecycle: sql}\n"
    )
    fast.save_definition("automation", "vip", tagging)
    offer = (
        "key: vip-callback\nwhen: {match: {traits.tags: {contains: vip-offer}}}\n"
        "show: {title: We call you back, fields: [phone]}\n"
    )
    fast.save_definition("offer", "vip-callback", offer)
    lead = lead_of(fast, "gus")
    views(fast, "gus", 5)
    site = fast._shop  # type: ignore[attr-defined]
    ctx = fast.visit_context("Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0", None, None)
    batch = Batch(write_key=site.write_key, anonymous_id="gus",
                  events=[Event(id=uuid.uuid4().hex, type="page_view")])  # fmt: skip
    answer = asyncio.run(fast.collect(site, batch, ctx))
    assert [d["key"] for d in answer.decisions] == ["vip-callback"]
    with fast.engine.connect() as conn:
        traits = conn.execute(sa.text("SELECT traits FROM leads WHERE id = :i"), {"i": lead})
        stored = traits.scalar_one()
    stored = json.loads(stored) if isinstance(stored, str) else stored
    assert stored["tags"] == ["vip-offer"] and stored["lifecycle"] == "sql"
