"""Scoring cost: incremental per event (3 models × 30 rules) and rescore throughput.

    python bench/score.py [--events 1000000] [--seconds 4] [--rounds 5] [--processes N]
                          [--keep-db FILE] [--json PATH]
    python bench/score.py --engine-only 12000     # the engine alone, e.g. under callgrind

1. The engine alone: events/s through `Scorer.apply_event` with 3 generated models of 30
   rules each (event, metric and trait rules mixed, as in docs/examples/models).
2. The collector with and without those models published, in the same run (wrk, batch 1):
   the share of the collector's cost that scoring adds. Goal: at most 25 %. Both servers are
   up at once and measured in turn, `--rounds` runs of `--seconds` each; the share is the
   median of the rounds' shares (harness.collector_rates: this machine's speed swings more
   within a minute than scoring's share).
3. Rescore: `--events` stored events replayed through the models by `--processes` processes
   (one per core by default, as `leadpulse rescore`), then once more in one process. Goal:
   100,000 events/s.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Figure, collector_rates, write_figures

from leadpulse.core.settings import Settings
from leadpulse.pipeline import Pipeline
from leadpulse.scoring import Happening, Published, Scorer, empty_state, native
from leadpulse.scoring import engine as scoring_engine
from leadpulse.scoring.parse import parse_model
from leadpulse.store import migrate
from leadpulse.store.engine import create_engine
from leadpulse.store.schema import events, visitors

HOW = "compiled with mypyc" if native.is_compiled(scoring_engine) else "as Python"
"""How the scoring engine runs here (scoring/native.py): every figure depends on it."""

ENGINE_GENERATED = 12_000
"""Events made up front by `--engine-only`: instructions per event under callgrind are
(run with 12,000 minus run with 2,000) / 10,000."""

TYPES = ["page_view", "page_ping", "scroll", "click", "form_start", "added_to_cart"]


def model_source(key: str) -> str:
    """30 rules: 12 event rules, 9 metric rules, 9 trait rules."""
    rules = []
    for i in range(12):
        kind = TYPES[i % len(TYPES)]
        rules.append(
            f"  - key: ev{i}\n    when: {{event: {kind}, where: {{url: {{matches: '*/p{i}*'}}}}}}\n"
            f"    points: {i % 5 + 1}\n    limit: {{times: 3, per: session}}"
        )
    metrics = ["pages_viewed", "engaged_seconds", "max_scroll"]
    for i in range(9):
        metric = metrics[i % 3]
        rules.append(
            f"  - key: m{i}\n    when: {{metric: {metric}, per: session, gt: {10 * (i + 1)}}}\n"
            f"    points: 3"
        )
    for i in range(9):
        rules.append(f"  - key: t{i}\n    when: {{trait: country, eq: C{i}}}\n    points: 2")
    header = (
        f"key: {key}\nname: {key}\nkind: mixed\ndecay: {{half_life_days: 14}}\n"
        "bands: {cold: 0, warm: 30, hot: 60}\nrules:\n"
    )
    return header + "\n".join(rules) + "\n"


def happenings(n: int, seed: int = 7) -> list[Happening]:
    rng = random.Random(seed)
    out = []
    ts = 1_763_800_000_000
    for i in range(n):
        ts += rng.randint(1000, 60_000)
        kind = rng.choice(TYPES)
        props = {"engaged_ms": 10_000} if kind == "page_ping" else {"depth": rng.randint(0, 100)}
        fields = {"url": f"https://shop.example/p{rng.randint(0, 20)}", "properties": props}
        out.append(Happening(f"e{i}", kind, ts, f"s{i // 40}", fields, "shop"))
    return out


def engine_rate(n: int, generated: int = 0) -> float:
    """Events/s of the engine alone over `n` events, out of `generated` made up front (the
    same for two runs under callgrind, so their difference is the engine's alone)."""
    scorer = Scorer([Published(parse_model(model_source(f"m{k}")), 1) for k in range(3)])
    evs = happenings(max(n, generated))[:n]
    traits = {"country": "C3", "channel": "paid_search"}
    state = empty_state()
    start = time.perf_counter()
    for e in evs:
        scorer.apply_event(state, e, traits)
    return n / (time.perf_counter() - start)


def collector_share(seconds: int, rounds: int) -> tuple[float, float, list[float]]:
    """Requests/s without and with the models (medians of `rounds` alternating runs), and
    what scoring adds in each round."""

    def models(pipeline: Pipeline) -> None:
        for k in range(3):
            pipeline.publish_model(f"m{k}", model_source(f"m{k}"))

    bare, scored = collector_rates([lambda _pipeline: None, models], seconds, rounds)
    shares = [b / s - 1 for b, s in zip(bare, scored, strict=True)]
    return statistics.median(bare), statistics.median(scored), shares


def rescore_rate(n: int, url: str | None = None, *processes: int) -> tuple[int, list[float]]:
    """`n` events stored (in `url`, default a fresh SQLite file) and rescored, once for each
    number of `processes` (default one): (events, events/s of each rescore)."""
    url = url or f"sqlite:///{tempfile.mkdtemp(prefix='lp-bench-')}/rescore.db"
    engine = create_engine(url)
    migrate.upgrade(engine)
    pipeline = Pipeline(Settings(database_url=url), engine)
    pipeline.start()
    site = pipeline.add_site("Bench", [])
    for k in range(3):
        pipeline.publish_model(f"m{k}", model_source(f"m{k}"))
    per_visitor = 50
    with engine.begin() as conn:
        conn.execute(
            sa.insert(visitors),
            [{"site_id": site.id, "anonymous_id": f"v{v}", "is_bot": False,
              "first_seen_at": 0, "last_seen_at": 0} for v in range(n // per_visitor)],
        )  # fmt: skip
        batch = []
        for i, h in enumerate(happenings(n)):
            batch.append({"site_id": site.id, "uid": h.uid, "visitor_id": i // per_visitor + 1,
                          "session_id": h.session_id, "type": h.type, "ts": h.ts,
                          "received_at": h.ts, "url": h.fields["url"],
                          "properties": h.fields["properties"], "is_bot": False})  # fmt: skip
            if len(batch) == 20_000:
                conn.execute(sa.insert(events), batch)
                batch = []
        if batch:
            conn.execute(sa.insert(events), batch)
    rates, replayed = [], 0
    for run_with in processes or (1,):
        start = time.perf_counter()
        _, replayed = pipeline.rescore(processes=run_with)
        rates.append(replayed / (time.perf_counter() - start))
    pipeline.stop()
    return replayed, rates


def figures(
    engine: float, bare: float, scored: float, added: float, replayed: int, rps: float,
    processes: int, one: float,
) -> list[Figure]:  # fmt: skip
    return [
        Figure(f"scoring engine alone, 3 models × 30 rules ({HOW})", f"{engine:,.0f} events/s",
               engine, "events/s"),
        Figure("collector batch 1 (SQLite): cost 3 models × 30 rules add", f"{added:.0%}",
               added * 100, "%", f"{scored:,.0f} req/s scored, {bare:,.0f} without models",
               "at most 25 %", added <= 0.25),
        Figure(f"rescore of {replayed:,} stored events (SQLite), {processes} processes",
               f"{rps:,.0f} events/s", rps, "events/s",
               f"engine alone {engine:,.0f} events/s in one process", "100,000 events/s",
               rps >= 100_000),
        Figure(f"the same rescore again in one process (replacing {replayed:,} events' ledger)",
               f"{one:,.0f} events/s", one, "events/s",
               f"engine alone {engine:,.0f} events/s"),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=4, help="each collector run")
    parser.add_argument("--rounds", type=int, default=5, help="collector runs of each kind")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1,
                        help="rescore processes (as leadpulse rescore: one per core)")  # fmt: skip
    parser.add_argument("--keep-db", default=None, help="rescore in this SQLite file and keep it")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    parser.add_argument(
        "--engine-only",
        type=int,
        default=None,
        metavar="N",
        help=f"only the engine over N of {ENGINE_GENERATED:,} events (for callgrind)",
    )
    args = parser.parse_args()
    if args.engine_only is not None:
        print(f"engine alone: {engine_rate(args.engine_only, ENGINE_GENERATED):,.0f} events/s")
        return
    rate = engine_rate(50_000)
    print("| measure | figure | goal |")
    print("|---|---:|---|")
    print(f"| engine alone, 3 models x 30 rules ({HOW}) | {rate:,.0f} events/s "
          f"({1e6 / rate:.1f} µs/event) | — |")  # fmt: skip
    bare, scored, shares = collector_share(args.seconds, args.rounds)
    added = statistics.median(shares)
    print(f"| collector batch 1, no models (ceiling) | {bare:,.0f} req/s | — |")
    print(f"| collector batch 1, 3 models x 30 rules | {scored:,.0f} req/s | — |")
    each = ", ".join(f"{share:.0%}" for share in shares)
    print(f"| cost scoring adds per event (median of rounds: {each}) | {added:.0%} "
          "| at most 25 % |")  # fmt: skip
    keep = f"sqlite:///{Path(args.keep_db).resolve()}" if args.keep_db else None
    replayed, (rps, one) = rescore_rate(args.events, keep, args.processes, 1)
    print(f"| rescore of {replayed:,} stored events, {args.processes} processes "
          f"| {rps:,.0f} events/s | 100,000 events/s |")  # fmt: skip
    print(f"| the same again, one process | {one:,.0f} events/s | — |")
    write_figures(args.json, figures(rate, bare, scored, added, replayed, rps, args.processes, one))


if __name__ == "__main__":
    main()
