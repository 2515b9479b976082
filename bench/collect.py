"""Collector throughput and latency against the bare-endpoint ceiling, measured in one run.

    python bench/collect.py [--seconds 10] [--connections 32] [--database sqlite|postgresql]
                            [--database-url URL] [--workers N] [--no-models] [--json PATH]

Starts a bare Starlette endpoint and Leadpulse (uvicorn, uvloop + httptools; `--workers N`
processes each, PostgreSQL only for Leadpulse), drives both with wrk from a separate process on
loopback, and prints requests/s, events/s and p50/p99 latency at batch sizes 1 and 20, the
ratio to the ceiling, and how many events were verified persisted in the database afterwards.
Scoring is on: the three generated models of 30 rules each from bench/score.py are published
first (`--no-models` measures the collector without them). `--database postgresql` makes a
fresh database `lpbench_collect` on 127.0.0.1 and drops it afterwards. Goals (issues 2 and 8):
batch 20 ≥ 20,000 events/s persisted with scoring on; without models, batch 1 ≥ 40 % of the
bare endpoint's requests/s.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import (
    ROOT,
    Figure,
    WrkResult,
    free_port,
    number,
    postgres_database,
    run_wrk,
    server,
    uvicorn_cmd,
    write_figures,
)
from score import model_source

from leadpulse.core.settings import Settings
from leadpulse.pipeline import Pipeline
from leadpulse.store import migrate
from leadpulse.store.engine import create_engine
from leadpulse.store.schema import events

GOAL_EVENTS = 20_000
GOAL_RATIO_BATCH1 = 0.40


def _prepare(url: str, models: bool) -> str:
    engine = create_engine(url)
    migrate.upgrade(engine)
    pipeline = Pipeline(Settings(database_url=url), engine)
    pipeline.start()
    try:
        site = pipeline.add_site("Bench shop", [])
        if models:
            for k in range(3):
                pipeline.publish_model(f"m{k}", model_source(f"m{k}"))
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


@contextmanager
def _database(kind: str, url: str | None) -> Iterator[str]:
    if url:
        yield url
    elif kind == "postgresql":
        with postgres_database("lpbench_collect") as fresh:
            yield fresh
    else:
        yield f"sqlite:///{tempfile.mkdtemp(prefix='lp-bench-')}/bench.db"


def measure(
    url: str, *, workers: int, models: bool, seconds: int, connections: int
) -> tuple[list[tuple[int, WrkResult, WrkResult]], int, int]:
    """[(batch, ceiling, Leadpulse)], events acknowledged with 2xx, new rows in the database."""
    write_key = _prepare(url, models)
    bare_port = free_port()
    bare_cmd = uvicorn_cmd("bare_app:app", bare_port, workers=workers)
    with server(bare_cmd, bare_port, {"PYTHONPATH": str(ROOT / "bench")}):
        bare = {
            b: run_wrk(
                bare_port, batch=b, write_key=write_key, seconds=seconds, connections=connections
            )
            for b in (1, 20)
        }
    lp_port = free_port()
    env = {
        "LEADPULSE_DATABASE_URL": url,
        "LEADPULSE_RATE_LIMIT_PER_MINUTE": "0",
        "LEADPULSE_LOG_LEVEL": "warning",
    }
    cmd = [sys.executable, "-m", "leadpulse", "serve", "--port", str(lp_port)]
    if workers > 1:
        cmd += ["--workers", str(workers)]
    before = _stored(url)
    accepted = 0
    rows = []
    with server(cmd, lp_port, env):
        for b in (1, 20):
            r = run_wrk(lp_port, batch=b, write_key=write_key, seconds=seconds,
                        connections=connections)  # fmt: skip
            accepted += (r.requests - r.non2xx) * b
            rows.append((b, bare[b], r))
    return rows, accepted, _stored(url) - before


def figures(
    rows: list[tuple[int, WrkResult, WrkResult]],
    accepted: int,
    persisted: int,
    *,
    label: str,
    models: bool,
) -> list[Figure]:
    all_persisted = persisted >= accepted
    out = []
    for b, ceiling, r in rows:
        events_s = r.rps * b
        failed = r.non2xx + r.errors
        if b == 20 and models:
            goal = f"≥ {GOAL_EVENTS:,} events/s, all persisted"
            met: bool | None = events_s >= GOAL_EVENTS and all_persisted and not failed
        elif b == 1 and not models:
            goal = f"≥ {GOAL_RATIO_BATCH1:.0%} of the bare endpoint"
            met = r.rps >= GOAL_RATIO_BATCH1 * ceiling.rps and not failed
        else:
            goal, met = "—", None
        shown = f"{number(r.rps)} req/s" + (f" = {number(events_s)} events/s" if b > 1 else "")
        if failed:
            shown += f" ({failed:,} failed)"
        out.append(Figure(
            f"collector, {label}, batch {b}: throughput", shown, events_s, "events/s",
            f"bare {number(ceiling.rps)} req/s; {r.rps / ceiling.rps:.0%} of it", goal, met,
        ))  # fmt: skip
        out.append(Figure(
            f"collector, {label}, batch {b}: p50 / p99", f"{r.p50_ms:.1f} / {r.p99_ms:.1f} ms",
            r.p99_ms, "ms (p99)", f"bare {ceiling.p50_ms:.1f} / {ceiling.p99_ms:.1f} ms",
        ))  # fmt: skip
    out.append(Figure(
        f"collector, {label}: events persisted", f"{persisted:,} of {accepted:,} acknowledged",
        persisted, "events", "—", "every acknowledged event", all_persisted,
    ))  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--database-url", default=None, help="default: a fresh database")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--no-models", action="store_true", help="measure without scoring")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args()

    models = not args.no_models
    with _database(args.database, args.database_url) as url:
        db = "SQLite" if url.startswith("sqlite") else "PostgreSQL"
        rows, accepted, persisted = measure(
            url, workers=args.workers, models=models, seconds=args.seconds,
            connections=args.connections,
        )  # fmt: skip
    workers = f"{args.workers} worker" + ("s" if args.workers > 1 else "")
    print(
        f"# collect benchmark — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
        f"{os.cpu_count()} cores, {db}, {workers}, "
        f"{'3 models × 30 rules' if models else 'no models'}, "
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
        f"\nevents acknowledged with 2xx: {accepted:,}; new rows in the database: "
        f"{persisted:,} ({'all persisted' if persisted >= accepted else 'MISSING EVENTS'})"
    )
    print(f"goals: batch 20 ≥ {GOAL_EVENTS:,} events/s persisted with scoring on; "
          f"without models, batch 1 ratio ≥ {GOAL_RATIO_BATCH1:.0%}")  # fmt: skip
    label = f"{db} {workers}" + ("" if models else ", no models")
    write_figures(args.json, figures(rows, accepted, persisted, label=label, models=models))


if __name__ == "__main__":
    main()
