"""The fault tests' load generator: tracker batches at a fixed rate over keep-alive sockets.

Run as its own process (`python tests/faults/loadgen.py --help`) so that the server, the load
and the test's checks do not share an interpreter. Batch `i` is due at `start + i × interval`;
`--connections` sockets each take the next due batch, POST it to `/v1/collect` and read the
answer (plain HTTP/1.1, no client library in the way). A batch answered 2xx is acknowledged:
its event ids go to `--acked`, one a line. A batch that gets no answer or a non-2xx answer is
sent again after `--retry-pause` seconds, up to `--retries` times, as the tracker would.

It stops by itself: no batch starts after `--max-seconds`, and every request has a timeout. A
summary (counts by status and by error, batches acknowledged, sent, left unsent) is written to
`--summary` as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import orjson

_TYPES = ("page_view", "page_view", "page_view", "scroll", "click")
_BROWSER = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
"""A browser's user agent: without one a visitor is taken for a bot and is not scored."""


@dataclass
class Load:
    host: str
    port: int
    write_key: str
    run: str
    batch: int
    batches: int
    interval: float
    visitors: int
    hot: int
    timeout: float
    retries: int
    retry_pause: float
    deadline: float
    seed: int
    statuses: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    acked: list[int] = field(default_factory=list)
    attempts: dict[int, int] = field(default_factory=dict)
    given_up: int = 0
    first_error_at: float | None = None
    last_error_at: float | None = None
    last_ok_at: float | None = None
    outstanding: int = 0
    produced: bool = False
    done: asyncio.Event = field(default_factory=asyncio.Event)
    resends: set[asyncio.Task[None]] = field(default_factory=set)

    def finished_one(self, count: int = 1) -> None:
        """A batch was acknowledged or given up; `done` once all queued ones are."""
        self.outstanding -= count
        if self.produced and self.outstanding == 0:
            self.done.set()


def visitor_id(run: str, visitor: int) -> str:
    return f"{run}-v{visitor}"


def event_ids(run: str, index: int, size: int) -> list[str]:
    return [f"{run}-{index}-{j}" for j in range(size)]


def body(load: Load, index: int) -> bytes:
    """Batch `index`: the same bytes on every retry (the tracker resends what it had)."""
    rng = random.Random(load.seed * 1_000_003 + index)
    # One batch in four goes to the few hot visitors, so that batches of one visitor (or lead)
    # arrive at once on different connections and workers.
    visitor = rng.randrange(load.hot) if load.hot and rng.random() < 0.25 else None
    visitor = rng.randrange(load.visitors) if visitor is None else visitor
    events = []
    for j, uid in enumerate(event_ids(load.run, index, load.batch)):
        kind = _TYPES[rng.randrange(len(_TYPES))]
        event: dict[str, object] = {
            "id": uid,
            "type": kind,
            "session_id": f"{load.run}-s{visitor}-{index // 200}",
            "url": f"https://shop.example/p/{(index + j) % 50}",
        }
        if kind == "scroll":
            event["depth"] = rng.choice((25, 50, 80, 100))
        if kind == "click":
            event["properties"] = {"target": "buy"}
        events.append(event)
    return orjson.dumps(
        {
            "write_key": load.write_key,
            "anonymous_id": visitor_id(load.run, visitor),
            "events": events,
        }
    )


class Connection:
    """One keep-alive HTTP/1.1 connection, opened again after any failure."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, payload: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = (
            f"POST {path} HTTP/1.1\r\nhost: {self.host}:{self.port}\r\n"
            f"user-agent: {_BROWSER}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(payload)}\r\n\r\n"
        )
        self.writer.write(head.encode() + payload)
        await self.writer.drain()
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("the server closed the connection")
        status = int(status_line.split()[1])
        length = 0
        close = False
        chunked = False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            name = name.strip().lower()
            value = value.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "connection" and value == "close":
                close = True
            elif name == "transfer-encoding" and "chunked" in value:
                chunked = True
        answer = await (self._chunks() if chunked else self.reader.readexactly(length))
        if close:
            self.close()
        return status, answer

    async def _chunks(self) -> bytes:
        assert self.reader is not None
        parts = []
        while True:
            size = int((await self.reader.readline()).split(b";")[0], 16)
            if size == 0:
                await self.reader.readline()
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readline()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def _worker(load: Load, queue: asyncio.Queue[int]) -> None:
    conn = Connection(load.host, load.port)
    try:
        while True:
            index = await queue.get()
            await _send(load, conn, index, queue)
    finally:
        conn.close()


async def _send(load: Load, conn: Connection, index: int, queue: asyncio.Queue[int]) -> None:
    load.attempts[index] = load.attempts.get(index, 0) + 1
    failure: str | None = None
    try:
        status, answer = await asyncio.wait_for(
            conn.post("/v1/collect", body(load, index)), load.timeout
        )
    except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
        conn.close()
        failure = type(exc).__name__
    else:
        load.statuses[str(status)] += 1
        if 200 <= status < 300:
            stored = orjson.loads(answer)
            if stored.get("accepted", 0) + stored.get("duplicates", 0) == load.batch:
                load.acked.append(index)
                load.last_ok_at = time.monotonic()
                load.finished_one()
                return
            failure = "short_answer"
        else:
            failure = f"http_{status}"
    now = time.monotonic()
    load.errors[failure] += 1
    load.first_error_at = load.first_error_at or now
    load.last_error_at = now
    if load.attempts[index] > load.retries:
        load.given_up += 1
        load.finished_one()
        return
    if failure.startswith("Connection"):
        await asyncio.sleep(load.retry_pause)  # the server is away: do not spin on this socket
    task = asyncio.create_task(_resend_later(load, index, queue))
    load.resends.add(task)
    task.add_done_callback(load.resends.discard)


async def _resend_later(load: Load, index: int, queue: asyncio.Queue[int]) -> None:
    await asyncio.sleep(load.retry_pause)
    queue.put_nowait(index)


async def _produce(load: Load, queue: asyncio.Queue[int], start: float) -> int:
    """Queue batch i at start + i × interval; returns how many were queued."""
    for index in range(load.batches):
        due = start + index * load.interval
        now = time.monotonic()
        if now >= load.deadline:
            return index
        if due > now:
            await asyncio.sleep(due - now)
        load.outstanding += 1
        queue.put_nowait(index)
    return load.batches


async def run(load: Load, connections: int) -> dict[str, object]:
    queue: asyncio.Queue[int] = asyncio.Queue()
    start = time.monotonic()
    workers = [asyncio.create_task(_worker(load, queue)) for _ in range(connections)]
    queued = await _produce(load, queue, start)
    load.produced = True
    load.finished_one(0)
    # At the deadline whatever is still in flight is left unanswered.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(load.done.wait(), max(0.0, load.deadline - time.monotonic()))
    for task in [*workers, *load.resends]:
        task.cancel()
    await asyncio.gather(*workers, *load.resends, return_exceptions=True)
    finished = time.monotonic()
    return {
        "batch": load.batch,
        "batches_offered": load.batches,
        "batches_queued": queued,
        "batches_acked": len(load.acked),
        "batches_given_up": load.given_up,
        "batches_unsent": load.batches - len(load.attempts),
        "events_acked": len(load.acked) * load.batch,
        "statuses": dict(load.statuses),
        "errors": dict(load.errors),
        "seconds": round(finished - start, 2),
        "first_error_s": _since(start, load.first_error_at),
        "last_error_s": _since(start, load.last_error_at),
        "last_ok_s": _since(start, load.last_ok_at),
    }


def _since(start: float, at: float | None) -> float | None:
    return None if at is None else round(at - start, 2)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--write-key", required=True)
    p.add_argument("--run", required=True, help="prefix of every event id (unique per run)")
    p.add_argument("--events", type=int, required=True)
    p.add_argument("--seconds", type=float, required=True, help="offer them over this time")
    p.add_argument("--batch", type=int, default=20)
    p.add_argument("--visitors", type=int, default=500)
    p.add_argument("--hot", type=int, default=0, help="visitors 0..HOT-1 get a quarter of it")
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--timeout", type=float, default=15.0, help="per request")
    p.add_argument("--retries", type=int, default=0)
    p.add_argument("--retry-pause", type=float, default=0.5)
    p.add_argument("--max-seconds", type=float, required=True, help="no batch starts after it")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--acked", type=Path, required=True)
    p.add_argument("--summary", type=Path, required=True)
    a = p.parse_args()
    batches = a.events // a.batch
    load = Load(
        host=a.host, port=a.port, write_key=a.write_key, run=a.run, batch=a.batch,
        batches=batches, interval=a.seconds / batches, visitors=a.visitors, hot=a.hot,
        timeout=a.timeout,
        retries=a.retries, retry_pause=a.retry_pause,
        deadline=time.monotonic() + a.max_seconds, seed=a.seed,
    )  # fmt: skip
    summary = asyncio.run(run(load, a.connections))
    with a.acked.open("w") as out:
        for index in sorted(load.acked):
            out.writelines(uid + "\n" for uid in event_ids(a.run, index, a.batch))
    a.summary.write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
