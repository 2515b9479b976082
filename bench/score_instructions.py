"""What scoring adds to a collect request, counted in instructions instead of seconds.

    python bench/score_instructions.py [--seconds 30] [--visitors 250] [--json PATH]

bench/score.py measures the same share in requests per second, and this machine's speed swings
by ±20 % within minutes, more than most changes to scoring move it. Here `leadpulse serve` runs
under valgrind's callgrind, which counts the instructions the server executes: the same code
and load give the same count within about 3 %, whatever else the machine does. Two servers,
one without models and one with bench/score.py's 3 models × 30 rules, take wrk's load at batch
1 side by side. Counting starts after a warm-up (`callgrind_control --zero`) and ends with a
dump, so start-up is left out; the count is divided by the requests wrk saw answered.

`--visitors`: the visitors the load cycles through. bench/score.py's 10-second run sees each of
its 5,000 visitors about 12 times; under callgrind the server is ~50 times slower, so 250
visitors keep that mix (a visitor's first event costs more: its state is new and its trait
rules are looked at).

Instructions are not time: a cache miss costs many. In the server, a scored request has a
larger working set than a bare one, so the share in seconds is usually somewhat higher than
the share in instructions. Both are recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import (
    Figure,
    WrkResult,
    ensure_tool,
    free_port,
    fresh_database,
    run_wrk,
    wait_ready,
    write_figures,
)
from score import HOW, model_source

from leadpulse.pipeline import Pipeline

WARM_UP_SECONDS = 20


def no_models(_pipeline: Pipeline) -> None:
    return None


def three_models(pipeline: Pipeline) -> None:
    for k in range(3):
        pipeline.publish_model(f"m{k}", model_source(f"m{k}"))


def instructions_per_request(
    database: tuple[str, str], seconds: int, visitors: int, folder: Path
) -> float:
    """The collector under callgrind on `database` (url, write key)."""
    url, write_key = database
    port = free_port()
    out = folder / f"callgrind.{port}"
    env = {"LEADPULSE_DATABASE_URL": url, "LEADPULSE_RATE_LIMIT_PER_MINUTE": "0",
           "LEADPULSE_LOG_LEVEL": "warning"}  # fmt: skip
    command = [ensure_tool("valgrind"), "--tool=callgrind", f"--callgrind-out-file={out}",
               "--dump-instr=no", sys.executable, "-m", "leadpulse", "serve",
               "--port", str(port)]  # fmt: skip
    with (folder / f"valgrind.{port}.log").open("w") as log:
        proc = subprocess.Popen(command, env={**os.environ, **env}, stdout=log, stderr=log)
        try:
            wait_ready(f"http://127.0.0.1:{port}/health", timeout=600)

            def load(seconds: int) -> WrkResult:
                return run_wrk(port, batch=1, write_key=write_key, seconds=seconds,
                               connections=32, visitors=visitors)  # fmt: skip

            load(WARM_UP_SECONDS)
            subprocess.run(["callgrind_control", "--zero", str(proc.pid)], check=True,
                           capture_output=True)  # fmt: skip
            result = load(seconds)
            subprocess.run(["callgrind_control", "--dump", str(proc.pid)], check=True,
                           capture_output=True)  # fmt: skip
        finally:
            proc.terminate()
            proc.wait(timeout=120)
    # under callgrind a few of wrk's reads may time out; their work is counted, their request
    # is not: a bias below 1 % is tolerated
    if result.non2xx or not result.requests or result.errors > result.requests / 100:
        raise RuntimeError(f"the load failed: {result}")
    return _summary(out.with_name(out.name + ".1")) / result.requests


def _summary(dump: Path) -> int:
    """The instructions a callgrind dump counted (its `summary:` line)."""
    with dump.open() as lines:
        for line in lines:
            if line.startswith("summary:"):
                return int(line.split()[1])
    raise RuntimeError(f"no summary in {dump}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=30, help="the counted load, after warm-up")
    parser.add_argument("--visitors", type=int, default=250)
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args()
    counts: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="lp-callgrind-") as temp:

        def count(name: str) -> None:
            counts[name] = instructions_per_request(
                databases[name], args.seconds, args.visitors, Path(temp)
            )

        # the databases one after the other (migrations are not made for threads), then the
        # two servers side by side
        setups: dict[str, Callable[[Pipeline], None]] = {"bare": no_models, "scored": three_models}
        databases = {name: fresh_database(setup) for name, setup in setups.items()}
        runs = [threading.Thread(target=count, args=(name,)) for name in setups]
        for run in runs:
            run.start()
        for run in runs:
            run.join()
    if len(counts) != 2:
        raise SystemExit("a callgrind run failed (above)")
    bare, scored = counts["bare"], counts["scored"]
    added = scored / bare - 1
    print("| measure | instructions per request | goal |")
    print("|---|---:|---|")
    print(f"| collector batch 1, no models (ceiling) | {bare:,.0f} | — |")
    print(f"| collector batch 1, 3 models x 30 rules ({HOW}) | {scored:,.0f} | — |")
    print(f"| cost scoring adds per event, in instructions | {added:.0%} | at most 25 % |")
    write_figures(args.json, [
        Figure(f"collector batch 1 (SQLite): instructions 3 models × 30 rules add ({HOW})",
               f"{added:.0%}", added * 100, "%",
               f"{scored:,.0f} instructions a request scored, {bare:,.0f} without models",
               "at most 25 %", added <= 0.25),
    ])  # fmt: skip


if __name__ == "__main__":
    main()
