"""An open-loop load generator for `POST /v1/collect`: requests leave on a fixed schedule
(`--rate` a second), whatever the server does, and each latency is counted from the request's
scheduled time, not from when it actually left — a stalled server makes the waiting requests
late and that lateness is in the figures (no coordinated omission).

    python bench/sender.py --port PORT --write-key KEY [--rate 500] [--seconds 20]
                           [--warmup 2] [--connections 64] [--json PATH]

Runs as a process of its own (asyncio on uvloop, raw HTTP/1.1 over keep-alive connections, a
pool of `--connections`; a request that finds them all busy waits for one, on the clock).
Every request is one page view from a "windows on credit" ad for one of 1,000 visitors.
Prints (and writes with `--json`) the latency percentiles over the requests scheduled after
the warm-up, the rate actually achieved, how late the sender itself was to start requests (its
own lag: a busy machine's, not the server's), and how many answers carried scores and
decisions.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import uvloop

URL = "https://shop.example/windows?utm_source=google&utm_medium=cpc&utm_term=windows+on+credit"
AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


@dataclass
class Tally:
    latencies_ms: list[float] = field(default_factory=list)
    lateness_ms: list[float] = field(default_factory=list)
    ok: int = 0
    failed: int = 0
    with_scores: int = 0
    with_decisions: int = 0


@dataclass(frozen=True)
class Report:
    rate: float
    scheduled: int
    ok: int
    failed: int
    with_scores: int
    with_decisions: int
    achieved_rate: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    send_late_p99_ms: float


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def request_bytes(port: int, write_key: str, run: str, i: int) -> bytes:
    visitor = i % 1000
    body = json.dumps({
        "write_key": write_key,
        "events": [{"id": f"{run}-{i}", "type": "page_view", "anonymous_id": f"v{run}-{visitor}",
                    "session_id": f"s{run}-{visitor}", "url": URL,
                    "referrer": "https://www.google.com/"}],
    }).encode()  # fmt: skip
    head = (
        f"POST /v1/collect HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: {AGENT}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def exchange(self, data: bytes) -> tuple[int, bytes]:
        self.writer.write(data)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length = next(
            int(line.split(":", 1)[1])
            for line in lines
            if line.lower().startswith("content-length:")
        )
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


async def send(args: argparse.Namespace) -> Report:
    clock = time.perf_counter  # the loop's own clock counts whole milliseconds (uvloop)
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(args.connections):
        pool.put_nowait(await Connection.open(args.port))
    run = uuid.uuid4().hex[:8]
    total = int(args.rate * (args.warmup + args.seconds))
    counted_from = int(args.rate * args.warmup)
    tally = Tally()

    async def one(i: int, at: float) -> None:
        began = clock()
        data = request_bytes(args.port, args.write_key, run, i)
        conn = await pool.get()
        try:
            status, body = await conn.exchange(data)
        except (OSError, asyncio.IncompleteReadError, ValueError, StopIteration):
            conn.close()
            conn = await Connection.open(args.port)
            status, body = 0, b""
        pool.put_nowait(conn)
        done = clock()
        if i < counted_from:
            return
        tally.latencies_ms.append((done - at) * 1000)
        tally.lateness_ms.append((began - at) * 1000)
        if status != 200:
            tally.failed += 1
            return
        tally.ok += 1
        answer = json.loads(body)
        tally.with_scores += bool(answer.get("scores"))
        tally.with_decisions += bool(answer.get("decisions"))

    start = clock() + 0.1
    tasks = []
    for i in range(total):
        at = start + i / args.rate
        delay = at - clock()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, at)))
    await asyncio.gather(*tasks)
    finished = clock()
    while not pool.empty():
        pool.get_nowait().close()
    counted = total - counted_from
    lat = tally.latencies_ms
    return Report(
        rate=args.rate,
        scheduled=counted,
        ok=tally.ok,
        failed=tally.failed,
        with_scores=tally.with_scores,
        with_decisions=tally.with_decisions,
        achieved_rate=counted / (finished - (start + args.warmup)),
        p50_ms=statistics.median(lat) if lat else float("nan"),
        p99_ms=percentile(lat, 99),
        max_ms=max(lat, default=float("nan")),
        send_late_p99_ms=percentile(tally.lateness_ms, 99),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--write-key", required=True)
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    report = uvloop.run(send(args))
    print(
        f"{report.scheduled:,} requests at {report.rate:,.0f}/s "
        f"(achieved {report.achieved_rate:,.0f}/s): "
        f"p50 {report.p50_ms:.1f} ms, p99 {report.p99_ms:.1f} ms, max {report.max_ms:.1f} ms; "
        f"sender's own lag p99 {report.send_late_p99_ms:.1f} ms; failed {report.failed}; "
        f"with scores {report.with_scores:,}, with decisions {report.with_decisions:,}"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(asdict(report)) + "\n")


if __name__ == "__main__":
    main()
