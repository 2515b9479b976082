"""Several workers on one PostgreSQL database (`serve --workers N`): each worker has a writer,
caches and a dispatcher of its own, as two `Pipeline`s here have. Events for one lead arriving
at once on both lose no score update, a visitor identified on one worker is known as such on
the other, an event sent to both is stored and scored once, one new email identified on both
makes one lead, two dispatchers deliver each message once, and the minute's work is done
once."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from leadpulse.collect.schema import Batch, Event
from leadpulse.core import clock
from leadpulse.core.settings import Settings
from leadpulse.core.types import Site
from leadpulse.pipeline import Pipeline
from leadpulse.store.engine import create_engine
from leadpulse.store.schema import automation_firings, events, leads, outbox, score_ledger, visitors
from tests.automate.receiver import receiver
from tests.automate.support import SECRET, wait_for
from tests.conftest import PG_SKIP, PG_URL

pytestmark = [pytest.mark.postgres, pytest.mark.skipif(not PG_URL, reason=PG_SKIP)]

ONE_PER_VIEW = """
key: website
bands: {cold: 0, warm: 30, hot: 60}
rules:
  - key: view
    when: {event: page_view}
    points: 1
"""
UA = "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0"


@pytest.fixture
def workers(settings: Settings, engine: Engine) -> Iterator[tuple[Pipeline, Pipeline]]:
    """Two workers of one database, each with its own engine (connections), writer and caches."""
    assert settings.database_url.startswith("postgresql")
    pair = [Pipeline(settings, create_engine(settings.database_url)) for _ in range(2)]
    for p in pair:
        p.start()
    try:
        yield pair[0], pair[1]
    finally:
        for p in pair:
            p.stop()
            p.engine.dispose()


@pytest.fixture(params=["postgresql"])
def db_url(request: pytest.FixtureRequest, db_url: str) -> str:
    """Only PostgreSQL: a SQLite file has one writer, and `serve --workers` refuses it."""
    return db_url


def _scored_shop(a: Pipeline, b: Pipeline) -> Site:
    """A site, and a model published on worker A that worker B has loaded too."""
    a.publish_model("website", ONE_PER_VIEW)
    b.scoring.refresh(force=True)
    return a.add_site("Shop", [], key="shop")


def _views(p: Pipeline, site: Site, anon: str, ids: list[str]) -> None:
    ctx = p.visit_context(UA, None, None)
    views = [Event(id=i, type="page_view", url="https://s.example/") for i in ids]
    batch = Batch(write_key=site.write_key, anonymous_id=anon, events=views)
    asyncio.run(p.collect(site, batch, ctx))


def _at_once(jobs: list[Callable[[], Any]]) -> None:
    """Run the jobs on threads released together; re-raise the first failure."""
    start = threading.Barrier(len(jobs))
    failures: list[BaseException] = []

    def run(job: Callable[[], Any]) -> None:
        start.wait()
        try:
            job()
        except BaseException as exc:  # collected for the test thread
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "a worker hung"
    if failures:
        raise failures[0]


def _count(engine: Engine, query: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def test_events_for_one_lead_on_two_workers_lose_no_points(
    workers: tuple[Pipeline, Pipeline], engine: Engine
) -> None:
    a, b = workers
    site = _scored_shop(a, b)
    ctx = a.visit_context(UA, None, None)
    # one person on two devices, both known: the lead has two visitors
    lead = asyncio.run(a.identify(site, "phone", {"email": "ann@example.com"}, ctx)).lead
    assert asyncio.run(b.identify(site, "laptop", {"email": "ann@example.com"}, ctx)).lead == lead
    rounds, per_round = 30, 3
    jobs: list[Callable[[], Any]] = []
    for worker in (a, b):
        for anon in ("phone", "laptop"):
            ids = [uuid.uuid4().hex for _ in range(rounds * per_round)]
            chunks = [ids[i : i + per_round] for i in range(0, len(ids), per_round)]
            jobs.append(lambda w=worker, an=anon, cs=chunks: [_views(w, site, an, c) for c in cs])
    _at_once(jobs)

    sent = 4 * rounds * per_round
    assert _count(engine, sa.select(sa.func.count()).select_from(events)) == sent
    ledger = sa.select(sa.func.count()).where(score_ledger.c.lead_id == lead)
    assert _count(engine, ledger) == sent
    with engine.connect() as conn:
        score = conn.execute(sa.select(leads.c.score).where(leads.c.id == lead)).scalar_one()
    assert score == sent, "a worker overwrote the other's points"


def test_a_visitor_identified_on_another_worker_scores_for_its_lead(
    workers: tuple[Pipeline, Pipeline], engine: Engine
) -> None:
    """Worker A remembers the visitor as anonymous; worker B identifies it. A's next events
    must go to the lead, not to the forgotten anonymous visitor."""
    a, b = workers
    site = _scored_shop(a, b)
    _views(a, site, "anon", [uuid.uuid4().hex])
    lead = asyncio.run(b.identify(site, "anon", {"email": "ann@example.com"},
                                  b.visit_context(UA, None, None))).lead  # fmt: skip
    _views(a, site, "anon", [uuid.uuid4().hex for _ in range(5)])
    with engine.connect() as conn:
        owners = conn.execute(sa.select(events.c.lead_id).distinct()).scalars().all()
        score = conn.execute(sa.select(leads.c.score).where(leads.c.id == lead)).scalar_one()
    assert owners == [lead]
    assert score == 6


def test_one_event_sent_to_two_workers_is_stored_and_scored_once(
    workers: tuple[Pipeline, Pipeline], engine: Engine
) -> None:
    a, b = workers
    site = _scored_shop(a, b)
    ids = [uuid.uuid4().hex for _ in range(40)]
    # the tracker retries a batch it got no answer for, and the retry lands on the other worker
    _at_once([lambda w=w, i=i: _views(w, site, "anon", [i]) for i in ids for w in (a, b)])
    assert _count(engine, sa.select(sa.func.count()).select_from(events)) == len(ids)
    assert _count(engine, sa.select(sa.func.count()).select_from(score_ledger)) == len(ids)
    assert _count(engine, sa.select(sa.func.count()).select_from(visitors)) == 1


def test_one_new_email_identified_on_two_workers_makes_one_lead(
    workers: tuple[Pipeline, Pipeline], engine: Engine
) -> None:
    a, b = workers
    site = a.add_site("Shop", [], key="shop")
    ctx = a.visit_context(UA, None, None)
    people = [f"p{i}@example.com" for i in range(15)]
    jobs: list[Callable[[], Any]] = []
    for email in people:
        for worker, device in ((a, "phone"), (b, "laptop")):
            anon = f"{device}-{email}"
            jobs.append(lambda w=worker, an=anon, e=email: asyncio.run(
                w.identify(site, an, {"email": e}, ctx)))  # fmt: skip
    _at_once(jobs)
    alive = sa.select(sa.func.count()).select_from(leads).where(leads.c.merged_into.is_(None))
    assert _count(engine, alive) == len(people)
    with engine.connect() as conn:
        owners = conn.execute(
            sa.select(visitors.c.anonymous_id, leads.c.email)
            .join(leads, leads.c.id == visitors.c.lead_id)
        ).all()  # fmt: skip
    assert len(owners) == 2 * len(people)
    assert all(anon.endswith(email) for anon, email in owners)


def test_two_dispatchers_deliver_each_message_once(
    workers: tuple[Pipeline, Pipeline], engine: Engine
) -> None:
    a, b = workers
    site = _scored_shop(a, b)
    ctx = a.visit_context(UA, None, None)
    n = 60
    with receiver() as crm:
        a.save_definition("automation", "hot", (
            "key: hot\nwhen: {score: {model: website, above: 1}}\ncooldown_minutes: 60\n"
            f"actions:\n  - webhook: {{url: '{crm.url}', secret: '{SECRET}'}}\n"
        ))  # fmt: skip
        b.automate.refresh(force=True)
        for i in range(n):
            asyncio.run(a.identify(site, f"v{i}", {"email": f"v{i}@example.com"}, ctx))
            _views(a, site, f"v{i}", [uuid.uuid4().hex, uuid.uuid4().hex])
        a.start_dispatcher()
        b.start_dispatcher()
        wait_for(lambda: len(crm.requests) >= n or None, f"{n} webhooks", timeout=60)
        wait_for(lambda: _delivered(engine) == n or None, "the outbox marked", timeout=30)
        ids = [r.headers["webhook-id"] for r in crm.requests]
    assert len(ids) == n
    assert len(set(ids)) == n, "a message was delivered twice"


def _delivered(engine: Engine) -> int:
    query = sa.select(sa.func.count()).select_from(outbox).where(outbox.c.status == "delivered")
    return _count(engine, query)


def test_the_minute_tick_on_two_workers_fires_once(
    workers: tuple[Pipeline, Pipeline], engine: Engine
) -> None:
    a, b = workers
    start = clock.now_ms()
    clock.set_clock(lambda: start)
    try:
        site = a.add_site("Shop", [], key="shop")
        ctx = a.visit_context(UA, None, None)
        n = 40
        for i in range(n):
            asyncio.run(a.identify(site, f"q{i}", {"email": f"q{i}@example.com"}, ctx))
        a.save_definition("automation", "quiet", (
            "key: quiet\nwhen: {inactive: {days: 14}}\ncooldown_minutes: 0\n"
            "actions:\n  - task: {kind: call, note: 'call back'}\n"
        ))  # fmt: skip
        b.automate.refresh(force=True)
        clock.set_clock(lambda: start + 15 * 86_400_000)
        for _ in range(3):
            _at_once([a.tick, b.tick])
    finally:
        clock.set_clock(None)
    fired = sa.select(sa.func.count()).select_from(automation_firings)
    assert _count(engine, fired) == n


def test_a_visitor_deleted_on_another_worker_comes_back_as_a_new_one(
    workers: tuple[Pipeline, Pipeline], engine: Engine
) -> None:
    """Worker A remembers a visitor that worker B's retention deletes; A's next request for it
    makes a new visitor rather than failing on the deleted one."""
    a, b = workers
    site = a.add_site("Shop", [], key="shop")
    _views(a, site, "anon", [uuid.uuid4().hex])
    start = clock.now_ms()
    clock.set_clock(lambda: start + 40 * 86_400_000)
    try:
        assert b.prune_anonymous(30) == (1, 1)
        _views(a, site, "anon", [uuid.uuid4().hex])
    finally:
        clock.set_clock(None)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(visitors)).scalar() == 1
        assert conn.execute(sa.select(sa.func.count()).select_from(events)).scalar() == 1
