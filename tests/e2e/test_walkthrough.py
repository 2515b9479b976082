"""The README walk-through against a real `leadpulse serve` process over real HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.cli_runner import leadpulse


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "LEADPULSE_DATABASE_URL": db_url}
    proc = subprocess.Popen(
        [sys.executable, "-m", "leadpulse", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "server.log").open("w"),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(base + "/health", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError((tmp_path / "server.log").read_text()) from None
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_the_readme_walkthrough(server: str, db_url: str) -> None:
    base = server
    wk = leadpulse(db_url, "site", "add", "Window shop", "--domain", "shop.example").stdout.strip()
    sk = leadpulse(db_url, "key", "create", "--name", "admin").stdout.strip()
    auth = {"Authorization": f"Bearer {sk}"}
    with httpx.Client(base_url=base, timeout=10) as http:
        landing = {
            "id": "e-1",
            "type": "page_view",
            "anonymous_id": "visitor-1",
            "session_id": "s-1",
            "url": "https://shop.example/windows?utm_source=google&utm_medium=cpc"
            "&utm_term=windows+on+credit",
            "referrer": "https://www.google.com/",
            "title": "Windows",
        }
        r = http.post("/v1/collect", json={"write_key": wk, "events": [landing]})
        expected = {"accepted": 1, "duplicates": 0, "visitor": 1, "lead": None}
        assert r.json() == {**expected, "scores": {}, "decisions": []}
        more = {
            "write_key": wk,
            "anonymous_id": "visitor-1",
            "events": [
                {"id": "e-2", "type": "scroll", "depth": 80},
                {"id": "e-3", "type": "added_to_cart", "properties": {"sku": "W-120"}},
            ],
        }
        assert http.post("/v1/collect", json=more).json()["accepted"] == 2
        assert http.post("/v1/collect", json=more).json()["duplicates"] == 2
        ident = http.post(
            "/v1/identify",
            json={
                "write_key": wk,
                "anonymous_id": "visitor-1",
                "traits": {"name": "Anna", "phone": "+48 600 123 456", "email": "anna@example.com"},
            },
        ).json()
        assert ident["created"] is True, ident
        lead_id = ident["lead"]
        listing = http.get("/v1/leads", headers=auth).json()
        assert listing["total"] == 1
        lead = http.get(f"/v1/leads/{lead_id}", headers=auth).json()
        assert lead["attribution"]["first_touch"]["keyword"] == "windows on credit"
        assert lead["attribution"]["first_touch"]["channel"] == "paid_search"
        assert lead["phone"] == "+48600123456"
        timeline = http.get(f"/v1/leads/{lead_id}/events", headers=auth).json()
        assert [e["type"] for e in timeline["items"]].count("added_to_cart") == 1
        assert len(timeline["items"]) == 3
        assert http.get("/docs").status_code == 200
        assert http.get("/v1/leads").status_code == 401
        # 7. a model published from the command line reaches the running server
        model = Path(__file__).resolve().parents[2] / "docs/examples/models/website-behaviour.yaml"
        leadpulse(db_url, "model", "apply", str(model), "--rescore")
        time.sleep(2.1)  # the server looks for new models every 2 s
        pricing = {"id": "e-4", "type": "page_view", "url": "https://shop.example/pricing"}
        answer = http.post(
            "/v1/collect", json={"write_key": wk, "anonymous_id": "visitor-1", "events": [pricing]}
        ).json()
        assert answer["scores"]["website"]["total"] > 15
        explained = http.get(f"/v1/leads/{lead_id}/score", headers=auth).json()["models"][0]
        parts = sum(c["points_now"] for c in explained["contributions"])
        assert round(parts, 2) == explained["total"]
