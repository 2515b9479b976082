"""A rescore split between processes gives what one process gives, and a subject that changes
while its page is being replayed is replayed again when the page is kept."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from starlette.testclient import TestClient

from leadpulse.core import clock
from leadpulse.pipeline import Pipeline
from leadpulse.pipeline.scoring import Replayed, keep, replay
from leadpulse.store import scores as score_store
from leadpulse.store import subjects as subject_store
from leadpulse.store.schema import leads, score_ledger, visitors
from tests.scoring.test_scoring_flow import publish, send

NOW = 1_790_000_000_000


def _history(client: TestClient, site: dict[str, str], auth: dict[str, str]) -> None:
    """Anonymous visitors and leads (one with two devices), with several models published."""
    for name in ("website-behaviour.yaml", "lead-magnets.yaml", "agency-fit.yaml"):
        publish(client, auth, name)
    wk = site["write_key"]
    for n in range(7):
        pages = [{"type": "page_view", "url": f"https://shop.example/{p}"}
                 for p in ("pricing", "blog", "contact", "pricing")[: n % 4 + 1]]  # fmt: skip
        send(client, wk, f"v{n}", *pages, {"type": "scroll", "depth": 15 * n},
             {"type": "lead_magnet_download"})  # fmt: skip
    for anon, email in (("v1", "a@x.io"), ("v2", "b@x.io"), ("v3", "a@x.io")):
        body = {"write_key": wk, "anonymous_id": anon,
                "traits": {"email": email, "industry": "saas", "revenue": 500_000}}  # fmt: skip
        assert client.post("/v1/identify", json=body).status_code == 200
    send(client, wk, "v1", {"type": "page_view", "url": "https://shop.example/price-list"})


def _scored(conn: Connection, table: sa.Table) -> list[int]:
    """The rows of `table` with a scoring state."""
    return list(
        conn.execute(sa.select(table.c.id).where(table.c.score_state.is_not(None))).scalars()
    )


def _scoring(engine: Engine) -> dict[str, Any]:
    """Everything a rescore writes, in a comparable form."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(score_ledger.c.lead_id, score_ledger.c.visitor_id, score_ledger.c.model_key,
                      score_ledger.c.rule_key, score_ledger.c.occurrence, score_ledger.c.points,
                      score_ledger.c.event_uid, score_ledger.c.at)
        )  # fmt: skip
        ledger = sorted((tuple(r) for r in rows), key=repr)
        states = {
            **{(i, None): score_store.load_state(conn, i, None) for i in _scored(conn, leads)},
            **{(None, i): score_store.load_state(conn, None, i) for i in _scored(conn, visitors)},
        }
        scores = dict(conn.execute(sa.select(leads.c.id, leads.c.score)).all())
    return {"ledger": ledger, "states": states, "scores": scores}


def test_a_rescore_in_two_processes_equals_one_in_this_process(
    client: TestClient, pipeline: Pipeline, engine: Engine, site: dict[str, str],
    auth: dict[str, str],
) -> None:  # fmt: skip
    _history(client, site, auth)
    clock.set_clock(lambda: NOW)
    try:
        assert pipeline.rescore(batch=2) == (6, 31)
        here = _scoring(engine)
        seen: list[int] = []
        # batch 2: three pages of leads and visitors, kept by the processes as they finish
        assert pipeline.rescore(batch=2, processes=2, progress=lambda s, _e: seen.append(s)) == (
            6,
            31,
        )
    finally:
        clock.set_clock(None)
    assert seen == [2, 4, 6]  # two leads, then four visitors, by pages of two, in order
    assert len(here["ledger"]) > 20 and here["scores"]
    assert _scoring(engine) == here


PAGES = "key: pages\nrules:\n  - key: page\n    when: {event: page_view}\n    points: 1\n"
"""A point a page view: a replay's ledger is easy to count."""


def _replayed_visitor(
    client: TestClient, pipeline: Pipeline, engine: Engine, site: dict[str, str],
    auth: dict[str, str], anon: str, views: int,
) -> tuple[int, list[Replayed], Callable[[], int]]:  # fmt: skip
    """A visitor with `views` page views, its page replayed and not yet kept: its id, the
    replay, and a function that keeps it (through the writer) and returns how many events."""
    assert client.put("/v1/models/pages", content=PAGES, headers=auth).status_code == 200
    send(client, site["write_key"], anon,
         *[{"type": "page_view", "url": "https://shop.example/"}] * views)  # fmt: skip
    scorer = pipeline.scoring.refresh(force=True)
    with engine.connect() as conn:
        keys = subject_store.site_keys(conn)
        visitor = conn.execute(
            sa.select(visitors.c.id).where(visitors.c.anonymous_id == anon)
        ).scalar_one()
        now = clock.now_ms()
        replayed = replay(conn, scorer, [visitor], leads=False, site_keys=keys, now=now)
    unit = partial(keep, scorer=scorer, page=replayed, leads=False, site_keys=keys, now=now,
                   primary=pipeline.scoring.primary)  # fmt: skip
    return visitor, replayed, lambda: pipeline.writer.run_sync(unit)


def test_a_subject_that_changes_while_replayed_is_replayed_again_when_kept(
    client: TestClient, pipeline: Pipeline, engine: Engine, site: dict[str, str],
    auth: dict[str, str],
) -> None:  # fmt: skip
    visitor, replayed, keep_it = _replayed_visitor(client, pipeline, engine, site, auth, "late", 2)
    assert replayed[0].events == 2
    send(client, site["write_key"], "late",
         {"type": "page_view", "url": "https://shop.example/contact"})  # fmt: skip
    assert keep_it() == 3  # the event that came in between was replayed too
    with engine.connect() as conn:
        state = score_store.load_state(conn, None, visitor)
    assert state["lifetime"]["pages_viewed"] == 3
    kept_ledger = _scoring(engine)["ledger"]
    assert [row[3] for row in kept_ledger] == ["page"] * 3
    pipeline.rescore()
    assert _scoring(engine)["ledger"] == kept_ledger


def test_a_visitor_identified_while_its_page_is_replayed_keeps_its_ledger_with_the_lead(
    client: TestClient, pipeline: Pipeline, engine: Engine, site: dict[str, str],
    auth: dict[str, str],
) -> None:  # fmt: skip
    visitor, _, keep_it = _replayed_visitor(client, pipeline, engine, site, auth, "soon", 3)
    body = {"write_key": site["write_key"], "anonymous_id": "soon",
            "traits": {"email": "soon@x.io"}}  # fmt: skip
    lead = client.post("/v1/identify", json=body).json()["lead"]
    assert keep_it() == 0  # the visitor is the lead's now: nothing to keep
    score = client.get(f"/v1/leads/{lead}/score", headers=auth).json()["models"][0]
    assert score["total"] == 3
    assert sum(c["points"] for c in score["contributions"]) == 3  # its ledger stayed the lead's
    with engine.connect() as conn:
        assert score_store.load_state(conn, None, visitor) is None
