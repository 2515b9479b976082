"""Where a rescore's pages are replayed and kept: here, or in a pool of processes.

Replaying a page (`scoring.replay`) only reads; keeping it (`scoring.keep`) takes the page's
locks, replays again any subject that changed meanwhile and writes. So pages can be replayed
side by side in other processes, each keeping its own pages through a writer of its own while
the others compute. Scoring is pure Python and holds the GIL, so threads would not help;
processes use every core.
"""

from __future__ import annotations

import signal
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from functools import partial
from multiprocessing import get_context
from typing import Protocol

from sqlalchemy.engine import Engine

from leadpulse.pipeline.scoring import keep, readable, replay
from leadpulse.scoring import Scorer
from leadpulse.store.engine import create_engine
from leadpulse.store.writer import Writer

Page = list[int]


class Replayer(Protocol):
    def pages(self, pages: Iterable[Page], *, leads: bool) -> Iterator[tuple[Page, int]]:
        """Each page replayed and kept, in the order given, with how many events it had."""
        ...

    def close(self) -> None: ...


class InProcess:
    """Pages replayed here one after the other and kept through the writer (small rescores,
    one core)."""

    def __init__(
        self,
        engine: Engine,
        writer: Writer,
        scorer: Scorer,
        primary: str | None,
        site_keys: Mapping[int, str],
        now: int,
    ) -> None:
        self._engine = engine
        self._writer = writer
        self._replay = partial(replay, scorer=scorer, site_keys=site_keys, now=now)
        self._keep = partial(keep, scorer=scorer, site_keys=site_keys, now=now, primary=primary)

    def pages(self, pages: Iterable[Page], *, leads: bool) -> Iterator[tuple[Page, int]]:
        for page in pages:
            with self._engine.connect() as conn:
                found = self._replay(conn, subjects=page, leads=leads)
            yield page, self._writer.run_sync(partial(self._keep, page=found, leads=leads))

    def close(self) -> None:
        """Nothing to let go of."""


class Pool:
    """Pages replayed and kept by `processes` processes, a few pages ahead of the one whose
    completion is reported.

    The processes are spawned, not forked: a server has threads (the writer, uvicorn's), which
    a fork would copy in whatever state they are in. Each builds the scorer once from the same
    model sources as this process's. A program that calls a rescore with processes must guard
    its main module (`if __name__ == "__main__":`), as spawning imports it again.
    """

    def __init__(
        self,
        url: str,
        sources: list[tuple[str, int, str]],
        averages: Mapping[str, Mapping[str, float]],
        primary: str | None,
        site_keys: Mapping[int, str],
        now: int,
        processes: int,
    ) -> None:
        self._executor = ProcessPoolExecutor(
            processes,
            mp_context=get_context("spawn"),
            initializer=_start,
            initargs=(url, sources, {k: dict(v) for k, v in averages.items()}, primary),
        )
        self._site_keys = dict(site_keys)
        self._now = now
        self._ahead = 2 * processes

    def pages(self, pages: Iterable[Page], *, leads: bool) -> Iterator[tuple[Page, int]]:
        waiting: deque[tuple[Page, Future[int]]] = deque()
        for page in pages:
            job = self._executor.submit(_replay_and_keep, page, leads, self._site_keys, self._now)
            waiting.append((page, job))
            if len(waiting) > self._ahead:
                done, events = waiting.popleft()
                yield done, events.result()
        while waiting:
            done, events = waiting.popleft()
            yield done, events.result()

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)


# -- in a pool's process ----------------------------------------------------------------------

_worker: tuple[Engine, Writer, Scorer, str | None] | None = None


def _start(
    url: str,
    sources: list[tuple[str, int, str]],
    averages: dict[str, dict[str, float]],
    primary: str | None,
) -> None:
    global _worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    engine = create_engine(url)
    writer = Writer(engine, max_units=1)  # its own: runs a page again after a deadlock
    writer.start()
    _worker = engine, writer, Scorer(readable(sources), averages), primary


def _replay_and_keep(page: Page, leads: bool, site_keys: dict[int, str], now: int) -> int:
    assert _worker is not None, "the pool's initializer has run"
    engine, writer, scorer, primary = _worker
    with engine.connect() as conn:
        found = replay(conn, scorer, page, leads=leads, site_keys=site_keys, now=now)
    return writer.run_sync(partial(keep, scorer=scorer, page=found, leads=leads,
                                   site_keys=site_keys, now=now, primary=primary))  # fmt: skip
