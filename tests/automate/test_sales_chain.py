"""The S0.6 chain as a ready-made automation: a lead gets hot → the CRM webhook, an owner by
round robin (or by rule), a call-back task due in 5 minutes, an email to the owner."""

from __future__ import annotations

import asyncio
import uuid

from starlette.testclient import TestClient

from leadpulse.collect.schema import Batch, Event
from leadpulse.core import clock
from leadpulse.web.app import create_app
from tests.automate.receiver import receiver
from tests.automate.support import MODEL, SECRET, Mailing, wait_for

CHAIN = """key: hot-lead-chain
name: Hot lead to sales
when: {{band: {{model: website, becomes: hot}}}}
actions:
  - webhook: {{url: '{url}', secret: '{secret}'}}
  - assign:
      rules:
        - {{match: {{traits.company: Big Corp}}, to: zofia}}
      team: sales
  - task: {{kind: callback, due_minutes: 5, note: 'Call {{{{lead.name}}}} on {{{{lead.phone}}}}'}}
  - email: {{to: owner, subject: 'Hot lead: {{{{lead.name}}}}', text: 'Call {{{{lead.phone}}}}.'}}
"""


def test_a_hot_lead_reaches_crm_owner_task_and_owner_email(mailing: Mailing) -> None:
    p, inbox = mailing.pipeline, mailing.inbox
    client = TestClient(create_app(pipeline=p))
    auth = {"Authorization": f"Bearer {p.create_api_key('t')}"}
    for key, name in (("anna", "Anna"), ("piotr", "Piotr")):
        body = {"name": name, "email": f"{key}@shop.example", "team": "sales"}
        assert client.put(f"/v1/managers/{key}", json=body, headers=auth).status_code == 200
    zofia = {"name": "Zofia", "email": "zofia@shop.example", "team": "key-accounts"}
    client.put("/v1/managers/zofia", json=zofia, headers=auth)
    bad = client.put("/v1/managers/x", json={"name": "X", "email": "nope"}, headers=auth)
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "email"
    p.publish_model("website", MODEL)
    site = p.add_site("Shop", [], key="chain-shop")
    ctx = p.visit_context("Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0", None, None)
    with receiver() as crm:
        p.save_definition("automation", "hot-lead-chain",
                          CHAIN.format(url=crm.url, secret=SECRET))  # fmt: skip
        people = [("ewa", "Big Corp"), ("jan", "Small"), ("ola", "Small"), ("tom", "Small")]
        for n, (anon, company) in enumerate(people):
            traits = {"name": anon.title(), "phone": f"+4860010020{n}", "company": company}
            asyncio.run(p.identify(site, anon, traits, ctx))
            events = [Event(id=uuid.uuid4().hex, type="page_view") for _ in range(5)]
            batch = Batch(write_key=site.write_key, anonymous_id=anon, events=events)
            asyncio.run(p.collect(site, batch, ctx))
        wait_for(lambda: len(crm.requests) == 4, "four webhooks")
        wait_for(lambda: len(inbox.messages) == 4, "four emails to owners")
    tasks = client.get("/v1/tasks", params={"status": "open"}, headers=auth).json()["items"]
    owners = {t["lead_name"]: t["manager"] for t in tasks}
    # the rule first; then turns among the sales team: anna, piotr, anna
    assert owners == {"Ewa": "zofia", "Jan": "anna", "Ola": "piotr", "Tom": "anna"}
    first = tasks[0]
    assert first["kind"] == "callback" and first["note"].startswith("Call ")
    assert first["due_at"] - first["created_at"] == 5 * 60_000
    assert first["lead_phone"].startswith("+4860010020")
    mails = {m["To"]: m["Subject"] for m in inbox.messages}
    assert mails["zofia@shop.example"] == "Hot lead: Ewa"
    assert sorted(mails) == ["anna@shop.example", "piotr@shop.example", "zofia@shop.example"]
    payload = crm.requests[0].json
    assert payload["lead"]["owner"] is None  # the webhook came first: no owner yet
    done = client.post(f"/v1/tasks/{first['id']}/done", headers=auth)
    assert done.status_code == 200
    again = client.post(f"/v1/tasks/{first['id']}/done", headers=auth)
    assert again.status_code == 404
    left = client.get("/v1/tasks", params={"status": "open"}, headers=auth).json()["items"]
    assert len(left) == 3
    assert clock.now_ms() >= first["created_at"]
