"""Group commit: many units share a transaction; one failing unit does not sink the others; a
cut connection, an unreachable database and a deadlock between workers are lived through."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from leadpulse.store import locks
from leadpulse.store.engine import create_engine
from leadpulse.store.schema import api_keys
from leadpulse.store.writer import Writer
from tests.conftest import PG_SKIP, PG_URL


def _insert(name: str) -> object:
    def unit(conn: Connection) -> str:
        conn.execute(sa.insert(api_keys).values(name=name, prefix="p", key_hash=name, created_at=1))
        return name

    return unit


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(api_keys)).scalar_one())


def test_concurrent_units_share_transactions_and_all_commit(engine: Engine) -> None:
    writer = Writer(engine)
    writer.start()

    async def many() -> list[str]:
        return await asyncio.gather(*(writer.run(_insert(f"k{i}")) for i in range(300)))  # type: ignore[arg-type]

    try:
        results = asyncio.run(many())
    finally:
        writer.stop()
    assert sorted(results) == sorted(f"k{i}" for i in range(300))
    assert _count(engine) == 300
    assert writer.units == 300
    assert writer.transactions < 300  # grouped


def test_a_failing_unit_fails_alone(engine: Engine) -> None:
    writer = Writer(engine)
    writer.start()

    def boom(conn: Connection) -> None:
        _insert("doomed")(conn)  # type: ignore[operator]
        raise ValueError("bad unit")

    async def mixed() -> list[object]:
        jobs = [writer.run(_insert(f"ok{i}")) for i in range(20)]  # type: ignore[arg-type]
        jobs.insert(10, writer.run(boom))
        return await asyncio.gather(*jobs, return_exceptions=True)

    try:
        results = asyncio.run(mixed())
    finally:
        writer.stop()
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1
    assert str(errors[0]) == "bad unit"
    assert _count(engine) == 20  # the failed unit's own insert was rolled back


def test_run_sync_raises_the_units_error(engine: Engine) -> None:
    writer = Writer(engine)
    writer.start()
    try:
        with pytest.raises(ZeroDivisionError):
            writer.run_sync(lambda conn: 1 / 0)
        assert writer.run_sync(lambda conn: 42) == 42
    finally:
        writer.stop()


def test_stop_finishes_queued_work(engine: Engine) -> None:
    writer = Writer(engine)
    writer.start()
    writer.run_sync(_insert("a"))  # type: ignore[arg-type]
    writer.stop()
    assert _count(engine) == 1
    with pytest.raises(RuntimeError):
        writer.run_sync(lambda conn: None)


def test_on_the_event_loop_units_of_one_turn_share_a_transaction(engine: Engine) -> None:
    """The server's mode on SQLite; PostgreSQL keeps its thread even when given a loop."""
    writer = Writer(engine)

    async def serve() -> list[str]:
        writer.start(asyncio.get_running_loop())
        try:
            return await asyncio.gather(*(writer.run(_insert(f"k{i}")) for i in range(100)))  # type: ignore[arg-type]
        finally:
            writer.stop()

    results = asyncio.run(serve())
    assert len(results) == 100
    assert _count(engine) == 100
    if engine.dialect.name == "sqlite":
        assert writer.transactions == 1


def test_on_the_event_loop_other_threads_can_still_write(engine: Engine) -> None:
    writer = Writer(engine)

    async def serve() -> str:
        writer.start(asyncio.get_running_loop())
        try:
            return await asyncio.to_thread(writer.run_sync, _insert("from-a-thread"))  # type: ignore[arg-type]
        finally:
            writer.stop()

    assert asyncio.run(serve()) == "from-a-thread"
    assert _count(engine) == 1


pg_only = [pytest.mark.postgres, pytest.mark.skipif(not PG_URL, reason=PG_SKIP)]


@pytest.mark.parametrize("db_url", [pytest.param("postgresql", marks=pg_only)], indirect=True)
def test_the_writer_connects_again_when_its_connection_is_cut(engine: Engine) -> None:
    """PostgreSQL restarted (here: the writer's backend terminated): the next unit runs on a
    new connection, by itself."""
    writer = Writer(engine)
    writer.start()
    try:
        pid = writer.run_sync(
            lambda conn: conn.execute(sa.text("SELECT pg_backend_pid()")).scalar()
        )
        with engine.connect() as admin:
            admin.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        assert writer.run_sync(_insert("after"))
        again = writer.run_sync(
            lambda conn: conn.execute(sa.text("SELECT pg_backend_pid()")).scalar()
        )
    finally:
        writer.stop()
    assert again != pid
    assert _count(engine) == 1


def test_a_database_out_of_reach_fails_each_unit_and_the_writer_goes_on() -> None:
    """Nothing listens on port 1: every unit fails with the driver's error (the web layer's
    503) rather than hanging, and the writer thread is still there for the next one."""
    writer = Writer(create_engine("postgresql://postgres@127.0.0.1:1/none"))
    writer.start()
    try:
        for _ in range(2):
            with pytest.raises(OperationalError):
                writer.run_sync(lambda conn: conn.execute(sa.text("SELECT 1")).scalar())
        assert writer.running
    finally:
        writer.stop()


@pytest.mark.parametrize("db_url", [pytest.param("postgresql", marks=pg_only)], indirect=True)
def test_a_deadlock_between_two_writers_is_run_again(engine: Engine) -> None:
    """Two workers' units take two leads' locks in opposite orders; PostgreSQL fails one side
    of the deadlock, and the writer runs that unit again: both succeed."""
    both = threading.Barrier(2)

    def unit(first: str, second: str) -> Callable[[Connection], str]:
        tries = 0

        def run(conn: Connection) -> str:
            nonlocal tries
            tries += 1
            locks.hold(conn, first)
            if tries == 1:
                both.wait(10)
                time.sleep(0.2)
            locks.hold(conn, second)
            return first

        return run

    writers = [Writer(engine), Writer(engine)]
    for w in writers:
        w.start()
    results: list[object] = []

    def go(w: Writer, first: str, second: str) -> None:
        try:
            results.append(w.run_sync(unit(first, second)))
        except Exception as exc:  # recorded for the assertion below
            results.append(exc)

    threads = [
        threading.Thread(target=go, args=(writers[0], "lead:1", "lead:2")),
        threading.Thread(target=go, args=(writers[1], "lead:2", "lead:1")),
    ]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        for w in writers:
            w.stop()
    assert sorted(map(str, results)) == ["lead:1", "lead:2"]


def test_two_step_units_run_their_first_steps_then_their_second_steps(engine: Engine) -> None:
    """A group runs consecutive two-step units' first steps back to back, then their second
    steps (each on its own first step's result); a plain unit waits for the second steps
    before it, so it sees everything queued ahead of it done."""
    writer = Writer(engine)
    order: list[str] = []

    def first(name: str) -> Callable[[Connection], str]:
        def step(conn: Connection) -> str:
            order.append(f"{name}.1")
            return name

        return step

    def second(conn: Connection, name: str) -> str:
        order.append(f"{name}.2")
        return name.upper()

    def plain(conn: Connection) -> str:
        order.append("plain")
        return "plain"

    async def serve() -> list[str]:
        writer.start(asyncio.get_running_loop())
        try:
            return await asyncio.gather(
                writer.run_in_two_steps(first("a"), second),
                writer.run_in_two_steps(first("b"), second),
                writer.run(plain),
                writer.run_in_two_steps(first("c"), second),
            )
        finally:
            writer.stop()

    assert asyncio.run(serve()) == ["A", "B", "plain", "C"]
    assert order == ["a.1", "b.1", "a.2", "b.2", "plain", "c.1", "c.2"]
    if engine.dialect.name == "sqlite":
        assert writer.transactions == 1


def test_a_failing_second_step_fails_its_unit_alone(engine: Engine) -> None:
    """The group is rolled back and each unit runs again alone, both its steps."""
    writer = Writer(engine)

    def second(conn: Connection, name: str) -> str:
        if name == "doomed":
            raise ValueError("bad second step")
        return name

    async def serve() -> list[object]:
        writer.start(asyncio.get_running_loop())
        try:
            return await asyncio.gather(
                *(writer.run_in_two_steps(_insert(n), second)  # type: ignore[arg-type]
                  for n in ("k1", "doomed", "k2")),
                return_exceptions=True,
            )  # fmt: skip
        finally:
            writer.stop()

    results = asyncio.run(serve())
    assert results[0] == "k1" and results[2] == "k2"
    assert isinstance(results[1], ValueError)
    assert _count(engine) == 2  # the doomed unit's first step was rolled back with it
