"""POST /v1/identify: a visitor becomes a lead with all its earlier events; devices and merges."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from leadpulse.store.schema import events, lead_merges, leads

SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


def track(client: TestClient, wk: str, anon: str, n: int = 2, **extra: Any) -> Any:
    evs = [
        {
            "id": str(uuid.uuid4()),
            "type": "page_view",
            "anonymous_id": anon,
            "url": f"https://shop.example/p{i}",
            **extra,
        }
        for i in range(n)
    ]
    r = client.post("/v1/collect", json={"write_key": wk, "events": evs})
    assert r.status_code == 200, r.text
    return r.json()


def identify(client: TestClient, wk: str, anon: str, **traits: Any) -> Any:
    r = client.post(
        "/v1/identify",
        json={"write_key": wk, "anonymous_id": anon, "traits": traits},
        headers={"user-agent": SAFARI_IPHONE},
    )
    assert r.status_code == 200, r.text
    return r.json()


def test_identify_creates_a_lead_with_every_earlier_event(
    client: TestClient, site: dict[str, str], engine: Engine
) -> None:
    wk = site["write_key"]
    track(client, wk, "a1", 3, referrer="https://www.linkedin.com/")
    result = identify(
        client, wk, "a1", email=" Anna@Example.COM ", name="Anna", phone="+48 600 123 456"
    )
    assert result["created"] is True
    lead_id = result["lead"]
    with engine.connect() as conn:
        lead = conn.execute(sa.select(leads).where(leads.c.id == lead_id)).one()
        owned = conn.execute(
            sa.select(sa.func.count()).select_from(events).where(events.c.lead_id == lead_id)
        ).scalar()
    assert lead.email == "anna@example.com"
    assert lead.phone == "+48600123456"
    assert lead.name == "Anna"
    assert owned == 3
    assert lead.first_touch["channel"] == "organic_social"
    assert lead.channel == "organic_social"
    # later events of the visitor go straight to the lead
    later = track(client, wk, "a1", 1)
    assert later["lead"] == lead_id


def test_a_second_device_lands_on_the_same_lead(
    client: TestClient, site: dict[str, str], engine: Engine
) -> None:
    wk = site["write_key"]
    track(client, wk, "laptop", 2)
    first = identify(client, wk, "laptop", email="bob@example.com")
    track(client, wk, "phone", 2)
    second = identify(client, wk, "phone", email="BOB@example.com")
    assert second["lead"] == first["lead"]
    assert second["created"] is False
    with engine.connect() as conn:
        n = conn.execute(
            sa.select(sa.func.count()).select_from(events).where(events.c.lead_id == first["lead"])
        ).scalar()
    assert n == 4


def test_two_leads_that_turn_out_to_be_one_person_merge_and_lose_nothing(
    client: TestClient, site: dict[str, str], engine: Engine, auth: dict[str, str]
) -> None:
    wk = site["write_key"]
    track(client, wk, "v1", 2)
    by_email = identify(client, wk, "v1", email="carol@example.com", job_title="CTO")["lead"]
    track(client, wk, "v2", 3)
    by_phone = identify(client, wk, "v2", phone="+442079460018", company="Acme")["lead"]
    assert by_email != by_phone
    # one identify carries both: the phone lead merges into the email lead
    merged = identify(client, wk, "v2", email="carol@example.com", phone="+442079460018")
    assert merged["lead"] == by_email
    assert merged["merged"] == [by_phone]
    detail = client.get(f"/v1/leads/{by_email}", headers=auth).json()
    assert detail["traits"]["job_title"] == "CTO"
    assert detail["traits"]["company"] == "Acme"
    assert detail["counts"]["events"] == 5
    assert detail["counts"]["visitors"] == 2
    assert detail["merged_from"][0]["lead"] == by_phone
    # the merged lead's id still answers, with the survivor
    assert client.get(f"/v1/leads/{by_phone}", headers=auth).json()["id"] == by_email
    with engine.connect() as conn:
        merge = conn.execute(sa.select(lead_merges)).one()
    assert merge.snapshot["traits"]["company"] == "Acme"


def test_a_bot_never_becomes_a_lead(client: TestClient, site: dict[str, str]) -> None:
    r = client.post(
        "/v1/identify",
        json={
            "write_key": site["write_key"],
            "anonymous_id": "crawler",
            "traits": {"email": "x@y.com"},
        },
        headers={
            "user-agent": "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"
        },
    )
    assert r.status_code == 200
    assert r.json()["lead"] is None


def test_identify_refuses_bad_traits(client: TestClient, site: dict[str, str]) -> None:
    r = client.post(
        "/v1/identify", json={"write_key": site["write_key"], "anonymous_id": "a", "traits": []}
    )
    assert r.status_code == 400
    assert r.json()["error"]["field"] == "traits"


def test_do_not_track_identify_is_ignored_and_readable_by_the_page(
    client: TestClient, site: dict[str, str], engine: Engine
) -> None:
    """The browser must be able to read the answer (CORS), or a popup would report a failure."""
    r = client.post(
        "/v1/identify",
        json={"write_key": site["write_key"], "anonymous_id": "a", "traits": {"email": "a@b.pl"}},
        headers={"dnt": "1", "origin": "https://shop.example"},
    )
    assert r.status_code == 200
    assert r.json()["ignored"] == "do-not-track"
    assert r.headers["access-control-allow-origin"] == "https://shop.example"
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(leads)).scalar_one() == 0


def test_quality_describes_the_leads_contact_data_not_only_the_last_call(
    client: TestClient, site: dict[str, str], engine: Engine
) -> None:
    """A visitor signs up with an email, later leaves a phone in a popup: both count."""
    for traits in ({"email": "kim@example.com"}, {"phone": "+48 600 123 456"}):
        r = client.post(
            "/v1/identify",
            json={"write_key": site["write_key"], "anonymous_id": "kim", "traits": traits},
        )
        assert r.status_code == 200, r.text
    with engine.connect() as conn:
        quality = conn.execute(sa.select(leads.c.quality)).scalar_one()
    assert quality["email"] == "valid" and quality["phone"] == "valid"
    assert quality["issues"] == []
