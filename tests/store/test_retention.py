"""Retention: `leadpulse prune --anonymous-days N` deletes anonymous visitors quiet for N days
with their raw events and scores; known leads and recent visitors stay, and a pruned visitor
who comes back is a new one."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from leadpulse.collect.schema import Batch, Event
from leadpulse.core import clock
from leadpulse.core.errors import InvalidInput
from leadpulse.core.types import Site
from leadpulse.pipeline import Pipeline
from leadpulse.store.schema import events, leads, visitors
from tests.cli_runner import leadpulse

DAY = 86_400_000
MODEL = "key: website\nrules:\n  - {key: view, when: {event: page_view}, points: 1}\n"


@pytest.fixture
def start() -> Iterator[int]:
    at = clock.now_ms()
    clock.set_clock(lambda: at)
    yield at
    clock.set_clock(None)


def _views(p: Pipeline, site: Site, anon: str, n: int) -> None:
    ctx = p.visit_context("Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0", None, None)
    views = [
        Event(id=uuid.uuid4().hex, type="page_view", url="https://s.example/") for _ in range(n)
    ]
    asyncio.run(
        p.collect(site, Batch(write_key=site.write_key, anonymous_id=anon, events=views), ctx)
    )


def _anons(engine: Engine) -> dict[str, int]:
    """Each visitor's anonymous id with its number of events."""
    query = (
        sa.select(visitors.c.anonymous_id, sa.func.count(events.c.id))
        .join(events, events.c.visitor_id == visitors.c.id, isouter=True)
        .group_by(visitors.c.anonymous_id)
    )
    with engine.connect() as conn:
        return {a: n for a, n in conn.execute(query)}


def test_quiet_anonymous_visitors_go_with_their_events(
    pipeline: Pipeline, engine: Engine, start: int
) -> None:
    pipeline.publish_model("website", MODEL)
    site = pipeline.add_site("Shop", [], key="shop")
    _views(pipeline, site, "gone", 3)
    _views(pipeline, site, "known", 2)
    ctx = pipeline.visit_context("Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0", None, None)
    asyncio.run(pipeline.identify(site, "known", {"email": "kim@example.com"}, ctx))
    clock.set_clock(lambda: start + 10 * DAY)
    _views(pipeline, site, "fresh", 1)

    assert pipeline.prune_anonymous(7) == (1, 3)
    assert _anons(engine) == {"known": 2, "fresh": 1}
    with engine.connect() as conn:
        scored = [sa.select(t.c.id).where(t.c.score_state.is_not(None)) for t in (visitors, leads)]
        assert len(conn.execute(sa.union_all(*scored)).all()) == 2  # "fresh" and the lead's
    assert pipeline.prune_anonymous(7) == (0, 0)

    _views(pipeline, site, "gone", 1)  # back after being forgotten: a new visitor
    assert _anons(engine) == {"known": 2, "fresh": 1, "gone": 1}


def test_retention_keeps_at_least_a_day(pipeline: Pipeline) -> None:
    with pytest.raises(InvalidInput, match="at least 1 day"):
        pipeline.prune_anonymous(0.5)


def test_the_prune_command(db_url: str, engine: Engine) -> None:
    done = leadpulse(db_url, "prune", "--anonymous-days", "30")
    assert "deleted 0 anonymous visitors and their 0 events" in done.stdout
    refused = leadpulse(db_url, "prune", "--anonymous-days", "0", ok=False)
    assert refused.returncode != 0
    assert "at least 1 day" in refused.stderr
