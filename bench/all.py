"""Every benchmark in bench/, one after the other, and one table of their figures at the end.

    python bench/all.py [--quick] [--only collect,latency,…] [--json PATH]

What `make bench` runs. Each benchmark is a process of its own (`python bench/X.py … --json
FILE`); its own output streams through as it runs, and the figures it wrote are gathered into
one Markdown table: measure | figure | ceiling (same run) | goal | met. Every ceiling was
measured in the same run as its figure, because this machine's speed drifts; the load average
before and after each step is printed under the table. About 15 minutes by default (learn.py
leaves its 200,000-row file out; run it alone for that); `--quick` runs shorter loads on
smaller data in a few minutes (its figures are for checking, not for docs/benchmarks.md).
PostgreSQL is expected at 127.0.0.1 (user postgres, trust); the collector benchmark makes and
drops a database named lpbench_collect there.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Figure, load_average, markdown, read_figures, write_figures

HERE = Path(__file__).resolve().parent


def steps(quick: bool, events_db: Path, only: set[str]) -> list[tuple[str, str, list[str]]]:
    """(group, script, arguments) in the order they run."""
    seconds = "3" if quick else "10"
    events = "200000" if quick else "1000000"
    collect = ["--seconds", seconds]
    # memory.py measures on the events score.py stored, or stores them itself if that is left out
    stored = (
        ["--events", events]
        if only and "score" not in only
        else ["--database-url", f"sqlite:///{events_db}"]
    )
    return [
        ("collect", "collect.py", [*collect, "--database", "sqlite"]),
        ("collect", "collect.py", [*collect, "--database", "postgresql"]),
        ("collect", "collect.py", [*collect, "--database", "postgresql", "--workers", "2"]),
        ("latency", "latency.py",
         ["--seconds", "5", "--leads", "50"] if quick else ["--seconds", "20", "--leads", "200"]),
        ("score", "score.py",
         ["--events", events, "--seconds", seconds, "--keep-db", str(events_db)]),
        ("score", "score_instructions.py", ["--seconds", "15" if quick else "30"]),
        ("gc", "gc_pauses.py", ["--seconds", seconds]),
        ("memory", "memory.py", [*stored, "--seconds", seconds]),
        ("engage", "engage.py", ["--seconds", seconds]),
        ("dashboard", "dashboard.py", ["--runs", "5" if quick else "30"]),
        ("learn", "learn.py", ["--rows", "0"]),
    ]  # fmt: skip


def run_step(script: str, arguments: list[str], out: Path) -> tuple[list[Figure], str]:
    """Run one benchmark; its figures, and a line saying how long it took under what load."""
    command = [sys.executable, str(HERE / script), *arguments, "--json", str(out)]
    print(f"\n### {' '.join([Path(command[1]).name, *arguments])}", flush=True)
    load_before = load_average()
    started = time.monotonic()
    code = subprocess.run(command, check=False).returncode
    took = time.monotonic() - started
    note = (f"{script} {' '.join(a for a in arguments if '/' not in a)}: {took:.0f} s, "
            f"load average {load_before} before, {load_average()} after")  # fmt: skip
    if code != 0 or not out.exists():
        failed = Figure(f"{script} {' '.join(arguments)}", f"failed (exit code {code})",
                        float("nan"), "", met=False)  # fmt: skip
        return [failed], note + " — FAILED"
    return read_figures(out), note


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter loads, smaller data")
    parser.add_argument("--only", default="", help="comma-separated groups, e.g. collect,latency")
    parser.add_argument("--json", default=None, help="also write every figure to this file")
    args = parser.parse_args()
    only = {g for g in args.only.split(",") if g}
    started = time.monotonic()
    began = datetime.now(UTC)
    load_start = load_average()
    figures: list[Figure] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="lp-bench-all-") as tmp:
        events_db = Path(tmp) / "events.db"
        for i, (group, script, arguments) in enumerate(steps(args.quick, events_db, only)):
            if only and group not in only:
                continue
            found, note = run_step(script, arguments, Path(tmp) / f"{i}.json")
            figures += found
            notes.append(note)
    minutes = (time.monotonic() - started) / 60
    print(
        f"\n## make bench{' --quick' if args.quick else ''} — {began:%Y-%m-%d %H:%M} UTC, "
        f"{platform.node()}, {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; {minutes:.0f} min; load average (1 / 5 / 15 min) "
        f"{load_start} at the start, {load_average()} at the end\n"
    )
    print(markdown(figures))
    print("\nSteps (load average before and after each):")
    for note in notes:
        print(f"- {note}")
    write_figures(args.json, figures)
    if args.json:
        print(f"\nfigures written to {args.json} ({len(figures)} rows)")
    missed = [f.measure for f in figures if f.met is False]
    print(f"\ngoals not met: {len(missed)}" + (f" ({'; '.join(missed)})" if missed else ""))


if __name__ == "__main__":
    main()
