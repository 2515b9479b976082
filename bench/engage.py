"""Offers and personalisation: the tracker's size, and what deciding costs per request.

    python bench/engage.py [--seconds 10] [--json PATH]

1. tracker.js: the source, as served (whole-line comments and indentation dropped) and served
   gzipped. Goal: under 8 KB gzipped.
2. `engage.decide` alone for the four example definitions (2 offers, 2 personalisations).
3. The collector at batch 1 with the website-behaviour model, without and with those four
   definitions, in the same run: the share of the collector's cost that deciding adds. Every
   request of the load is a page view from a "windows on credit" ad, so the personalisation
   matches and its decision is rendered on every request.
"""

from __future__ import annotations

import argparse
import gzip
import sys
import time
from importlib import resources
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Figure, collector_rate, write_figures

from leadpulse import demo
from leadpulse.engage import decide, parse_definition
from leadpulse.pipeline import Pipeline
from leadpulse.web.assets import tracker_source

GOAL_GZIPPED = 8 * 1024


def tracker_size() -> tuple[int, int, int]:
    """Source bytes, served bytes (comment lines and indentation dropped), served gzipped."""
    source = resources.files("leadpulse.web").joinpath("static", "t.js").read_bytes()
    served = tracker_source()
    return len(source), len(served), len(gzip.compress(served, compresslevel=9, mtime=0))


def decide_rate(n: int) -> float:
    items = [parse_definition(kind, demo.example(path), path) for kind, path in demo.DEFINITIONS]
    view = {"keyword": "windows on credit", "channel": "paid_search", "country": "PL",
            "page": "https://shop.example/pricing", "traits": {}, "score": {"website": 70},
            "band": {"website": "hot"}, "stage": {"website": "sql"}}  # fmt: skip
    start = time.perf_counter()
    for i in range(n):
        decide(items, view, {}, f"v{i}", "s1", 1_800_000_000_000)
    return n / (time.perf_counter() - start)


def with_definitions(pipeline: Pipeline) -> None:
    website(pipeline)
    for kind, path in demo.DEFINITIONS:
        text = demo.example(path)
        pipeline.save_definition(kind, parse_definition(kind, text, path).key, text)


def website(pipeline: Pipeline) -> None:
    for path in demo.MODELS:
        pipeline.publish_model("website", demo.example(path))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args()
    raw, served, zipped = tracker_size()
    rate = decide_rate(50_000)
    row("measure", "figure", "goal or ceiling")
    print("|---|---:|---|")
    row(
        "tracker.js: source / served / served gzipped",
        f"{raw:,} B / {served:,} B / {zipped:,} B",
        f"under {GOAL_GZIPPED:,} B gzipped",
    )
    row("decide(), 4 definitions", f"{rate:,.0f} visitors/s ({1e6 / rate:.1f} µs)", "—")
    bare = collector_rate(website, args.seconds)
    engaged = collector_rate(with_definitions, args.seconds)
    for name, r in (("no definitions (ceiling)", bare), ("+ 4 definitions", engaged)):
        row(
            f"collector batch 1, website model, {name}",
            f"{r.rps:,.0f} req/s, p99 {r.p99_ms:.0f} ms",
            "—",
        )
    row("cost deciding adds per request", f"{bare.rps / engaged.rps - 1:.0%}", "—")
    write_figures(args.json, [
        Figure("tracker.js served, gzipped", f"{zipped:,} B", zipped, "B",
               f"{served:,} B served, {raw:,} B source", f"under {GOAL_GZIPPED:,} B",
               zipped < GOAL_GZIPPED),
        Figure("decide(), 4 definitions", f"{rate:,.0f} visitors/s", rate, "visitors/s"),
        Figure("collector batch 1 (SQLite, website model): cost 4 definitions add",
               f"{bare.rps / engaged.rps - 1:.0%}", (bare.rps / engaged.rps - 1) * 100, "%",
               f"{engaged.rps:,.0f} req/s with them, {bare.rps:,.0f} without"),
    ])  # fmt: skip


def row(*cells: str) -> None:
    print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
