"""Stages set by hand (a salesperson qualifies a lead) or by an automation, and scenario-local
scoring models (S1.6): a scale of their own that counts only while the lead is in the run."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from leadpulse.collect.schema import Batch, Event
from leadpulse.core import clock
from leadpulse.core.types import Site
from leadpulse.pipeline import Pipeline
from leadpulse.store import leads as lead_store
from leadpulse.web.app import create_app

LIFECYCLE = """key: website
stages: {mql: 20, sql: 50}
rules:
  - {key: page, when: {event: page_view}, points: 10}
"""
SQL_TO_SALES = """key: sql-tag
when: {stage: {model: website, becomes: sql}}
actions:
  - tag: sales-qualified
"""


@pytest.fixture
def start() -> Iterator[int]:
    """The clock stopped at the wall clock's now (tests move it on); the wall clock after."""
    now = clock.now_ms()
    clock.set_clock(lambda: now)
    yield now
    clock.set_clock(None)


class Visits:
    """One shop site; `lead(name)` identifies a visitor, `send(name, *types)` sends events."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.p = pipeline
        self.site: Site = pipeline.add_site("Shop", [], key=f"shop-{uuid.uuid4().hex[:6]}")
        self.ctx = pipeline.visit_context(
            "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0", None, None
        )

    def lead(self, name: str) -> int:
        who = {"email": f"{name}@example.com", "name": name}
        found = asyncio.run(self.p.identify(self.site, name, who, self.ctx)).lead
        assert found is not None
        return found

    def send(self, name: str, *types: str) -> None:
        events = [Event(id=uuid.uuid4().hex, type=t) for t in types]
        batch = Batch(write_key=self.site.write_key, anonymous_id=name, events=events)
        asyncio.run(self.p.collect(self.site, batch, self.ctx))


def _stage(p: Pipeline, lead: int, model: str = "website") -> object:
    with p.engine.connect() as conn:
        return lead_store.scores_of(conn, lead)[model]["stage"]


def _tags(p: Pipeline, lead: int) -> list[str]:
    with p.engine.connect() as conn:
        return list(lead_store.traits_of(conn, lead).get("tags", []))


def test_a_stage_set_by_hand_holds_fires_its_automations_and_survives_a_rescore(
    pipeline: Pipeline, client: TestClient, auth: dict[str, str]
) -> None:
    pipeline.publish_model("website", LIFECYCLE)
    pipeline.save_definition("automation", "sql-tag", SQL_TO_SALES)
    visits = Visits(pipeline)
    ada = visits.lead("ada")
    visits.send("ada", "page_view", "page_view")
    assert _stage(pipeline, ada) == "mql"

    put = client.put(f"/v1/leads/{ada}/stage", json={"model": "website", "stage": "sql"},
                     headers=auth)  # fmt: skip
    assert put.status_code == 200, put.text
    assert put.json()["scores"]["website"] == {"total": 20.0, "band": None, "stage": "sql"}
    assert _tags(pipeline, ada) == ["sales-qualified"]  # the stage automation fired
    explained = client.get(f"/v1/leads/{ada}/score", headers=auth).json()["models"][0]
    assert (explained["stage"], explained["held"], explained["total"]) == ("sql", True, 20)

    visits.send("ada", "page_view")  # points go on; the stage is held
    pipeline.rescore()
    assert _stage(pipeline, ada) == "sql"

    released = client.put(f"/v1/leads/{ada}/stage", json={"model": "website", "stage": None},
                          headers=auth)  # fmt: skip
    assert released.json()["scores"]["website"]["stage"] == "mql"  # 30 points: mql again

    cases = [
        (ada, {"model": "website", "stage": "sgl"}, 400, "its stages: mql, sql"),
        (ada, {"model": "nope", "stage": "sql"}, 404, "no model 'nope'"),
        (999_999, {"model": "website", "stage": "sql"}, 404, "no lead 999999"),
        (ada, {"model": "website"}, 400, "stage"),
    ]
    for lead, body, status, says in cases:
        got = client.put(f"/v1/leads/{lead}/stage", json=body, headers=auth)
        assert got.status_code == status and says in got.text, (body, got.text)


def test_an_automation_sets_a_stage(pipeline: Pipeline) -> None:
    pipeline.publish_model("website", LIFECYCLE)
    demo_request = """key: demo-is-sql
when: {event: {type: demo_request}}
actions:
  - stage: {model: website, set: sql}
"""
    pipeline.save_definition("automation", "demo-is-sql", demo_request)
    visits = Visits(pipeline)
    ben = visits.lead("ben")
    visits.send("ben", "page_view")
    assert _stage(pipeline, ben) is None
    visits.send("ben", "demo_request")
    assert _stage(pipeline, ben) == "sql"

    typo = demo_request.replace("demo-is-sql", "typo").replace("set: sql", "set: sqll")
    pipeline.save_definition("automation", "typo", typo.replace("demo_request", "pricing"))
    visits.send("ben", "pricing")  # a stage the model does not have is not pinned
    assert _stage(pipeline, ben) == "sql"


NURTURE_POINTS = """key: nurture-points
name: Nurture (local to the nurture scenario)
scope: {scenario: nurture}
rules:
  - {key: page, when: {event: page_view}, points: 10}
"""
NURTURE = """key: nurture
when: {event: {type: subscribed}}
exit: {score: {model: nurture-points, above: 30}}
cooldown_minutes: 0
steps:
  - wait: {days: 7}
  - tag: nurtured
"""
GRADUATES = """key: graduates
when: {score: {model: nurture-points, above: 30}}
actions:
  - tag: ready-for-sales
"""


def _runs(p: Pipeline, lead: int) -> list[str]:
    client = TestClient(create_app(pipeline=p))
    auth = {"Authorization": f"Bearer {p.create_api_key('runs')}"}
    items = client.get("/v1/runs", params={"lead": lead}, headers=auth).json()["items"]
    return [r["status"] for r in items]


def _local(p: Pipeline, lead: int) -> tuple[float, float]:
    """The local model's total and the sum of its explained contributions."""
    client = TestClient(create_app(pipeline=p))
    auth = {"Authorization": f"Bearer {p.create_api_key('score')}"}
    models = client.get(f"/v1/leads/{lead}/score", headers=auth).json()["models"]
    [local] = [m for m in models if m["key"] == "nurture-points"]
    return local["total"], round(sum(c["points_now"] for c in local["contributions"]), 6)


def test_a_scenario_local_model_counts_only_inside_its_run(pipeline: Pipeline, start: int) -> None:
    pipeline.publish_model("website", LIFECYCLE)
    pipeline.publish_model("nurture-points", NURTURE_POINTS)
    pipeline.save_definition("automation", "nurture", NURTURE)
    pipeline.save_definition("automation", "graduates", GRADUATES)
    visits = Visits(pipeline)
    cleo = visits.lead("cleo")
    visits.send("cleo", "page_view", "page_view", "page_view", "page_view")
    assert _local(pipeline, cleo) == (0, 0)  # not in the scenario: nothing counts
    clock.set_clock(lambda: start + 1000)
    visits.send("cleo", "subscribed")
    assert _runs(pipeline, cleo) == ["running"]
    clock.set_clock(lambda: start + 1500)  # events count after the run's start
    visits.send("cleo", "page_view", "page_view")
    assert _local(pipeline, cleo) == (20, 20)
    assert _tags(pipeline, cleo) == []
    visits.send("cleo", "page_view", "page_view")  # 40: above 30, the run exits
    assert _runs(pipeline, cleo) == ["exited"]
    assert _tags(pipeline, cleo) == ["ready-for-sales"]
    clock.set_clock(lambda: start + 1800)
    visits.send("cleo", "page_view")  # the run is over: the local score stays
    assert _local(pipeline, cleo) == (40, 40)
    with pipeline.engine.connect() as conn:
        assert lead_store.scores_of(conn, cleo)["website"]["total"] == 90  # global: all
    pipeline.rescore()  # the finished run's window is kept: the same events count again
    assert _local(pipeline, cleo) == (40, 40)

    clock.set_clock(lambda: start + 2000)
    visits.send("cleo", "subscribed")  # a second run starts from zero
    assert _runs(pipeline, cleo) == ["running", "exited"]
    assert _local(pipeline, cleo) == (0, 0)  # the ledger still adds up
    clock.set_clock(lambda: start + 2500)
    visits.send("cleo", "page_view")
    pipeline.rescore()  # a replay counts only what came after the run started
    assert _local(pipeline, cleo) == (10, 10)


LOCAL_FIT = """key: nurture-points
scope: {scenario: nurture}
rules:
  - {key: ceo, when: {trait: title, eq: CEO}, points: 25}
  - {key: subscribed, when: {event: subscribed}, points: 7}
  - {key: page, when: {event: page_view}, points: 10}
"""


def test_local_trait_rules_count_from_the_start_and_a_rescore_agrees(
    pipeline: Pipeline, start: int
) -> None:
    pipeline.publish_model("nurture-points", LOCAL_FIT)
    pipeline.save_definition("automation", "nurture", NURTURE)
    visits = Visits(pipeline)
    dora = visits.lead("dora")
    pipeline.upsert_lead({"email": "dora@example.com", "title": "CEO"}, "crm")
    assert _local(pipeline, dora) == (0, 0)  # not in the scenario yet
    clock.set_clock(lambda: start + 1000)
    visits.send("dora", "subscribed")  # starts the run; it was scored before the run began
    assert _local(pipeline, dora) == (25, 25)  # the trait rule, at the start
    pipeline.rescore()
    assert _local(pipeline, dora) == (25, 25)
    clock.set_clock(lambda: start + 1500)
    visits.send("dora", "page_view")
    pipeline.rescore()
    assert _local(pipeline, dora) == (35, 35)


def test_scenario_runs_follow_a_merged_lead(pipeline: Pipeline, start: int) -> None:
    pipeline.publish_model("nurture-points", NURTURE_POINTS)
    pipeline.save_definition("automation", "nurture", NURTURE)
    visits = Visits(pipeline)
    eve = visits.lead("eve")
    clock.set_clock(lambda: start + 1000)
    visits.send("eve", "subscribed")
    clock.set_clock(lambda: start + 1500)
    visits.send("eve", "page_view")
    other = pipeline.upsert_lead({"phone": "+48 600 100 200"}, "crm").lead
    merged = pipeline.upsert_lead({"email": "eve@example.com", "phone": "+48 600 100 200"},
                                  "crm")  # fmt: skip
    survivor = merged.lead
    gone = other if survivor == eve else eve
    assert _runs(pipeline, survivor) == ["running"] and _runs(pipeline, gone) == []
    visits.send("eve", "page_view", "page_view", "page_view")  # 40: the run exits
    assert _runs(pipeline, survivor) == ["exited"]
    clock.set_clock(lambda: start + 1800)
    visits.send("eve", "page_view")  # over: the survivor's local score stays
    total, explained = _local(pipeline, survivor)
    assert total == explained and total >= 30
    visits.send("eve", "page_view")
    assert _local(pipeline, survivor) == (total, explained)


def test_tasks_and_segments_follow_a_merged_lead(
    pipeline: Pipeline, client: TestClient, auth: dict[str, str]
) -> None:
    pipeline.publish_model("website", LIFECYCLE)
    callback = """key: call-them
when: {event: {type: demo_request}}
actions:
  - task: {kind: callback, due_minutes: 5, note: call them}
"""
    pipeline.save_definition("automation", "call-them", callback)
    readers = "key: readers\nwhen: {metric: pages_viewed, gte: 1}"
    pipeline.save_definition("segment", "readers", readers)
    visits = Visits(pipeline)
    phone = {"phone": "+48 600 300 400"}  # the visitor leaves a phone number only
    fay = asyncio.run(pipeline.identify(visits.site, "fay", phone, visits.ctx)).lead
    assert fay is not None
    visits.send("fay", "page_view", "demo_request")
    crm = pipeline.upsert_lead({"email": "fay@example.com"}, "crm").lead  # the CRM knows her
    survivor = pipeline.upsert_lead({"email": "fay@example.com", **phone}, "crm").lead
    assert survivor == crm  # the email's lead stays; the visitor's lead merges into it
    gone = fay

    def tasks(lead: int) -> list[str]:
        found = client.get("/v1/tasks", params={"lead": lead}, headers=auth).json()["items"]
        return [t["note"] for t in found]

    assert tasks(survivor) == ["call them"] and tasks(gone) == []
    members = client.get("/v1/segments/readers/members", headers=auth).json()["items"]
    assert [m["id"] for m in members] == [survivor]
