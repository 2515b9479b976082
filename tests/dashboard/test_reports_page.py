"""The reports: funnel, conversion by channel/source/campaign, managers per band, bands by
month — the page, its charts and the CSV of each give the same numbers."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from leadpulse import demo
from leadpulse.core import clock
from leadpulse.pipeline import Pipeline
from leadpulse.store import owners as owner_store
from tests.cli_runner import leadpulse
from tests.dashboard.support import sign_in

EVIL_SOURCE = "<img src=x onerror=alert(1)>"


@pytest.fixture
def csrf(client: TestClient, ids: dict[str, int], pipeline: Pipeline) -> str:
    hot, warm = ids["hot@acme.example"], ids["warm@beta.example"]
    pipeline.assign([hot, warm], "olga")
    pipeline.add_outcome(hot, {"outcome": "won", "value": 1000.0, "at": clock.now_ms()})
    pipeline.add_outcome(warm, {"outcome": "lost", "at": clock.now_ms()})
    pipeline.upsert_lead({"email": "src@x.example"}, EVIL_SOURCE)
    return sign_in(client, "marketer@shop.example")


def table(client: TestClient, name: str, query: str = "") -> list[dict[str, Any]]:
    answer = client.get(f"/app/reports/{name}.csv?{query}")
    assert answer.status_code == 200
    assert answer.headers["content-disposition"] == f'attachment; filename="{name}.csv"'
    return list(csv.DictReader(io.StringIO(answer.text)))


def test_the_funnel(client: TestClient, csrf: str) -> None:
    rows = {r["step"]: int(r["count"]) for r in table(client, "funnel")}
    assert rows == {"visitors": 0, "leads": 5, "MQL": 2, "SQL": 1, "won": 1}
    page = client.get("/app/reports").text
    for step, count in rows.items():
        assert f'data-step="{step}">{count}<' in page


def test_conversion_by_source_and_channel(client: TestClient, csrf: str) -> None:
    rows = {r["key"]: r for r in table(client, "conversion", "by=source")}
    assert rows["google_ads"] == {"key": "google_ads", "leads": "1", "mql": "1", "sql": "1",
                                  "won": "1", "conversion": "1.0", "value": "1000.0",
                                  "cost": "", "cost_per_lead": "", "cost_per_sale": "",
                                  "return": ""}  # fmt: skip
    assert rows["newsletter"]["leads"] == "2"
    assert rows["newsletter"]["mql"] == "1"
    assert rows["newsletter"]["won"] == "0"
    assert {r["key"] for r in table(client, "conversion", "by=channel")} == {"(none)"}
    page = client.get("/app/reports?by=source").text
    assert "Conversion by source" in page
    assert EVIL_SOURCE not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_managers_per_band_and_bands_by_month(client: TestClient, csrf: str) -> None:
    managers = {(r["manager"], r["band"]): r for r in table(client, "managers")}
    assert managers[("olga", "hot")]["won"] == "1"
    assert managers[("olga", "warm")]["lost"] == "1"
    assert managers[("olga", "warm")]["conversion"] == "0.0"
    assert managers[("(none)", "cold")]["leads"] == "3"
    bands = {r["band"]: r for r in table(client, "bands")}
    month = clock.to_iso(clock.now_ms())
    assert month is not None
    assert bands["hot"]["month"] == month[:7]
    assert (bands["hot"]["leads"], bands["hot"]["won"]) == ("1", "1")
    page = client.get("/app/reports").text
    assert page.count('<svg class="chart"') == 7
    assert "olga · hot" in page


def test_call_back_response_times(
    client: TestClient, csrf: str, pipeline: Pipeline, ids: dict[str, int]
) -> None:
    with pipeline.engine.connect() as conn:
        olga = owner_store.manager(conn, key="olga")
    assert olga is not None
    hour = 3_600_000
    for n, done in enumerate((2 * hour, 4 * hour, None)):
        task = pipeline.writer.run_sync(
            lambda conn, n=n: owner_store.create_task(
                conn, {"lead_id": ids["hot@acme.example"], "manager_id": olga["id"],
                       "kind": "call", "note": f"call {n}", "due_at": 0, "created_at": 0}
            )
        )  # fmt: skip
        if done is not None:
            pipeline.writer.run_sync(
                lambda conn, task=task, done=done: owner_store.complete_task(conn, task, done)
            )
    assert table(client, "response") == [
        {"manager": "olga", "tasks": "3", "done": "2", "hours": "3.0"}
    ]
    assert "Average hours to a done call-back" in client.get("/app/reports").text


def test_bad_report_requests(client: TestClient, csrf: str) -> None:
    assert client.get("/app/reports?by=color").status_code == 400
    assert client.get("/app/reports?model=nope").status_code == 400
    assert client.get("/app/reports/nope.csv").status_code == 404


def test_sales_users_do_not_see_reports(client: TestClient, ids: dict[str, int]) -> None:
    sign_in(client, "olga@shop.example")
    assert client.get("/app/reports").status_code == 403


@pytest.mark.parametrize(
    "name", ["funnel", "conversion", "managers", "response", "actions", "uplift", "bands"]
)
def test_the_api_gives_the_numbers_of_the_csv(
    client: TestClient, csrf: str, auth: dict[str, str], name: str
) -> None:
    answer = client.get(f"/v1/reports/{name}?by=source", headers=auth)
    assert answer.status_code == 200
    body = answer.json()
    assert (body["model"], body["by"]) == ("fit", "source")
    as_text = [
        {c: "" if row[c] is None else str(row[c]) for c in body["columns"]} for row in body["items"]
    ]
    assert as_text == table(client, name, "by=source")


def test_the_reports_api_needs_a_key_and_says_what_is_wrong(
    client: TestClient, csrf: str, auth: dict[str, str]
) -> None:
    assert client.get("/v1/reports/funnel").status_code == 401
    missing = client.get("/v1/reports/nope", headers=auth)
    assert missing.status_code == 404
    assert "there are funnel, conversion" in missing.json()["error"]["message"]
    assert client.get("/v1/reports/funnel?by=x", headers=auth).json()["error"]["field"] == "by"


SPEND = """Date,Channel,Source,Campaign,Cost,Currency
2026-11-01,paid_search,google_ads,brand,"1,200.00",EUR
2026-11-02,paid_search,google_ads,brand,300,EUR
2026-11-01,email,newsletter,,50,eur
"""


def test_ad_spend_gives_cost_per_lead_and_per_sale(
    client: TestClient, csrf: str, db_url: str, tmp_path: Path, auth: dict[str, str]
) -> None:
    file = tmp_path / "spend.csv"
    file.write_text(SPEND)
    first = leadpulse(db_url, "spend", "import", str(file))
    assert "3 rows of spend imported (cost 1,550.00)" in first.stdout
    leadpulse(db_url, "spend", "import", str(file))  # the same days again replace them
    rows = {r["key"]: r for r in table(client, "conversion", "by=source")}
    assert rows["google_ads"]["cost"] == "1500.0"
    assert rows["google_ads"]["cost_per_lead"] == "1500.0"
    assert rows["google_ads"]["cost_per_sale"] == "1500.0"
    assert float(rows["google_ads"]["return"]) == pytest.approx(1000 / 1500)
    assert rows["newsletter"]["cost"] == "50.0"
    assert rows["newsletter"]["cost_per_lead"] == "25.0"
    assert rows["newsletter"]["cost_per_sale"] == ""
    assert rows["organic"]["cost"] == ""
    api = client.get("/v1/reports/conversion?by=source", headers=auth).json()["items"]
    assert {r["key"]: r["cost"] for r in api}["google_ads"] == 1500.0
    page = client.get("/app/reports?by=source").text
    assert "Per sale" in page
    assert "leadpulse spend import" not in page


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("date,cost\n2026-11-01,5\n", "needs a channel, source or campaign column"),
        ("channel,cost\nx,5\n", "has no date column"),
        ("date,channel,cost\n01.11.2026,x,5\n", "line 2: date '01.11.2026'"),
        ("date,channel,cost\n2026-11-01,x,-5\n", "line 2: cost '-5' is not an amount"),
        ("date,channel,cost,currency\n2026-11-01,x,5,euro\n", "not three letters"),
    ],
)
def test_bad_spend_files_are_one_line(
    db_url: str, engine: Engine, tmp_path: Path, text: str, message: str
) -> None:
    file = tmp_path / "spend.csv"
    file.write_text(text)
    bad = leadpulse(db_url, "spend", "import", str(file), ok=False)
    assert bad.returncode == 1
    assert message in bad.stderr
    assert "Traceback" not in bad.stderr


UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 "
    "Safari/537.36"
)


def visit(client: TestClient, write_key: str, email: str, types: list[str]) -> None:
    """A person's visit: identified by email, then the events of `types`."""
    anon = f"v-{email}"
    headers = {"user-agent": UA}
    answer = client.post("/v1/identify", headers=headers, json={
        "write_key": write_key, "anonymous_id": anon, "traits": {"email": email}})  # fmt: skip
    assert answer.status_code == 200, answer.text
    events = [{"id": f"{email}-{n}", "type": t, "url": "https://shop.example/"}
              for n, t in enumerate(types)]  # fmt: skip
    body = {"write_key": write_key, "anonymous_id": anon, "events": events}
    answer = client.post("/v1/collect", headers=headers, json=body)
    assert answer.status_code == 200, answer.text


def test_key_actions_and_offer_uplift(
    client: TestClient, csrf: str, site: dict[str, str], pipeline: Pipeline
) -> None:
    visit(client, site["write_key"], "hot@acme.example", ["page_view", "added_to_cart"])
    visit(client, site["write_key"], "warm@beta.example", ["page_view"])
    visit(client, site["write_key"], "cold@gamma.example", ["page_view"])
    actions = {r["action"]: r for r in table(client, "actions")}
    assert actions["added_to_cart"]["leads"] == "1"
    assert actions["added_to_cart"]["won"] == "1"
    assert float(actions["added_to_cart"]["lift"]) == pytest.approx(5.0)  # 1/1 over 1 of 5
    assert actions["page_view"]["leads"] == "3"
    assert float(actions["page_view"]["lift"]) == pytest.approx((1 / 3) / (1 / 5))
    pipeline.save_definition("offer", "callback", demo.example("offers/callback.yaml"))
    [row] = table(client, "uplift")
    assert row["kind"] == "offer"
    assert row["key"] == "callback"
    assert row["treatment_visitors"] == "0"
    page = client.get("/app/reports").text
    assert "Key actions: what buyers did" in page
    assert page.count('<svg class="chart"') == 7
