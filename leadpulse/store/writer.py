"""The single writer with group commit.

Every write goes through one writer that owns one connection. Callers hand it a *unit* — a
function of a `Connection` — and wait; the writer takes every unit queued while it was busy,
runs them in one transaction and commits once, then answers them all. So a 2xx can wait for its
commit (accepted means durable) while many requests share the cost of one commit.

Two ways to run, one contract:
- **on the event loop** (the server on SQLite): units queued during one turn of the loop are
  flushed by one callback at the end of that turn. SQLite statements take microseconds and a
  WAL commit does not fsync, so this is cheaper than handing work to a thread, whose GIL
  hand-offs cost more than the SQL (measured: docs/benchmarks.md).
- **on threads of its own** (PostgreSQL, whose round trips must not block the loop; and the
  CLI, which has no loop). On PostgreSQL a writer has a few connections, each a thread taking
  the next group: a unit spends most of its time waiting for round trips, so groups on several
  connections overlap. The locks that keep several workers correct (store.locks) keep these
  correct too.

A unit may come in two steps (`run_in_two_steps`): a group runs the first steps of its
consecutive two-step units, then their second steps, so that work of one kind runs back to
back while its code and data are still in the CPU's caches. A collect request stores its
events in the first step and scores them in the second.

If a unit raises, the transaction is rolled back and each unit of that group is re-run in a
transaction of its own, so one bad unit never takes the others down. Units must therefore only
touch the database, and leave in-memory state to their callers, after the answer. A unit that
PostgreSQL failed as one side of a deadlock between workers (store.locks) is run again.

When the database cannot be reached (PostgreSQL restarting), the units of that moment fail with
the driver's error, which callers answer as 503 — nothing is acknowledged that was not
committed — and the writer connects again for the next group, by itself.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.engine import Connection, Engine

T = TypeVar("T")
A = TypeVar("A")
Unit = Callable[[Connection], T]
Outcome = tuple[Any, BaseException | None]
log = logging.getLogger(__name__)

_ATTEMPTS = 3
"""Runs of a unit alone, when PostgreSQL failed the earlier ones to break a deadlock."""

_RETRYABLE = frozenset({"40P01", "40001"})
"""SQLSTATEs of a deadlock and of a serialization failure: running again succeeds."""


@dataclass(slots=True)
class _Job:
    unit: Callable[[Connection], Any]
    future: asyncio.Future[Any] | concurrent.futures.Future[Any]
    loop: asyncio.AbstractEventLoop | None = None
    second: Callable[[Connection, Any], Any] | None = None
    """A two-step unit's second step (`Writer.run_in_two_steps`)."""


_STOP = object()


class Writer:
    """Runs units of work on one connection (SQLite) or a few (PostgreSQL), many units per
    transaction."""

    def __init__(self, engine: Engine, max_units: int = 500, connections: int = 1) -> None:
        self._engine = engine
        self._max_units = max_units
        self._connections = 1 if engine.dialect.name == "sqlite" else max(1, connections)
        self._queue: queue.SimpleQueue[_Job | object] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: list[_Job] = []
        self._conn: Connection | None = None
        self.transactions = 0
        self.units = 0

    @property
    def running(self) -> bool:
        return bool(self._threads) or self._loop is not None

    def start(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Start writing; on SQLite, given the server's `loop`, write on that loop."""
        if self.running:
            return
        if loop is not None and self._engine.dialect.name == "sqlite":
            self._loop = loop
            return
        for n in range(self._connections):
            thread = threading.Thread(target=self._drain, name=f"leadpulse-writer-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Finish every queued unit, then stop."""
        for _ in self._threads:
            self._queue.put(_STOP)
        for thread in self._threads:
            thread.join()
        self._threads = []
        if self._loop is not None:
            self._flush()
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            self._loop = None

    async def run(self, unit: Unit[T]) -> T:
        """Run `unit` in the next group transaction; return once it is committed."""
        result: T = await self._run(unit, None)
        return result

    async def run_in_two_steps(self, first: Unit[A], second: Callable[[Connection, A], T]) -> T:
        """`run` for the unit `second(conn, first(conn))`. In a group, consecutive two-step
        units run their first steps one after another, then their second steps: work of one
        kind back to back keeps its code and data in the CPU's caches (a collect request
        stores its events, then scores them: docs/decisions.md). Between a unit's two steps
        only other units' first steps run, in the same transaction."""
        result: T = await self._run(first, second)
        return result

    async def _run(self, unit: Unit[Any], second: Callable[[Connection, Any], Any] | None) -> Any:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Any] = loop.create_future()
        if self._loop is loop:
            self._enqueue(_Job(unit, fut, None, second))
        else:
            self._submit(_Job(unit, fut, loop, second))
        return await fut

    def run_sync(self, unit: Unit[T]) -> T:
        """Blocking form of `run` for other threads (CLI, sync API handlers, tests)."""
        fut: concurrent.futures.Future[T] = concurrent.futures.Future()
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._enqueue, _Job(unit, fut))
        else:
            self._submit(_Job(unit, fut))
        return fut.result()

    # -- on the event loop ---------------------------------------------------------------

    def _enqueue(self, job: _Job) -> None:
        self._pending.append(job)
        if len(self._pending) == 1 and self._loop is not None:
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        while self._pending:
            jobs = self._pending[: self._max_units]
            del self._pending[: self._max_units]
            self._conn = self._run_group(self._conn, jobs)

    # -- on a thread ---------------------------------------------------------------------

    def _submit(self, job: _Job) -> None:
        if not self._threads:
            raise RuntimeError("the writer is not started")
        self._queue.put(job)

    def _drain(self) -> None:
        conn: Connection | None = None
        try:
            while True:
                first = self._queue.get()
                if first is _STOP:
                    return
                jobs: list[_Job] = [first]  # type: ignore[list-item]
                stop = False
                while len(jobs) < self._max_units:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is _STOP:
                        stop = True
                        break
                    jobs.append(item)  # type: ignore[arg-type]
                conn = self._run_group(conn, jobs)
                if stop:
                    return
        finally:
            if conn is not None:
                conn.close()

    # -- either way ----------------------------------------------------------------------

    def _run_group(self, conn: Connection | None, jobs: list[_Job]) -> Connection | None:
        try:
            conn = self._usable(conn)
        except Exception as exc:  # the database cannot be reached: each caller hears it
            log.warning("the writer cannot reach the database: %s", exc)
            _answer(jobs, [(None, exc)] * len(jobs))
            return None
        results: list[Any] = []
        try:
            with conn.begin():
                halfway: list[int] = []  # two-step units whose second step is still to run
                for job in jobs:
                    if job.second is None:
                        _second_steps(conn, jobs, results, halfway)
                    results.append(job.unit(conn))
                    if job.second is not None:
                        halfway.append(len(results) - 1)
                _second_steps(conn, jobs, results, halfway)
        except Exception:
            # Re-run one by one so that only the failing unit fails.
            outcomes = []
            for job in jobs:
                conn, outcome = self._run_alone(conn, job)
                outcomes.append(outcome)
        else:
            self.transactions += 1
            self.units += len(jobs)
            outcomes = [(result, None) for result in results]
        _answer(jobs, outcomes)
        return conn

    def _run_alone(self, conn: Connection | None, job: _Job) -> tuple[Connection | None, Outcome]:
        attempt = 1
        while True:
            try:
                conn = self._usable(conn)
                with conn.begin():
                    result = job.unit(conn)
                    if job.second is not None:
                        result = job.second(conn, result)
            except Exception as exc:  # handed to the waiting caller
                if attempt < _ATTEMPTS and _sqlstate(exc) in _RETRYABLE:
                    attempt += 1
                    continue
                return conn, (None, exc)
            self.transactions += 1
            self.units += 1
            return conn, (result, None)

    def _usable(self, conn: Connection | None) -> Connection:
        """The connection, or a new one when it broke (the database restarted, say)."""
        if conn is not None and not (conn.invalidated or conn.closed):
            return conn
        if conn is not None:
            try:
                conn.close()
            except Exception:
                log.debug("closing a failed writer connection raised", exc_info=True)
        return self._engine.connect()


def _second_steps(
    conn: Connection, jobs: list[_Job], results: list[Any], halfway: list[int]
) -> None:
    """Run the second steps of the two-step units at `halfway` (indexes into `jobs`), each on
    its first step's result, which its result replaces."""
    for i in halfway:
        second = jobs[i].second
        assert second is not None
        results[i] = second(conn, results[i])
    halfway.clear()


def _sqlstate(exc: BaseException) -> str | None:
    return getattr(getattr(exc, "orig", None), "sqlstate", None)


def _answer(jobs: list[_Job], outcomes: list[Outcome]) -> None:
    """Settle every waiting caller; one wake-up per other event loop, not one per unit."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Outcome]]] = {}
    for job, outcome in zip(jobs, outcomes, strict=True):
        if job.loop is None:
            _settle(job.future, outcome)
        else:
            by_loop.setdefault(job.loop, []).append((job.future, outcome))  # type: ignore[arg-type]
    for loop, settled in by_loop.items():
        loop.call_soon_threadsafe(_settle_all, settled)


def _settle_all(settled: list[tuple[asyncio.Future[Any], Outcome]]) -> None:
    for fut, outcome in settled:
        _settle(fut, outcome)


def _settle(fut: asyncio.Future[Any] | concurrent.futures.Future[Any], outcome: Outcome) -> None:
    if fut.cancelled():
        return
    result, error = outcome
    if error is None:
        fut.set_result(result)
    else:
        fut.set_exception(error)
