"""Latency end to end: event → score → decision at a fixed rate, and event → webhook.

    python bench/latency.py [--rate 500] [--seconds 20] [--leads 200] [--json PATH]

1. Event to decision. `leadpulse serve` on a fresh SQLite file with the website-behaviour model
   and the four example definitions (2 offers, 2 personalisations) published; bench/sender.py, a
   process of its own, posts one page view per request on a fixed schedule of `--rate`
   requests/s (open loop: latency counted from each request's scheduled time). The collect
   answer carries the updated scores and the decisions, so its latency is the event's way in,
   through scoring, to the decision out; the answers are checked to carry both. Ceiling: the
   same sender at the same rate against the bare endpoint, in the same run. Goal (issue 8): p99
   under 50 ms at 500 requests/s.
2. Event to webhook. A model giving 70 points for a pricing page view and an automation that
   calls a webhook when that score crosses 60; `--leads` leads are identified first, then each
   sends its pricing page view (20 a second, one lead each). A real HTTP receiver in a thread
   of this process records when each webhook arrives; the latency runs from when the crossing
   event was sent to the webhook's arrival. Ceiling: the collect answers' own latency.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engage import with_definitions
from harness import ROOT, Figure, free_port, fresh_database, server, uvicorn_cmd, write_figures
from sender import percentile

from leadpulse.pipeline import Pipeline

HERE = Path(__file__).resolve().parent
GOAL_P99_MS = 50.0
ENV = {"LEADPULSE_RATE_LIMIT_PER_MINUTE": "0", "LEADPULSE_LOG_LEVEL": "warning"}
MODEL = """key: crossing
name: Crossing
kind: engagement
bands: {cold: 0, hot: 60}
rules:
  - key: pricing
    when: {event: page_view, where: {url: {matches: '*/pricing*'}}}
    points: 70
    limit: {times: 1}
"""
AUTOMATION = """key: crossing-webhook
name: Crossing to a webhook
when: {{score: {{model: crossing, above: 60}}}}
cooldown_minutes: 0
actions:
  - webhook: {{url: 'http://127.0.0.1:{port}/hook', secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw}}
"""


def open_loop(port: int, write_key: str, rate: float, seconds: float) -> dict[str, Any]:
    out = Path(tempfile.mkdtemp(prefix="lp-bench-")) / "sender.json"
    subprocess.run(
        [sys.executable, str(HERE / "sender.py"), "--port", str(port), "--write-key", write_key,
         "--rate", str(rate), "--seconds", str(seconds), "--json", str(out)],
        check=True,
    )  # fmt: skip
    report: dict[str, Any] = json.loads(out.read_text())
    return report


def decision_latency(rate: float, seconds: float) -> list[Figure]:
    url, write_key = fresh_database(with_definitions)
    bare_port = free_port()
    with server(uvicorn_cmd("bare_app:app", bare_port), bare_port,
                {"PYTHONPATH": str(ROOT / "bench")}):  # fmt: skip
        bare = open_loop(bare_port, write_key, rate, seconds)
    port = free_port()
    cmd = [sys.executable, "-m", "leadpulse", "serve", "--port", str(port)]
    with server(cmd, port, {**ENV, "LEADPULSE_DATABASE_URL": url}):
        lp = open_loop(port, write_key, rate, seconds)
    ok = lp["ok"]
    carried = f"{lp['with_scores'] / max(ok, 1):.0%} / {lp['with_decisions'] / max(ok, 1):.0%}"
    return [
        Figure(
            f"event → decision at {rate:,.0f} requests/s (SQLite, open loop): p50 / p99",
            f"{lp['p50_ms']:.1f} / {lp['p99_ms']:.1f} ms",
            lp["p99_ms"],
            "ms (p99)",
            f"bare {bare['p50_ms']:.1f} / {bare['p99_ms']:.1f} ms (sender achieved "
            f"{bare['achieved_rate']:,.0f}/s, its own lag p99 {bare['send_late_p99_ms']:.1f} ms; "
            f"{lp['send_late_p99_ms']:.1f} ms against Leadpulse)",
            f"p99 under {GOAL_P99_MS:.0f} ms",
            lp["p99_ms"] < GOAL_P99_MS and lp["failed"] == 0,
        ),
        Figure(
            "event → decision: answers with scores / with decisions",
            f"{carried} of {ok:,} (failed {lp['failed']:,}, achieved {lp['achieved_rate']:,.0f}/s)",
            lp["with_decisions"],
            "answers",
            "—",
            "every answer scored and decided",
            lp["with_scores"] == ok and lp["with_decisions"] > 0 and lp["failed"] == 0,
        ),
    ]


class Receiver(ThreadingHTTPServer):
    """Records (arrival time, the lead's email) of every webhook it is sent."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Hook)
        self.arrivals: dict[str, float] = {}
        self.posts = 0
        self.lock = threading.Lock()


class _Hook(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        arrived = time.perf_counter()
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
        email = json.loads(body)["lead"]["email"]
        with self.server.lock:
            self.server.posts += 1
            self.server.arrivals.setdefault(email, arrived)

    def log_message(self, format: str, *args: Any) -> None:
        return


def webhook_latency(leads: int, per_second: float = 20.0) -> list[Figure]:
    receiver = Receiver()
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hook_port = receiver.server_address[1]

    def setup(pipeline: Pipeline) -> None:
        pipeline.publish_model("crossing", MODEL)
        pipeline.save_definition("automation", "crossing-webhook",
                                 AUTOMATION.format(port=hook_port))  # fmt: skip

    url, write_key = fresh_database(setup)
    port = free_port()
    cmd = [sys.executable, "-m", "leadpulse", "serve", "--port", str(port)]
    sent: dict[str, float] = {}
    answered: list[float] = []
    with (
        server(cmd, port, {**ENV, "LEADPULSE_DATABASE_URL": url}),
        httpx.Client(base_url=f"http://127.0.0.1:{port}") as client,
    ):
        for i in range(leads):
            client.post("/v1/identify", json={
                "write_key": write_key, "anonymous_id": f"w{i}",
                "traits": {"email": f"lead{i}@bench.example"},
            }).raise_for_status()  # fmt: skip
        start = time.perf_counter()
        for i in range(leads):
            delay = start + i / per_second - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            event = {"id": f"cross-{i}", "type": "page_view", "anonymous_id": f"w{i}",
                     "url": "https://shop.example/pricing"}  # fmt: skip
            began = time.perf_counter()
            client.post("/v1/collect", json={"write_key": write_key, "events": [event]})
            answered.append((time.perf_counter() - began) * 1000)
            sent[f"lead{i}@bench.example"] = began
        deadline = time.monotonic() + 30
        while len(receiver.arrivals) < leads and time.monotonic() < deadline:
            time.sleep(0.05)
    receiver.shutdown()
    with receiver.lock:
        lat = [(receiver.arrivals[e] - t) * 1000 for e, t in sent.items() if e in receiver.arrivals]
    return [
        Figure(
            f"event → webhook, {leads} leads crossing a threshold (SQLite): p50 / p99",
            f"{statistics.median(lat):.1f} / {percentile(lat, 99):.1f} ms "
            f"({len(lat)} of {leads} arrived, {receiver.posts} posts)",
            percentile(lat, 99),
            "ms (p99)",
            f"collect answered in {statistics.median(answered):.1f} / "
            f"{percentile(answered, 99):.1f} ms",
            "one webhook per crossing",
            len(lat) == leads and receiver.posts == leads,
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--leads", type=int, default=200)
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args()
    figures = decision_latency(args.rate, args.seconds) + webhook_latency(args.leads)
    print("| measure | figure | ceiling (same run) | goal |")
    print("|---|---:|---|---|")
    for f in figures:
        print(f"| {f.measure} | {f.figure} | {f.ceiling} | {f.goal} |")
    write_figures(args.json, figures)


if __name__ == "__main__":
    main()
