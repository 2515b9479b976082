"""What the fuzzers found, each kept as a plain example that failed before its fix."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from leadpulse.store.schema import events as event_table

DOCUMENT_PATHS = ["/v1/models", "/v1/offers", "/v1/segments", "/v1/automations"]


@pytest.mark.parametrize("path", DOCUMENT_PATHS)
def test_half_a_surrogate_pair_in_a_document_is_a_400(
    client: TestClient, auth: dict[str, str], path: str
) -> None:
    """PyYAML turns the JSON escape `\\ud800` into half a character, which the error message
    repeated and no JSON encoder writes: a 500 instead of the error."""
    for body in ['{"\\ud800": 1}', 'key: "x\\udc00"\n']:
        for r in (
            client.post(f"{path}/validate", content=body, headers=auth),
            client.put(f"{path}/some-key", content=body, headers=auth),
        ):
            assert r.status_code == 400, r.text
            assert "surrogate" in r.json()["error"]["message"]


def test_escaped_characters_beyond_the_basic_plane_are_read_whole(
    client: TestClient, auth: dict[str, str]
) -> None:
    """`json.dumps` writes an emoji as two escaped halves; the model's name is the emoji."""
    model = {
        "key": "smile",
        "name": "Smile \U0001f600",
        "rules": [{"key": "seen", "when": {"event": "page_view"}, "points": 1}],
    }
    r = client.put("/v1/models/smile", content=json.dumps(model), headers=auth)
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Smile \U0001f600"
    assert client.get("/v1/models/smile", headers=auth).json()["name"] == "Smile \U0001f600"


@pytest.mark.parametrize("path", DOCUMENT_PATHS)
def test_a_document_nested_too_deeply_is_a_400(
    client: TestClient, auth: dict[str, str], path: str
) -> None:
    """The YAML reader recursed until Python gave up: a 500."""
    r = client.post(f"{path}/validate", content="[" * 1000 + "]" * 1000, headers=auth)
    assert r.status_code == 400, r.text
    assert "nested too deeply" in r.json()["error"]["message"]


def test_an_outcome_value_is_a_number_not_a_boolean(
    client: TestClient, auth: dict[str, str]
) -> None:
    lead = client.post("/v1/leads", json={"email": "a@shop.example"}, headers=auth).json()
    path = f"/v1/leads/{lead['lead']['id']}/outcome"
    for value in [False, "12"]:
        r = client.post(path, json={"outcome": "won", "value": value}, headers=auth)
        assert r.status_code == 400, r.text
        assert r.json()["error"]["field"] == "value"
    assert (
        client.post(path, json={"outcome": "won", "value": 12}, headers=auth).json()["value"] == 12
    )


def test_a_manager_is_active_or_not_never_yes(client: TestClient, auth: dict[str, str]) -> None:
    for active in ["yes", 1]:
        r = client.put("/v1/managers/ann", json={"name": "Ann", "active": active}, headers=auth)
        assert r.status_code == 400, r.text
        assert r.json()["error"]["field"] == "active"
    r = client.put("/v1/managers/ann", json={"name": "Ann", "active": False}, headers=auth)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("path", ["/v1/collect", "/v1/identify"])
def test_a_tracking_body_nested_too_deeply_is_a_400(
    client: TestClient, site: dict[str, str], path: str
) -> None:
    """msgspec gave up with a RecursionError on 100,000 nested lists (200 kB, under the body
    limit): a 500."""
    nested = "[" * 100_000 + "]" * 100_000
    inside = (
        f'"traits": {{"a": {nested}}}'
        if path == "/v1/identify"
        else f'"events": [{{"id": "1", "type": "x", "properties": {{"a": {nested}}}}}]'
    )
    body = f'{{"write_key": "{site["write_key"]}", "anonymous_id": "a", {inside}}}'
    r = client.post(path, content=body)
    assert r.status_code == 400, r.text
    assert "nested too deeply" in r.json()["error"]["message"]


def test_a_pixel_error_about_any_url_is_a_header_value(
    client: TestClient, site: dict[str, str]
) -> None:
    """The refusal named the page's origin in the `x-leadpulse-error` header, which only
    takes Latin-1: a page at `https://€.example` was a 500."""
    query = {"k": site["write_key"], "a": "anon", "u": "https://€.example/"}
    r = client.get("/v1/p.gif", params=query)
    assert r.status_code == 403
    assert r.headers["content-type"] == "image/gif"
    assert "https://\\u20ac.example" in r.headers["x-leadpulse-error"]


def test_nul_in_any_admin_body_is_refused_by_name(
    client: TestClient, auth: dict[str, str], stocked: dict[str, Any]
) -> None:
    """Only the lead upsert refused NUL characters: on PostgreSQL a manager's, a site's or an
    outcome's text with one was "a number in the request is out of range", on SQLite stored."""
    lead = stocked["leads"][0]
    for method, path, body, field in [
        ("PUT", "/v1/managers/bob", {"name": "B\x00b"}, "name"),
        ("PUT", "/v1/managers/bob", {"name": "Bob", "team": "\x00"}, "team"),
        ("POST", "/v1/sites", {"name": "Sh\x00p"}, "name"),
        ("POST", f"/v1/leads/{lead}/outcome", {"outcome": "won", "note": "\x00"}, "note"),
        ("PUT", f"/v1/leads/{lead}/stage", {"model": "website", "stage": "s\x00l"}, "stage"),
    ]:
        r = client.request(method, path, json=body, headers=auth)
        assert r.status_code == 400, (path, r.text)
        assert r.json()["error"]["field"] == field, r.text
        assert "NUL" in r.json()["error"]["message"], r.text


def test_a_malformed_host_is_refused_not_a_500(
    client: TestClient, auth: dict[str, str], site: dict[str, str]
) -> None:
    """`urlsplit` raises on an unbalanced `[` (an IPv6 host): a site's domain, a browser's
    Origin and the pixel's page URL were each a 500."""
    r = client.post("/v1/sites", json={"name": "Shop", "domains": ["http://["]}, headers=auth)
    assert r.status_code == 400 and r.json()["error"]["field"] == "domains", r.text
    event = {"id": "e1", "type": "page_view"}
    body = {"write_key": site["write_key"], "anonymous_id": "a", "events": [event]}
    r = client.post("/v1/collect", json=body, headers={"origin": "http://[x"})
    assert r.status_code == 403 and r.json()["error"]["field"] == "origin", r.text
    r = client.get("/v1/p.gif", params={"k": site["write_key"], "a": "a", "u": "http://[x/"})
    assert r.status_code == 400 and "u=" in r.headers["x-leadpulse-error"]


def test_times_are_iso_text_not_unix_numbers(client: TestClient, auth: dict[str, str]) -> None:
    """The description says date-time; pydantic also read `0.0` as 1970 (a filter that silently
    matched everything, an outcome dated 1970)."""
    for query in ["created_before=0.0", "created_after=-1.4e-45", "created_after=1796000000"]:
        r = client.get(f"/v1/leads?{query}", headers=auth)
        assert r.status_code == 400, r.text
        assert "ISO 8601" in r.json()["error"]["message"]
    assert client.get("/v1/leads?created_after=2026-11-22T10:00:00Z", headers=auth).is_success
    lead = client.post("/v1/leads", json={"email": "a@shop.example"}, headers=auth).json()
    path = f"/v1/leads/{lead['lead']['id']}/outcome"
    r = client.post(path, json={"outcome": "won", "at": 2_000_000}, headers=auth)
    assert r.status_code == 400 and r.json()["error"]["field"] == "at", r.text
    r = client.post(path, json={"outcome": "won", "at": "2026-11-22T10:00:00Z"}, headers=auth)
    assert r.json()["at"] == "2026-11-22T10:00:00.000Z", r.text


def test_an_automation_with_a_malformed_webhook_url_is_a_400(
    client: TestClient, auth: dict[str, str]
) -> None:
    document = (
        "key: hook\nname: Hook\nwhen: {event: {type: ping}}\n"
        "actions:\n  - webhook: {url: 'http://[', secret: 'a-secret-of-enough-length'}\n"
    )
    r = client.post("/v1/automations/validate", content=document, headers=auth)
    assert r.status_code == 400, r.text


def test_an_id_twice_in_one_batch_is_stored_once_and_counted_once(
    client: TestClient, site: dict[str, str], engine: Engine
) -> None:
    events = [{"id": "same", "type": "page_view"}, {"id": "same", "type": "click"}]
    body = {"write_key": site["write_key"], "anonymous_id": "a", "events": events}
    answer = client.post("/v1/collect", json=body).json()
    with engine.connect() as conn:
        stored = conn.execute(sa.select(sa.func.count()).select_from(event_table)).scalar_one()
    assert (answer["accepted"], answer["duplicates"], stored) == (1, 1, 1)


def test_ids_and_counts_are_digits_only(
    client: TestClient, auth: dict[str, str], stocked: dict[str, Any]
) -> None:
    """The description says integer; pydantic also read `%097` (a tab, then 7) as lead 7."""
    lead = stocked["leads"][0]
    assert client.get(f"/v1/leads/{lead}", headers=auth).status_code == 200
    for path in [f"/v1/leads/%09{lead}", f"/v1/leads/+{lead}", f"/v1/tasks?lead=%20{lead}",
                 f"/v1/leads/{lead}/events?limit=1_0"]:  # fmt: skip
        r = client.get(path, headers=auth)
        assert r.status_code == 400, (path, r.text)
        assert "digits only" in r.json()["error"]["message"], r.text
