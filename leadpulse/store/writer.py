"""The single writer with group commit.

Every write goes through one thread that owns one connection. Callers hand it a *unit* — a
function of a `Connection` — and wait; the thread takes every unit queued while it was busy,
runs them in one transaction and commits once, then answers them all. So a 2xx can wait for its
commit (accepted means durable) while many requests share the cost of one commit.

If a unit raises, the transaction is rolled back and each unit of that group is re-run in a
transaction of its own, so one bad unit never takes the others down. Units must therefore only
touch the database, and leave in-memory state to their callers, after the answer.
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
Unit = Callable[[Connection], T]
log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Job:
    unit: Callable[[Connection], Any]
    done: Callable[[Any, BaseException | None], None]


_STOP = object()


class Writer:
    """Runs units of work on one connection, many per transaction."""

    def __init__(self, engine: Engine, max_units: int = 500) -> None:
        self._engine = engine
        self._max_units = max_units
        self._queue: queue.SimpleQueue[_Job | object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self.transactions = 0
        self.units = 0

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="leadpulse-writer", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Finish every queued unit, then stop the thread."""
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join()
            self._thread = None

    async def run(self, unit: Unit[T]) -> T:
        """Run `unit` in the next group transaction; return once it is committed."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[T] = loop.create_future()

        def done(result: Any, error: BaseException | None) -> None:
            loop.call_soon_threadsafe(_settle, fut, result, error)

        self._submit(_Job(unit, done))
        return await fut

    def run_sync(self, unit: Unit[T]) -> T:
        """Blocking form of `run` for threads (CLI, sync API handlers)."""
        fut: concurrent.futures.Future[T] = concurrent.futures.Future()

        def done(result: Any, error: BaseException | None) -> None:
            if error is None:
                fut.set_result(result)
            else:
                fut.set_exception(error)

        self._submit(_Job(unit, done))
        return fut.result()

    def _submit(self, job: _Job) -> None:
        if self._thread is None:
            raise RuntimeError("the writer is not started")
        self._queue.put(job)

    def _loop(self) -> None:
        conn = self._engine.connect()
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
            conn.close()

    def _run_group(self, conn: Connection, jobs: list[_Job]) -> Connection:
        results: list[Any] = []
        try:
            with conn.begin():
                for job in jobs:
                    results.append(job.unit(conn))
        except BaseException:
            conn = self._fresh(conn)
            for job in jobs:
                self._run_alone(conn, job)
            return conn
        self.transactions += 1
        self.units += len(jobs)
        for job, result in zip(jobs, results, strict=True):
            job.done(result, None)
        return conn

    def _run_alone(self, conn: Connection, job: _Job) -> None:
        try:
            with conn.begin():
                result = job.unit(conn)
        except Exception as exc:
            job.done(None, exc)
            return
        self.transactions += 1
        self.units += 1
        job.done(result, None)

    def _fresh(self, conn: Connection) -> Connection:
        """A connection that failed mid-commit may be unusable (e.g. PostgreSQL restarted)."""
        if not (conn.invalidated or conn.closed):
            return conn
        try:
            conn.close()
        except Exception:
            log.debug("closing a failed writer connection raised", exc_info=True)
        return self._engine.connect()


def _settle(fut: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if fut.cancelled():
        return
    if error is None:
        fut.set_result(result)
    else:
        fut.set_exception(error)
