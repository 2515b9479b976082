"""Group commit: many units share a transaction; one failing unit does not sink the others."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from leadpulse.store.schema import api_keys
from leadpulse.store.writer import Writer


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
