"""POST /v1/collect over HTTP: what is stored, what is refused and how."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from leadpulse.store.schema import events, visitors

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


def page_view(anon: str = "anon-1", **over: Any) -> dict[str, Any]:
    event = {
        "id": str(uuid.uuid4()),
        "type": "page_view",
        "anonymous_id": anon,
        "session_id": "s1",
        "ts": "2026-11-22T10:00:00Z",
        "url": "https://shop.example/windows?utm_source=google&utm_medium=cpc"
        "&utm_term=windows+on+credit",
        "referrer": "https://www.google.com/",
        "title": "Windows",
        "properties": {},
    }
    event.update(over)
    return event


def post(client: TestClient, body: Any, **headers: str) -> Any:
    hdrs = {"user-agent": CHROME, **headers}
    return client.post("/v1/collect", json=body, headers=hdrs)


def test_a_page_view_is_stored_enriched(
    client: TestClient, site: dict[str, str], engine: Engine
) -> None:
    event = page_view()
    r = post(client, {"write_key": site["write_key"], "events": [event]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["accepted"] == 1
    assert body["duplicates"] == 0
    assert body["lead"] is None
    assert body["decisions"] == []
    with engine.connect() as conn:
        row = conn.execute(sa.select(events)).one()
        visitor = conn.execute(sa.select(visitors)).one()
    assert row.uid == event["id"]
    assert row.channel == "paid_search"
    assert row.source == "google"
    assert row.keyword == "windows on credit"
    assert row.browser == "Chrome"
    assert row.device == "desktop"
    assert row.is_bot is False or row.is_bot == 0
    assert row.visitor_id == body["visitor"] == visitor.id
    assert visitor.first_touch["channel"] == "paid_search"
    assert visitor.first_touch["keyword"] == "windows on credit"


def test_a_batch_sent_twice_is_stored_once(
    client: TestClient, site: dict[str, str], engine: Engine
) -> None:
    batch = {"write_key": site["write_key"], "events": [page_view(), page_view(), page_view()]}
    first = post(client, batch).json()
    again = post(client, batch).json()
    assert (first["accepted"], first["duplicates"]) == (3, 0)
    assert (again["accepted"], again["duplicates"]) == (0, 3)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(events)).scalar() == 3


def test_every_documented_event_type_and_custom_ones_are_accepted(
    client: TestClient, site: dict[str, str], engine: Engine
) -> None:
    specials: list[dict[str, Any]] = [
        {"type": "page_ping", "engaged_ms": 15000},
        {"type": "scroll", "depth": 75},
        {"type": "mouse_activity", "intensity": 3.5},
        {"type": "click", "properties": {"element": "button#buy"}},
        {"type": "form_start", "properties": {"form": "contact"}},
        {"type": "form_submit", "properties": {"form": "contact"}},
        {"type": "form_abandon", "properties": {"form": "contact"}},
        {"type": "exit_intent"},
        {"type": "added_to_cart", "properties": {"sku": "W-120"}},
        {"type": "newsletter_signup"},
        {"type": "price_list_download"},
        {"type": "unsubscribe"},
    ]
    evs = [{"id": str(uuid.uuid4()), "anonymous_id": "a", **s} for s in specials]
    r = post(client, {"write_key": site["write_key"], "events": evs})
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == len(specials)
    with engine.connect() as conn:
        stored = {row.type: row.properties for row in conn.execute(sa.select(events))}
    assert stored["scroll"]["depth"] == 75
    assert stored["page_ping"]["engaged_ms"] == 15000
    assert stored["added_to_cart"]["sku"] == "W-120"


def test_malformed_json_is_a_400_naming_the_problem(
    client: TestClient, site: dict[str, str]
) -> None:
    r = client.post("/v1/collect", content=b'{"write_key": "x", "events": [', headers={})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "malformed_json"
    assert "JSON" in r.json()["error"]["message"]


def test_a_wrong_field_type_is_a_400_naming_the_field_path(
    client: TestClient, site: dict[str, str], engine: Engine
) -> None:
    bad = page_view(type="scroll", depth="deep")
    r = post(client, {"write_key": site["write_key"], "events": [page_view(), bad]})
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["field"] == "events[1].depth"
    assert "events[1].depth" in err["message"]
    with engine.connect() as conn:  # nothing of a refused batch is half-stored
        assert conn.execute(sa.select(sa.func.count()).select_from(events)).scalar() == 0


def test_out_of_range_and_missing_measures_are_refused(
    client: TestClient, site: dict[str, str]
) -> None:
    over = post(
        client, {"write_key": site["write_key"], "events": [page_view(type="scroll", depth=120)]}
    )
    assert over.status_code == 400
    assert over.json()["error"]["field"] == "events[0].depth"
    missing = post(
        client, {"write_key": site["write_key"], "events": [page_view(type="page_ping")]}
    )
    assert missing.status_code == 400
    assert missing.json()["error"]["field"] == "events[0].engaged_ms"
    no_anon = page_view()
    del no_anon["anonymous_id"]
    r = post(client, {"write_key": site["write_key"], "events": [no_anon]})
    assert r.status_code == 400
    assert r.json()["error"]["field"] == "events[0].anonymous_id"


def test_an_unknown_write_key_is_a_401(client: TestClient, site: dict[str, str]) -> None:
    r = post(client, {"write_key": "lp_wk_nope", "events": [page_view()]})
    assert r.status_code == 401
    assert r.json()["error"]["field"] == "write_key"


def test_an_origin_that_is_not_the_sites_is_a_403(client: TestClient, site: dict[str, str]) -> None:
    body = {"write_key": site["write_key"], "events": [page_view()]}
    assert post(client, body, origin="https://evil.example").status_code == 403
    ok = post(client, {**body, "events": [page_view()]}, origin="https://www.shop.example")
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == "https://www.shop.example"


def test_a_preflight_is_answered(client: TestClient) -> None:
    r = client.options(
        "/v1/collect",
        headers={"origin": "https://shop.example", "access-control-request-method": "POST"},
    )
    assert r.status_code == 204
    assert "POST" in r.headers["access-control-allow-methods"]


def test_limits_give_413(client: TestClient, site: dict[str, str]) -> None:
    wk = site["write_key"]
    many = post(client, {"write_key": wk, "events": [page_view() for _ in range(101)]})
    assert many.status_code == 413
    assert many.json()["error"]["field"] == "events"
    fat = post(client, {"write_key": wk, "events": [page_view(properties={"x": "y" * 9000})]})
    assert fat.status_code == 413
    assert fat.json()["error"]["field"] == "events[0].properties"
    huge = client.post("/v1/collect", content=b"{" + b" " * 300_000 + b"}")
    assert huge.status_code == 413


def test_do_not_track_stores_nothing(
    client: TestClient, site: dict[str, str], engine: Engine
) -> None:
    r = post(client, {"write_key": site["write_key"], "events": [page_view()]}, dnt="1")
    assert r.status_code == 200
    assert r.json()["accepted"] == 0
    assert r.json()["ignored"] == 1
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(events)).scalar() == 0


def test_bots_are_stored_apart(client: TestClient, site: dict[str, str], engine: Engine) -> None:
    googlebot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    r = client.post(
        "/v1/collect",
        json={"write_key": site["write_key"], "events": [page_view("bot-1")]},
        headers={"user-agent": googlebot},
    )
    assert r.status_code == 200
    with engine.connect() as conn:
        v = conn.execute(sa.select(visitors).where(visitors.c.anonymous_id == "bot-1")).one()
    assert v.is_bot


def test_the_pixel_records_a_page_view(
    client: TestClient, site: dict[str, str], engine: Engine
) -> None:
    r = client.get(
        "/v1/p.gif",
        params={"k": site["write_key"], "a": "nojs-1", "u": "https://shop.example/pricing"},
        headers={"user-agent": CHROME},
    )
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/gif"
    bad = client.get("/v1/p.gif", params={"k": "nope", "a": "x"})
    assert bad.status_code == 401
    assert bad.headers["content-type"] == "image/gif"
    with engine.connect() as conn:
        row = conn.execute(sa.select(events)).one()
    assert row.url == "https://shop.example/pricing"
    assert row.type == "page_view"


def test_a_wrong_method_is_a_405_in_the_error_shape(client: TestClient) -> None:
    r = client.get("/v1/collect")
    assert r.status_code == 405
    assert r.json()["error"]["code"] == "method_not_allowed"
    assert "POST" in r.headers["allow"]
