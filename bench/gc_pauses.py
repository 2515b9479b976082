"""Garbage collection in the collector: Python's defaults against `leadpulse serve`'s policy.

    python bench/gc_pauses.py [--seconds 10] [--json PATH]

The scored collector (3 models × 30 rules, as in bench/score.py) under wrk at batch 1, twice
in one run:
- with Python's own collector settings: `create_app()`, as tests and embedding programs get;
- as `leadpulse serve` runs it: `create_app(server=True)`, which freezes what start-up made and
  lets young collections wait for 10,000 objects (web/gc_policy.py).
Each server counts its collections and their time with `gc.callbacks`, from the end of a 2-second
warm-up to the end of the load: the time collecting per request, and the p99 wrk saw.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Figure, free_port, fresh_database, run_wrk, server, write_figures
from score import model_source

from leadpulse.pipeline import Pipeline


class Collections:
    """Collections per generation and the seconds they took, from `gc.callbacks`."""

    def __init__(self) -> None:
        self.counts = [0, 0, 0]
        self.seconds = [0.0, 0.0, 0.0]
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        generation = info["generation"]
        self.counts[generation] += 1
        self.seconds[generation] += time.perf_counter() - self._started

    def reset(self, *_: Any) -> None:
        self.counts = [0, 0, 0]
        self.seconds = [0.0, 0.0, 0.0]


def serve(port: int, policy: bool, report: Path) -> None:
    """The server side: the app on uvicorn, as `leadpulse serve` starts it."""
    import uvicorn

    from leadpulse.web.app import create_app

    collections = Collections()
    signal.signal(signal.SIGUSR1, collections.reset)
    signal.signal(signal.SIGUSR2, lambda *_: report.write_text(json.dumps(vars(collections))))
    app = create_app(server=policy)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", loop="uvloop",
                http="httptools", access_log=False)  # fmt: skip


def measure(policy: bool, seconds: int) -> dict[str, float]:
    def models(pipeline: Pipeline) -> None:
        for k in range(3):
            pipeline.publish_model(f"m{k}", model_source(f"m{k}"))

    url, write_key = fresh_database(models)
    port = free_port()
    report = Path(tempfile.mkdtemp(prefix="lp-bench-gc-")) / "collections.json"
    cmd = [sys.executable, __file__, "--serve", str(port), "--report", str(report)]
    cmd += ["--policy"] if policy else []
    env = {"LEADPULSE_DATABASE_URL": url, "LEADPULSE_RATE_LIMIT_PER_MINUTE": "0"}
    with server(cmd, port, env) as proc:
        run_wrk(port, batch=1, write_key=write_key, seconds=2, connections=32)
        proc.send_signal(signal.SIGUSR1)
        result = run_wrk(port, batch=1, write_key=write_key, seconds=seconds, connections=32)
        proc.send_signal(signal.SIGUSR2)
        for _ in range(50):
            if report.exists():
                break
            time.sleep(0.1)
    found = json.loads(report.read_text())
    return {
        "rps": result.rps,
        "p99_ms": result.p99_ms,
        "gc_us": sum(found["seconds"]) * 1e6 / result.requests,
        "full": found["counts"][2],
        "young": found["counts"][0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    parser.add_argument("--serve", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--policy", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--report", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        serve(args.serve, args.policy, Path(args.report))
        return
    python = measure(False, args.seconds)
    served = measure(True, args.seconds)
    print("| collector batch 1, 3 models x 30 rules | Python's defaults | leadpulse serve |")
    print("|---|---:|---:|")
    for name, key, digits in (
        ("requests/s", "rps", 0),
        ("p99 (ms)", "p99_ms", 1),
        ("GC time per request (µs)", "gc_us", 1),
        ("full collections", "full", 0),
        ("young collections", "young", 0),
    ):
        print(f"| {name} | {python[key]:,.{digits}f} | {served[key]:,.{digits}f} |")  # fmt: skip
    baseline = (
        f"Python's defaults, same run: {python['gc_us']:.1f} µs, p99 {python['p99_ms']:.1f} ms"
    )
    write_figures(args.json, [
        Figure("collector batch 1, scored: garbage collection per request",
               f"{served['gc_us']:.1f} µs", served["gc_us"], "µs", baseline),
        Figure("collector batch 1, scored: p99 with leadpulse serve's GC policy",
               f"{served['p99_ms']:.1f} ms", served["p99_ms"], "ms",
               f"{python['p99_ms']:.1f} ms with Python's defaults"),
    ])  # fmt: skip


if __name__ == "__main__":
    os.environ.setdefault("LEADPULSE_LOG_LEVEL", "warning")
    main()
