"""Collector throughput and latency against the bare-endpoint ceiling, measured in one run.

    python bench/collect.py [--seconds 10] [--connections 32] [--database-url URL]

Starts a bare Starlette endpoint and Leadpulse (each one uvicorn process, uvloop + httptools),
drives both with wrk from a separate process on loopback, and prints requests/s, events/s and
p50/p99 latency at batch sizes 1 and 20, the ratio to the ceiling, and how many events were
verified persisted in the database afterwards. Goals (issue 2): batch 1 ≥ 40 % of the bare
endpoint's requests/s; batch 20 ≥ 20,000 events/s persisted.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import ROOT, free_port, run_wrk, server, uvicorn_cmd

from leadpulse.core.settings import Settings
from leadpulse.pipeline import Pipeline
from leadpulse.store import migrate
from leadpulse.store.engine import create_engine
from leadpulse.store.schema import events


def _prepare(url: str) -> str:
    engine = create_engine(url)
    migrate.upgrade(engine)
    pipeline = Pipeline(Settings(database_url=url), engine)
    pipeline.start()
    try:
        site = pipeline.add_site("Bench shop", [])
    finally:
        pipeline.stop()
    engine.dispose()
    return site.write_key


def _stored(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        n = int(conn.execute(sa.select(sa.func.count()).select_from(events)).scalar_one())
    engine.dispose()
    return n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="lp-bench-")
    url = args.database_url or f"sqlite:///{tmp}/bench.db"
    write_key = _prepare(url)
    rows = []
    bare_port = free_port()
    with server(
        uvicorn_cmd("bare_app:app", bare_port), bare_port, {"PYTHONPATH": str(ROOT / "bench")}
    ):
        bare = {
            b: run_wrk(
                bare_port,
                batch=b,
                write_key=write_key,
                seconds=args.seconds,
                connections=args.connections,
            )
            for b in (1, 20)
        }
    lp_port = free_port()
    env = {
        "LEADPULSE_DATABASE_URL": url,
        "LEADPULSE_RATE_LIMIT_PER_MINUTE": "0",
        "LEADPULSE_LOG_LEVEL": "warning",
    }
    before = _stored(url)
    accepted_total = 0
    with server([sys.executable, "-m", "leadpulse", "serve", "--port", str(lp_port)], lp_port, env):
        for b in (1, 20):
            r = run_wrk(
                lp_port,
                batch=b,
                write_key=write_key,
                seconds=args.seconds,
                connections=args.connections,
            )
            accepted_total += (r.requests - r.non2xx) * b
            rows.append((b, bare[b], r))
    persisted = _stored(url) - before

    print(
        f"# collect benchmark — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
        f"{os.cpu_count()} cores, {'SQLite' if url.startswith('sqlite') else 'PostgreSQL'}, "
        f"wrk 1 thread × {args.connections} connections × {args.seconds} s"
    )
    columns = ["batch", "bare req/s (ceiling)", "Leadpulse req/s", "ratio", "events/s"]
    columns += ["p50 ms", "p99 ms", "bare p50 / p99 ms", "non-2xx"]
    print("| " + " | ".join(columns) + " |")
    print("|" + "---:|" * len(columns))
    for b, ceiling, r in rows:
        print(
            f"| {b} | {ceiling.rps:,.0f} | {r.rps:,.0f} | {r.rps / ceiling.rps:.0%} | "
            f"{r.rps * b:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | "
            f"{ceiling.p50_ms:.2f} / {ceiling.p99_ms:.2f} | {r.non2xx + r.errors} |"
        )
    print(
        f"\nevents acknowledged with 2xx: {accepted_total:,}; new rows in the database: "
        f"{persisted:,} ({'all persisted' if persisted >= accepted_total else 'MISSING EVENTS'})"
    )
    print("goals: batch 1 ratio ≥ 40 %; batch 20 ≥ 20,000 events/s persisted")


if __name__ == "__main__":
    main()
