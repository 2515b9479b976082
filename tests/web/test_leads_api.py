"""The admin API over HTTP: upsert, list, detail, timeline, outcomes, export, erasure, auth."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from leadpulse.store.schema import events, leads, visitors


def test_every_admin_route_refuses_a_missing_wrong_or_write_key(
    client: TestClient, site: dict[str, str], admin_key: str
) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer lp_sk_wrong"},
        {"Authorization": f"Bearer {site['write_key']}"},
        {"Authorization": "Basic abc"},
    ):
        for method, path in (
            ("GET", "/v1/leads"),
            ("POST", "/v1/leads"),
            ("GET", "/v1/leads/1"),
            ("DELETE", "/v1/leads/1"),
            ("GET", "/v1/sites"),
        ):
            r = client.request(method, path, headers=headers, json={})
            assert r.status_code == 401, (method, path, headers, r.text)
            assert r.json()["error"]["code"] == "unauthorized"


def test_a_revoked_key_stops_working(client: TestClient, pipeline: object, admin_key: str) -> None:
    headers = {"Authorization": f"Bearer {admin_key}"}
    assert client.get("/v1/leads", headers=headers).status_code == 200
    assert pipeline.revoke_api_key("admin") == 1  # type: ignore[attr-defined]
    assert client.get("/v1/leads", headers=headers).status_code == 401


def test_upsert_creates_then_updates_by_email(
    client: TestClient, auth: dict[str, str], engine: Engine
) -> None:
    body = {
        "email": "dana@agency.example",
        "name": "Dana",
        "source": "facebook_lead_ads",
        "traits": {"company": {"name": "Agency", "revenue": 450000}, "industry": "b2b"},
    }
    first = client.post("/v1/leads", json=body, headers=auth)
    assert first.status_code == 200, first.text
    assert first.json()["created"] is True
    lead = first.json()["lead"]
    assert lead["source"] == "facebook_lead_ads"
    assert lead["company"] == "Agency"
    second = client.post(
        "/v1/leads",
        json={
            "email": "DANA@agency.example",
            "phone": "+48 600 123 456",
            "traits": {"company": {"size": 12}},
        },
        headers=auth,
    )
    assert second.json()["created"] is False
    assert second.json()["lead"]["id"] == lead["id"]
    detail = client.get(f"/v1/leads/{lead['id']}", headers=auth).json()
    assert detail["traits"]["company"] == {"name": "Agency", "revenue": 450000, "size": 12}
    assert detail["phone"] == "+48600123456"
    assert detail["quality"]["email"] == "valid"
    assert detail["quality"]["phone"] == "valid"
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(leads)).scalar() == 1


def test_quality_flags_show_bad_contact_data(client: TestClient, auth: dict[str, str]) -> None:
    r = client.post("/v1/leads", json={"email": "temp@mailinator.com", "phone": "12"}, headers=auth)
    quality = r.json()["lead"]["quality"]
    assert quality["email"] == "disposable"
    assert quality["phone"] == "invalid"
    assert quality["issues"]


def test_listing_pages_sorts_and_filters(client: TestClient, auth: dict[str, str]) -> None:
    for i in range(7):
        client.post(
            "/v1/leads",
            json={
                "email": f"p{i}@example.com",
                "source": "crm" if i % 2 else "ads",
                "name": f"P {i}",
            },
            headers=auth,
        )
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, object] = {"sort": "created_at", "limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/v1/leads", params=params, headers=auth).json()
        assert page["total"] == 7
        seen += [item["id"] for item in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == sorted(seen)
    assert len(set(seen)) == 7
    newest = client.get("/v1/leads", params={"sort": "-created_at"}, headers=auth).json()
    assert [i["id"] for i in newest["items"]] == sorted(seen, reverse=True)
    crm = client.get("/v1/leads", params={"source": "crm"}, headers=auth).json()
    assert crm["total"] == 3
    found = client.get("/v1/leads", params={"q": "p3@"}, headers=auth).json()
    assert [i["email"] for i in found["items"]] == ["p3@example.com"]
    bad = client.get("/v1/leads", params={"sort": "shoe_size"}, headers=auth)
    assert bad.status_code == 400
    assert bad.json()["error"]["field"] == "sort"
    junk = client.get("/v1/leads", params={"cursor": "!!!"}, headers=auth)
    assert junk.status_code == 400
    assert junk.json()["error"]["field"] == "cursor"
    over = client.get("/v1/leads", params={"limit": 100000}, headers=auth)
    assert over.status_code == 400
    assert over.json()["error"]["field"] == "limit"


def test_detail_timeline_outcome_export_and_erasure(
    client: TestClient, site: dict[str, str], auth: dict[str, str], engine: Engine
) -> None:
    wk = site["write_key"]
    evs = [
        {"id": str(uuid.uuid4()), "type": t, "anonymous_id": "x1", "url": "https://shop.example/"}
        for t in ("page_view", "added_to_cart", "page_view")
    ]
    client.post("/v1/collect", json={"write_key": wk, "events": evs})
    lead_id = client.post(
        "/v1/identify",
        json={"write_key": wk, "anonymous_id": "x1", "traits": {"email": "eve@example.com"}},
    ).json()["lead"]
    detail = client.get(f"/v1/leads/{lead_id}", headers=auth).json()
    assert detail["counts"]["by_type"] == {"page_view": 2, "added_to_cart": 1}
    assert detail["attribution"]["first_touch"]["channel"] == "direct"
    assert detail["identities"] == [{"kind": "email", "value": "eve@example.com"}]
    timeline = client.get(f"/v1/leads/{lead_id}/events", params={"limit": 2}, headers=auth).json()
    assert len(timeline["items"]) == 2
    rest = client.get(
        f"/v1/leads/{lead_id}/events", params={"before": timeline["next"]}, headers=auth
    ).json()
    assert len(rest["items"]) == 1
    won = client.post(
        f"/v1/leads/{lead_id}/outcome",
        json={"outcome": "won", "value": 15000, "currency": "USD", "owner": "kate"},
        headers=auth,
    )
    assert won.status_code == 201, won.text
    assert won.json()["outcome"] == "won"
    bad = client.post(f"/v1/leads/{lead_id}/outcome", json={"outcome": "maybe"}, headers=auth)
    assert bad.status_code == 400
    assert bad.json()["error"]["field"] == "outcome"
    exported = client.get(f"/v1/leads/{lead_id}/export", headers=auth).json()
    assert exported["lead"]["outcomes"][0]["value"] == 15000
    assert len(exported["events"]) == 3
    gone = client.delete(f"/v1/leads/{lead_id}", headers=auth)
    assert gone.status_code == 200
    assert client.get(f"/v1/leads/{lead_id}", headers=auth).status_code == 404
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(events)).scalar() == 0
        assert conn.execute(sa.select(sa.func.count()).select_from(visitors)).scalar() == 0


def test_unknown_lead_and_route_are_404_in_the_error_shape(
    client: TestClient, auth: dict[str, str]
) -> None:
    r = client.get("/v1/leads/999999", headers=auth)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
    r = client.get("/v1/leads/abc", headers=auth)
    assert r.status_code == 400
    assert r.json()["error"]["field"] == "lead_id"
    assert client.get("/nowhere").json()["error"]["code"] == "not_found"


def test_openapi_is_served(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/v1/leads" in spec["paths"]
    assert "/v1/leads/{lead_id}/outcome" in spec["paths"]
