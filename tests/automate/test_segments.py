"""Segments kept up to date as leads change: the examples of S4.4 and S1.1, leaving a segment,
segment triggers, and the members API with paging."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from leadpulse.automate.segments import SegmentError, parse_segment
from leadpulse.collect.schema import Batch, Event
from leadpulse.pipeline import Pipeline
from leadpulse.store import segments as segment_store
from leadpulse.web.app import create_app
from tests.automate.receiver import receiver
from tests.automate.support import MODEL, SECRET, wait_for

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples" / "segments"
MEETUP = (EXAMPLES / "meetup-fans.yaml").read_text()
SALE = (EXAMPLES / "sale-buyers-pl.yaml").read_text()
HOT = """key: hot-now
when: {match: {band.website: hot}}
"""


def send(p: Pipeline, anon: str, *events: Event) -> list[dict[str, Any]]:
    """Send events; returns the answer's decisions."""
    site = p._shop  # type: ignore[attr-defined]
    ctx = p.visit_context("Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0", "83.0.0.1", None)
    answer = asyncio.run(p.collect(site, Batch(write_key=site.write_key, anonymous_id=anon,
                                               events=list(events)), ctx))  # fmt: skip
    return answer.decisions


def identify(p: Pipeline, anon: str) -> int:
    if not hasattr(p, "_shop"):
        p._shop = p.add_site("Shop", [], key="seg-shop")  # type: ignore[attr-defined]
    ctx = p.visit_context("Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0", "83.0.0.1", None)
    result = asyncio.run(p.identify(p._shop, anon, {"email": f"{anon}@x.pl"}, ctx))  # type: ignore[attr-defined]
    assert result.lead is not None
    return result.lead


def ev(kind: str, url: str | None = None, at: str | None = None) -> Event:
    ts = datetime.fromisoformat(at).replace(tzinfo=UTC) if at else None
    return Event(id=uuid.uuid4().hex, type=kind, url=url, ts=ts)


def test_the_examples_of_the_mission_and_a_segment_trigger(fast: Pipeline) -> None:
    fast.publish_model("website", MODEL)
    for text in (MEETUP, SALE, HOT):
        item = parse_segment(text)
        fast.save_definition("segment", item.key, text)
    with receiver() as crm:
        hook = (f"key: fans\nwhen: {{segment: {{enters: meetup-fans}}}}\n"
                f"actions: [{{webhook: {{url: '{crm.url}', secret: '{SECRET}'}}}}]\n")  # fmt: skip
        fast.save_definition("automation", "fans", hook)
        ann = identify(fast, "ann")
        send(fast, "ann", ev("page_view", "https://s.example/meetup"),
             ev("page_view", "https://s.example/meetup?x=1"))  # fmt: skip
        client = TestClient(create_app(pipeline=fast))
        auth = {"Authorization": f"Bearer {fast.create_api_key('t')}"}

        def members(key: str, **params: Any) -> list[int]:
            r = client.get(f"/v1/segments/{key}/members", params=params, headers=auth)
            assert r.status_code == 200, r.text
            return [m["id"] for m in r.json()["items"]]

        assert members("meetup-fans") == []  # twice is not more than twice
        invite = (
            "key: invite\nwhen: {segment: meetup-fans}\nshow: {title: Join us, fields: [email]}\n"
        )
        fast.save_definition("offer", "invite", invite)
        assert send(fast, "ann", ev("page_view", "https://s.example/")) == []
        decided = send(fast, "ann", ev("page_view", "https://s.example/meetup/2026"))
        assert members("meetup-fans") == [ann]
        assert [d["key"] for d in decided] == ["invite"]  # the segment's offer, at once
        [got] = wait_for(lambda: crm.requests, "the segment webhook")
    assert got.json["trigger"] == {"kind": "segment", "segment": "meetup-fans", "move": "enters"}

    bob = identify(fast, "bob")  # PL by IP; adds to cart during the sale, and before it
    send(fast, "bob", ev("added_to_cart", at="2026-11-10T12:00:00"))
    assert members("sale-buyers-pl") == []
    send(fast, "bob", ev("added_to_cart", at="2026-11-21T12:00:00"))
    assert members("sale-buyers-pl") == [bob]

    # entering and leaving with the score: hot after 5 pages, cold after unsubscribing
    send(fast, "bob", *(ev("page_view", f"https://s.example/{i}") for i in range(5)))
    assert members("hot-now") == [bob]
    send(fast, "bob", ev("unsubscribed"))
    assert members("hot-now") == []
    page = client.get("/v1/segments/sale-buyers-pl/members", params={"limit": 1}, headers=auth)
    assert page.json()["next_after"] == bob
    assert client.get("/v1/segments/nope/members", headers=auth).status_code == 404


READERS = """key: deep-readers
name: Read a lot in one visit, and score well
when:
  all:
    - {metric: pages_viewed, per: session, gt: 3}
    - {model: website, gte: 20}
    - {not: {event: unsubscribed}}
    - {trait: plan, ne: enterprise}
"""


def test_segments_in_the_scoring_vocabulary(fast: Pipeline) -> None:
    fast.publish_model("website", MODEL)
    fast.save_definition("segment", "deep-readers", READERS)
    fast.save_definition("segment", "returning", "key: returning\nwhen: {metric: sessions, gte: 2}")
    cy = identify(fast, "cy")

    def inside() -> set[str]:
        with fast.engine.connect() as conn:
            return set(segment_store.current(conn, cy))

    for i in range(3):  # three pages in each of two visits: never more than three at once
        for visit in ("a", "b"):
            send(fast, "cy", Event(id=uuid.uuid4().hex, type="page_view", session_id=visit,
                                   url=f"https://s.example/{i}"))  # fmt: skip
    assert inside() == {"returning"}
    send(fast, "cy", Event(id=uuid.uuid4().hex, type="page_view", session_id="b"))
    assert inside() == {"returning", "deep-readers"}
    send(fast, "cy", ev("unsubscribed"))
    assert inside() == {"returning"}


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("key: a\nwhen: {cout: {type: x, gt: 1}}", "when.cout"),
        ("key: a\nwhen: {count: {type: x}}", "when.count"),
        ("key: a\nwhen: {count: {type: x, gt: 1, since: yesterday}}", "when.count.since"),
        ("key: a\nwhen: {all: []}", "when.all"),
        ("key: a\nwhen: {metric: pages, gt: 3}", "when.metric"),
        ("key: a\nwhen: {metric: sessions, per: session, gt: 3}", "when.per"),
        ("key: a\nwhen: {metric: events, per: visit, gt: 3}", "when.per"),
        ("key: a\nwhen: {metric: events}", "when"),
        ("key: a\nwhen: {model: website}", "when"),
    ],
)
def test_bad_segments_are_named(text: str, field: str) -> None:
    with pytest.raises(SegmentError) as err:
        parse_segment(text, "s.yaml")
    assert err.value.field == field
