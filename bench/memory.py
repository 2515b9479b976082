"""Memory of the server with a million events stored, after serving traffic.

    python bench/memory.py [--database-url sqlite:///FILE] [--events 1000000] [--seconds 10]
                           [--json PATH]

Without `--database-url` it first stores `--events` events in a fresh SQLite file the way
bench/score.py's rescore does (20,000 visitors of 50 events, the three 30-rule models
published) and rescores them; bench/all.py passes the file score.py kept. Then `leadpulse
serve` runs on that file and wrk sends collect requests (batch 1, then batch 20, `--seconds`
each, scoring on); VmRSS and VmHWM (the peak) of the server process are read from /proc right
after it started and after the traffic. Ceiling: the bare endpoint's process after the same
traffic, in the same run — what Python, uvicorn and the load cost alone.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import (
    ROOT,
    Figure,
    free_port,
    memory_kib,
    run_wrk,
    server,
    uvicorn_cmd,
    write_figures,
)
from score import rescore_rate

from leadpulse.store.engine import create_engine
from leadpulse.store.schema import events, sites

ENV = {"LEADPULSE_RATE_LIMIT_PER_MINUTE": "0", "LEADPULSE_LOG_LEVEL": "warning"}


def _contents(url: str) -> tuple[int, str]:
    engine = create_engine(url)
    with engine.connect() as conn:
        n = int(conn.execute(sa.select(sa.func.count()).select_from(events)).scalar_one())
        key = str(conn.execute(sa.select(sites.c.write_key).limit(1)).scalar_one())
    engine.dispose()
    return n, key


def _traffic(port: int, write_key: str, seconds: int) -> int:
    sent = 0
    for batch in (1, 20):
        r = run_wrk(port, batch=batch, write_key=write_key, seconds=seconds, connections=32)
        sent += (r.requests - r.non2xx) * batch
    return sent


def measure(url: str, seconds: int) -> list[Figure]:
    stored, write_key = _contents(url)
    bare_port = free_port()
    with server(uvicorn_cmd("bare_app:app", bare_port), bare_port,
                {"PYTHONPATH": str(ROOT / "bench")}) as proc:  # fmt: skip
        _traffic(bare_port, write_key, seconds)
        bare = memory_kib(proc.pid)
    port = free_port()
    cmd = [sys.executable, "-m", "leadpulse", "serve", "--port", str(port)]
    with server(cmd, port, {**ENV, "LEADPULSE_DATABASE_URL": url}) as proc:
        started = memory_kib(proc.pid)
        sent = _traffic(port, write_key, seconds)
        after = memory_kib(proc.pid)
    mib = 1024
    return [
        Figure(
            f"server memory, {stored:,} events stored (SQLite), after {sent:,} more: RSS / peak",
            f"{after['VmRSS'] / mib:,.0f} / {after['VmHWM'] / mib:,.0f} MiB",
            after["VmHWM"] / mib,
            "MiB (peak)",
            f"bare endpoint {bare['VmRSS'] / mib:,.0f} / {bare['VmHWM'] / mib:,.0f} MiB; "
            f"Leadpulse at start {started['VmRSS'] / mib:,.0f} MiB",
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args()
    url = args.database_url
    if url is None:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='lp-bench-')}/memory.db"
        rescore_rate(args.events, url)
    figures = measure(url, args.seconds)
    for f in figures:
        print(f"| {f.measure} | {f.figure} | {f.ceiling} |")
    write_figures(args.json, figures)


if __name__ == "__main__":
    main()
