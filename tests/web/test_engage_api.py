"""Offers and personalisations through the API, and the decisions they put in collect answers."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from leadpulse.engage import HOLDOUT, TREATMENT, group_of
from leadpulse.pipeline import Pipeline

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
CREDIT_LANDING = "https://shop.example/?utm_source=google&utm_medium=cpc&utm_term=windows+on+credit"


def put(client: TestClient, auth: dict[str, str], path: str, example: str) -> dict[str, Any]:
    r = client.put(path, content=(EXAMPLES / example).read_text(), headers=auth)
    assert r.status_code == 200, r.text
    return r.json()


def send(
    client: TestClient,
    site: dict[str, str],
    anon: str,
    *events: dict[str, Any],
    session: str = "s1",
) -> dict[str, Any]:
    body = {
        "write_key": site["write_key"],
        "anonymous_id": anon,
        "events": [{"id": uuid.uuid4().hex, "session_id": session, **e} for e in events],
    }
    r = client.post("/v1/collect", json=body, headers={"user-agent": CHROME})
    assert r.status_code == 200, r.text
    return r.json()


def visitor_in(group: str, key: str, holdout: float) -> str:
    return next(f"v{i}" for i in range(10_000) if group_of(key, f"v{i}", holdout) == group)


def test_crud_validate_and_history(client: TestClient, auth: dict[str, str]) -> None:
    saved = put(client, auth, "/v1/offers/callback", "offers/callback.yaml")
    assert saved["version"] == 1
    assert saved["fields"] == ["phone", "name"]
    assert put(client, auth, "/v1/offers/callback", "offers/callback.yaml")["version"] == 2
    one = client.get("/v1/offers/callback", headers=auth).json()
    assert [h["version"] for h in one["history"]] == [1, 2]
    assert "Call me back" in one["source"]
    listed = client.get("/v1/offers", headers=auth).json()["items"]
    assert [o["key"] for o in listed] == ["callback"]
    assert client.get("/v1/personalizations", headers=auth).json() == {"items": []}
    ok = client.post(
        "/v1/personalizations/validate",
        content=(EXAMPLES / "personalizations/credit-headline.yaml").read_text(),
        headers=auth,
    )
    assert ok.status_code == 200 and ok.json()["changes"] == 3
    assert client.delete("/v1/offers/callback", headers=auth).json() == {"deleted": "callback"}
    assert client.get("/v1/offers/callback", headers=auth).status_code == 404
    assert client.get("/v1/offers", headers=auth).json() == {"items": []}


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/offers/x", "", "body"),
        ("/v1/offers/x", "key: y\nshow: {title: t, fields: [phone]}", "key"),
        ("/v1/offers/x", "key: x\nshow: {title: t, fields: [phone]}\nsite: nowhere", "site"),
        ("/v1/offers/x", "key: x\nshow: {title: t}", "show.fields"),
        ("/v1/personalizations/x", "key: x\nchanges: [{selector: h1, txt: y}]", "changes[0].txt"),
        ("/v1/offers/validate", "[1, 2]", None),
    ],
)
def test_bad_documents_are_400_naming_the_field(
    client: TestClient, auth: dict[str, str], path: str, body: str, field: str | None
) -> None:
    method = client.post if path.endswith("validate") else client.put
    r = method(path, content=body, headers=auth)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["field"] == field


def test_needs_a_secret_key(client: TestClient) -> None:
    assert client.get("/v1/offers").status_code == 401


def test_the_keyword_personalises_and_the_holdout_sees_the_original(
    client: TestClient, site: dict[str, str], auth: dict[str, str], pipeline: Pipeline
) -> None:
    put(
        client,
        auth,
        "/v1/personalizations/credit-headline",
        "personalizations/credit-headline.yaml",
    )
    landing = {"type": "page_view", "url": CREDIT_LANDING, "referrer": "https://www.google.com/"}
    treated = visitor_in(TREATMENT, "credit-headline", 20)
    [decision] = send(client, site, treated, landing)["decisions"]
    assert decision["group"] == TREATMENT
    assert decision["changes"][0]["text"] == "Windows on credit — 0 % for 12 months"
    assert "windows on credit" in decision["changes"][1]["text"]
    # the next page of the same visit still knows the keyword (the visit's touch)
    again = send(client, site, treated, {"type": "page_view", "url": "https://shop.example/p"})
    assert again["decisions"][0]["changes"]
    held = visitor_in(HOLDOUT, "credit-headline", 20)
    [kept_out] = send(client, site, held, landing)["decisions"]
    assert kept_out == {
        "kind": "personalization", "key": "credit-headline", "group": HOLDOUT, "changes": []
    }  # fmt: skip
    plain = send(client, site, "other", {"type": "page_view", "url": "https://shop.example/"})
    assert plain["decisions"] == []
    # the tracker reports exposure for both groups; the report compares them
    for anon, group in ((treated, TREATMENT), (held, HOLDOUT)):
        view = {"personalization": "credit-headline", "group": group}
        send(client, site, anon, {"type": "personalization_view", "properties": view})
    client.post(
        "/v1/identify",
        json={
            "write_key": site["write_key"],
            "anonymous_id": treated,
            "traits": {"email": "a@b.pl"},
        },
    )
    stats = client.get("/v1/personalizations/credit-headline/stats", headers=auth).json()
    assert stats["groups"][TREATMENT] == {"visitors": 1, "submitted": 0, "leads": 1, "won": 0}
    assert stats["groups"][HOLDOUT] == {"visitors": 1, "submitted": 0, "leads": 0, "won": 0}
    assert stats["uplift"] == 1.0


def test_the_offer_appears_at_the_threshold_and_never_after_submit(
    client: TestClient, site: dict[str, str], auth: dict[str, str], pipeline: Pipeline
) -> None:
    r = client.put(
        "/v1/models/website",
        content=(EXAMPLES / "models/website-behaviour.yaml").read_text(),
        headers=auth,
    )
    assert r.status_code == 200
    put(client, auth, "/v1/offers/callback", "offers/callback.yaml")
    anon = visitor_in(TREATMENT, "callback", 10)
    first = send(client, site, anon, {"type": "page_view", "url": "https://shop.example/pricing"})
    assert first["scores"]["website"]["band"] == "cold"
    assert first["decisions"] == []
    pages = [{"type": "page_view", "url": f"https://shop.example/p{i}"} for i in range(4)]
    pings = [{"type": "page_ping", "engaged_ms": 30_000} for _ in range(4)]
    hot = send(client, site, anon, *pages, *pings, {"type": "scroll", "depth": 90},
               {"type": "form_start"}, {"type": "form_submit"})  # fmt: skip
    assert hot["scores"]["website"]["total"] >= 60
    [offer] = hot["decisions"]
    assert offer["key"] == "callback" and offer["group"] == TREATMENT
    assert offer["trigger"]["seconds_on_page"] == 5
    assert [f["name"] for f in offer["content"]["fields"]] == ["phone", "name"]
    # shown once this session
    shown = send(client, site, anon, {"type": "offer_view", "properties": {"offer": "callback"}})
    assert shown["decisions"] == []
    # a new session: it may come back, until it is submitted
    later = send(
        client, site, anon, {"type": "page_view", "url": "https://shop.example/"}, session="s2"
    )
    assert [d["key"] for d in later["decisions"]] == ["callback"]
    send(
        client,
        site,
        anon,
        {"type": "offer_submit", "properties": {"offer": "callback"}},
        session="s2",
    )
    after = send(
        client, site, anon, {"type": "page_view", "url": "https://shop.example/"}, session="s3"
    )
    assert after["decisions"] == []
    with pipeline.engine.connect() as conn:
        row = conn.execute(sa.text('SELECT views, submitted_at, "group" FROM exposures')).one()
    assert row.views == 1 and row.submitted_at is not None and row.group == TREATMENT


def test_offers_of_another_site_are_not_decided(
    client: TestClient, site: dict[str, str], auth: dict[str, str], pipeline: Pipeline
) -> None:
    pipeline.add_site("Blog", ["blog.example"], key="blog")
    doc = "key: hello\nsite: blog\nshow: {title: Hi, fields: [email]}\n"
    assert client.put("/v1/offers/hello", content=doc, headers=auth).status_code == 200
    answer = send(client, site, "x", {"type": "page_view", "url": "https://shop.example/"})
    assert answer["decisions"] == []


def test_reports_about_unknown_offers_are_kept_as_events_only(
    client: TestClient, site: dict[str, str], auth: dict[str, str], pipeline: Pipeline
) -> None:
    """The write key is public: forged reports must not fill the uplift report, nor break
    collection (a 100-character key used to be a 500 on PostgreSQL)."""
    put(client, auth, "/v1/offers/callback", "offers/callback.yaml")
    forged = [
        {"type": "offer_view", "properties": {"offer": "x" * 100, "group": "holdout"}},
        {"type": "offer_view", "properties": {"offer": "nope"}},
        {"type": "offer_view", "properties": {"offer": "callback", "group": "holdout"}},
    ]
    anon = visitor_in(TREATMENT, "callback", 10)
    answer = send(client, site, anon, *forged)
    assert answer["accepted"] == 3
    with pipeline.engine.connect() as conn:
        rows = conn.execute(sa.text('SELECT "key", "group" FROM exposures')).all()
    assert [tuple(r) for r in rows] == [("callback", TREATMENT)]  # the server's group


def test_a_stored_document_that_no_longer_reads_is_listed_with_its_error(
    client: TestClient, auth: dict[str, str], pipeline: Pipeline
) -> None:
    put(client, auth, "/v1/offers/callback", "offers/callback.yaml")
    pipeline.save_definition("offer", "old", "key: old\nshow: {title: x}\n")  # no fields
    items = {i["key"]: i for i in client.get("/v1/offers", headers=auth).json()["items"]}
    assert "fields" in items["callback"]
    assert "is required" in items["old"]["error"]
    one = client.get("/v1/offers/old", headers=auth).json()
    assert one["source"].startswith("key: old") and one["history"][0]["version"] == 1


def test_the_subscribe_offer_waits_for_a_repeat_visit(
    client: TestClient, site: dict[str, str], auth: dict[str, str]
) -> None:
    put(client, auth, "/v1/offers/subscribe-on-return", "offers/subscribe-on-return.yaml")
    home = {"type": "page_view", "url": "https://shop.example/"}
    first = send(client, site, "newcomer", home, home, session="a")
    assert first["decisions"] == []  # two pages, one visit
    again = send(client, site, "newcomer", home, session="b")
    [offer] = again["decisions"]
    assert offer["key"] == "subscribe-on-return" and offer["trigger"]["seconds_on_page"] == 10
    ident = {"write_key": site["write_key"], "anonymous_id": "newcomer",
             "traits": {"email": "newcomer@example.com"}}  # fmt: skip
    assert (
        client.post("/v1/identify", json=ident, headers={"user-agent": CHROME}).status_code == 200
    )
    known = send(client, site, "newcomer", home, session="c")
    assert known["decisions"] == []  # a known lead is not asked to subscribe


def test_the_demo_popup_is_for_pricing_page_visitors(
    client: TestClient, site: dict[str, str], auth: dict[str, str]
) -> None:
    put(client, auth, "/v1/offers/demo-popup", "offers/demo-popup.yaml")
    home = send(client, site, "looker", {"type": "page_view", "url": "https://shop.example/"})
    assert home["decisions"] == []
    pricing = {"type": "page_view", "url": "https://shop.example/pricing?plan=pro"}
    [offer] = send(client, site, "looker", pricing)["decisions"]
    assert offer["key"] == "demo-popup" and offer["trigger"]["seconds_on_page"] == 20
    assert [f["name"] for f in offer["content"]["fields"]] == ["name", "phone"]
