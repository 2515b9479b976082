"""Fuzzing: how many examples to try, and a database with something in it.

A plain `pytest` run tries a few examples of each property, well under a minute per database;
`LEADPULSE_FUZZ_EXAMPLES=2000 pytest tests/fuzz` (what `make test-faults` runs) tries that many
of each collector property and a tenth as many per admin API operation and generation mode.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from leadpulse.pipeline import Pipeline

EXAMPLES_VAR = "LEADPULSE_FUZZ_EXAMPLES"
DOCS_EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


def examples(quick: int, share: float = 1.0) -> int:
    """`quick` on an ordinary run; `share` of LEADPULSE_FUZZ_EXAMPLES when it is set."""
    wanted = os.environ.get(EXAMPLES_VAR)
    if not wanted:
        return quick
    return max(quick, int(int(wanted) * share))


DOCUMENTS = {
    "/v1/models/website": "models/website-behaviour.yaml",
    "/v1/offers/callback": "offers/callback.yaml",
    "/v1/personalizations/cottage-headline": "personalizations/cottage-headline.yaml",
    "/v1/segments/meetup-fans": "segments/meetup-fans.yaml",
    "/v1/automations/price-list-follow-up": "automations/price-list-follow-up.yaml",
}

PING = """key: ping
name: Tell a closed port
when: {event: {type: ping}}
actions:
  - webhook: {url: "http://127.0.0.1:9/hook", secret: "fuzz-secret-0123456789"}
"""


@pytest.fixture
def stocked(
    client: TestClient, auth: dict[str, str], site: dict[str, str], pipeline: Pipeline
) -> dict[str, Any]:
    """A site with a published model, an offer, a personalisation, a segment, automations,
    a manager, two leads with visits and an outcome, a follow-up task and a webhook delivery
    (to a closed port: it stays pending or dies); returns the ids and keys of what it made."""
    for path, example in DOCUMENTS.items():
        r = client.put(path, content=(DOCS_EXAMPLES / example).read_text(), headers=auth)
        assert r.status_code == 200, (path, r.text)
    r = client.put("/v1/automations/ping", content=PING, headers=auth)
    assert r.status_code == 200, r.text
    manager = {"name": "Ann", "email": "ann@shop.example", "team": "sales"}
    assert client.put("/v1/managers/ann", json=manager, headers=auth).status_code == 200
    leads = []
    for n, email in enumerate(["ola@example.com", "piotr@example.org"]):
        anon = f"anon-{n}"
        events = [
            {"id": uuid.uuid4().hex, "type": "page_view", "url": "https://shop.example/pricing"},
            {"id": uuid.uuid4().hex, "type": "scroll", "depth": 90},
        ]
        body = {"write_key": site["write_key"], "anonymous_id": anon, "events": events}
        assert client.post("/v1/collect", json=body).status_code == 200
        ident = {"write_key": site["write_key"], "anonymous_id": anon, "traits": {"email": email}}
        r = client.post("/v1/identify", json=ident)
        assert r.status_code == 200, r.text
        leads.append(r.json()["lead"])
    follow_up = [
        {
            "id": uuid.uuid4().hex,
            "type": "offer_submit",
            "properties": {"offer": "price-list-on-exit"},
        },
        {"id": uuid.uuid4().hex, "type": "ping"},
    ]
    body = {"write_key": site["write_key"], "anonymous_id": "anon-0", "events": follow_up}
    assert client.post("/v1/collect", json=body).status_code == 200
    won = {"outcome": "won", "value": 1200, "currency": "EUR"}
    assert client.post(f"/v1/leads/{leads[0]}/outcome", json=won, headers=auth).status_code == 201
    assert pipeline.assign([leads[1]], "ann") == 1
    tasks = client.get("/v1/tasks", headers=auth).json()["items"]
    deliveries = client.get("/v1/deliveries", headers=auth).json()["items"]
    assert tasks and deliveries, (tasks, deliveries)
    return {
        "site": site,
        "leads": leads,
        "manager": "ann",
        "task": tasks[0]["id"],
        "delivery": deliveries[0]["id"],
    }
