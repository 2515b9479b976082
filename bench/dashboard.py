"""The dashboard's leads page on 100,000 leads, next to the JSON API's list of the same leads.

    python bench/dashboard.py [--leads 100000] [--runs 30] [--json PATH]

Leads are inserted directly in bulk into a SQLite file (scores, bands and stages of the
website-behaviour model, a tenth of them owned by one of five managers). Each measure is the
server time of one request through the ASGI app in-process (no network): the JSON API
`GET /v1/leads` and the dashboard `GET /app/leads` with the same filters, in the same run, so
the ratio shows what the page (session check, rendering) adds to the list itself. Goal: the
leads page under 300 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from starlette.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Figure, write_figures

from leadpulse import demo
from leadpulse.core.settings import Settings
from leadpulse.pipeline import Pipeline
from leadpulse.scoring.parse import parse_model
from leadpulse.store import migrate
from leadpulse.store.engine import create_engine
from leadpulse.store.schema import leads, managers
from leadpulse.web.app import create_app

GOAL_MS = 300.0
FIRST = ["Anna", "Piotr", "Kasia", "Marek", "Ewa", "Tomasz", "Olga", "Jan", "Zofia", "Adam"]
LAST = ["Nowak", "Kowalski", "Smith", "Wójcik", "Kamińska", "Lewandowski", "Zielińska"]
SOURCES = ["google_ads", "newsletter", "organic", "facebook_lead_ads", "referral"]
QUERIES = [
    ("first page, by score", ""),
    ("band = hot", "band=hot"),
    ("stage = mql, source", "stage=mql&source=newsletter"),
    ("search 'smith'", "q=smith"),
    ("owner", "owner=m1"),
]


def band(score: float) -> tuple[str, str | None]:
    if score >= 60:
        return "hot", "sql"
    if score >= 30:
        return "warm", "mql"
    return "cold", None


def fill(pipeline: Pipeline, n: int, seed: int = 7) -> None:
    """`n` leads in batches of 10,000 rows, as an import would leave them."""
    rng = random.Random(seed)
    now = int(time.time() * 1000)
    with pipeline.engine.begin() as conn:
        for m in range(5):
            conn.execute(sa.insert(managers).values(key=f"m{m}", name=f"Manager {m}",
                                                    active=True, created_at=now))  # fmt: skip
        ids = [r.id for r in conn.execute(sa.select(managers.c.id))]
    for start in range(0, n, 10_000):
        rows = []
        for i in range(start, min(n, start + 10_000)):
            score = round(rng.expovariate(1 / 20), 2)
            name, stage = band(score)
            created = now - rng.randrange(365 * 86_400_000)
            rows.append({
                "email": f"lead{i}@example.com", "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                "company": f"Company {i % 5000}", "phone": f"+4860{i:07d}",
                "source": rng.choice(SOURCES), "country": rng.choice(["PL", "DE", "GB"]),
                "channel": "paid_search", "traits": {}, "quality": {}, "score": score,
                "scores": {"website": {"total": score, "band": name, "stage": stage}},
                "created_at": created, "updated_at": created, "last_seen_at": created,
                "owner_id": rng.choice(ids) if rng.random() < 0.1 else None,
            })  # fmt: skip
        with pipeline.engine.begin() as conn:
            conn.execute(sa.insert(leads), rows)


def timed(
    client: TestClient, url: str, runs: int, headers: dict[str, str] | None = None
) -> tuple[float, float]:
    """Median and worst server time in ms of `runs` requests (after one warm-up)."""
    assert client.get(url, headers=headers).status_code == 200
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        answer = client.get(url, headers=headers)
        times.append((time.perf_counter() - start) * 1000)
        assert answer.status_code == 200, answer.text[:200]
    return statistics.median(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args()
    figures = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{Path(tmp) / 'bench.db'}")
        engine = create_engine(settings.database_url)
        migrate.upgrade(engine)
        pipeline = Pipeline(settings, engine)
        pipeline.start()
        for path in demo.MODELS:
            text = demo.example(path)
            pipeline.publish_model(parse_model(text, path).key, text)
        started = time.perf_counter()
        fill(pipeline, args.leads)
        print(f"{args.leads:,} leads inserted in {time.perf_counter() - started:.1f} s\n")
        pipeline.accounts.add_user("bench@example.com", "a bench password", "admin")
        key = pipeline.create_api_key("bench")
        with TestClient(create_app(pipeline=pipeline)) as client:
            token = pipeline.accounts.sign_in("bench@example.com", "a bench password")
            client.cookies.set("lp_session", token, path="/app")
            bearer = {"Authorization": f"Bearer {key}"}
            print(f"| {args.leads:,} leads, {args.runs} requests each | JSON API median / max "
                  "| leads page median / max | page ÷ API | goal |")  # fmt: skip
            print("|---|---:|---:|---:|---|")
            for label, query in QUERIES:
                api, api_max = timed(client, f"/v1/leads?limit=50&{query}", args.runs,
                                     headers=bearer)  # fmt: skip
                page, page_max = timed(client, f"/app/leads?{query}", args.runs)
                met = "met" if page_max < GOAL_MS else "**not met**"
                print(f"| {label} | {api:.1f} / {api_max:.1f} ms | {page:.1f} / {page_max:.1f} ms "
                      f"| {page / api:.2f} | under {GOAL_MS:.0f} ms — {met} |")  # fmt: skip
                figures.append(Figure(
                    f"dashboard leads page, {args.leads:,} leads, {label}: median / max",
                    f"{page:.0f} / {page_max:.0f} ms", page_max, "ms (max)",
                    f"JSON API {api:.0f} / {api_max:.0f} ms", f"under {GOAL_MS:.0f} ms",
                    page_max < GOAL_MS,
                ))  # fmt: skip
        pipeline.stop()
        engine.dispose()
    write_figures(args.json, figures)


if __name__ == "__main__":
    main()
