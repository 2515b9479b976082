"""The dashboard in a real Chromium: sign in, the leads by score, a lead's explanation adding
up, editing a phone, recording a win, a lead's markup staying text, and signed-out refusal.

The demo shop's simulated visitors give the pages real leads (the same code `leadpulse demo`
runs), and the dashboard tests' fit model adds a second model and the XSS lead.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, BrowserContext, Page

from leadpulse import demo
from leadpulse.pipeline import Pipeline
from leadpulse.store import leads as lead_store
from leadpulse.store.schema import events, visitors
from tests.browser.support import Lp
from tests.dashboard.support import PASSWORD, seed


@pytest.fixture
def app(pipeline: Pipeline, request: pytest.FixtureRequest) -> Lp:
    """Leadpulse with demo visitors and the dashboard tests' leads and users, then served."""
    site, _ = demo.seed(pipeline)
    with ThreadPoolExecutor(1) as thread:  # Playwright keeps an event loop in this thread
        thread.submit(demo.simulate, pipeline, site, 40).result()
    ids = seed(pipeline)
    pipeline.assign([ids["hot@acme.example"]], "olga")
    served: Lp = request.getfixturevalue("collector")
    return served


@pytest.fixture
def phone(browser: Browser, user_agent: str) -> Iterator[BrowserContext]:
    """A phone-sized window, for the manager on the move."""
    ctx = browser.new_context(
        user_agent=user_agent, viewport={"width": 390, "height": 844}, is_mobile=True
    )
    yield ctx
    ctx.close()


def sign_in(page: Page, app: Lp, email: str = "admin@shop.example") -> None:
    page.goto(f"{app.url}/app/leads")
    assert page.url.startswith(f"{app.url}/app/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{app.url}/app/leads")


def shown_scores(page: Page) -> list[float]:
    return [float(s) for s in page.locator("td.score").evaluate_all(
        "cells => cells.map(c => c.dataset.score)")]  # fmt: skip


def test_sign_in_and_the_leads_are_sorted_by_score(page: Page, app: Lp, artifacts: Path) -> None:
    sign_in(page, app)
    scores = shown_scores(page)
    assert len(scores) > 10
    assert scores == sorted(scores, reverse=True)
    assert scores[0] > scores[-1]
    page.screenshot(path=str(artifacts / "dashboard-leads.png"), full_page=False)
    page.select_option("select[name=band]", "hot")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**/app/leads?*band=hot*")
    bands = page.locator("tbody td[data-label=Band]").all_inner_texts()
    assert bands
    assert set(bands) == {"hot"}


def test_the_explanation_adds_up_to_the_score_shown(page: Page, app: Lp, artifacts: Path) -> None:
    sign_in(page, app)
    top = page.locator("tbody tr a.name").first
    top_score = shown_scores(page)[0]
    top.click()
    page.wait_for_url("**/app/leads/*")
    models = page.locator("div.model")
    assert models.count() == 2
    for n in range(models.count()):
        model = models.nth(n)
        total = float(model.locator(".total").get_attribute("data-total") or "nan")
        points = [float(p) for p in model.locator("tr.contribution").evaluate_all(
            "rows => rows.map(r => r.dataset.points)")]  # fmt: skip
        assert sum(points) == pytest.approx(total, abs=0.01)
        assert model.locator("tfoot .num").inner_text() == model.locator(".total").inner_text()
    first_total = float(models.first.locator(".total").get_attribute("data-total") or "nan")
    assert first_total == pytest.approx(top_score, abs=0.01 + top_score * 0.01)
    page.screenshot(path=str(artifacts / "dashboard-lead.png"))
    page.screenshot(path=str(artifacts / "dashboard-lead-full.png"), full_page=True)


def test_edit_a_phone_and_mark_the_lead_won(page: Page, app: Lp) -> None:
    sign_in(page, app, "olga@shop.example")
    page.click("text=My leads")
    page.click("tbody tr a.name >> text=Hanna Hot")
    page.fill("#traits input[name=phone]", "+48 22 123 45 67")
    page.click("#traits button[type=submit]")
    page.wait_for_url("**?ok=traits")
    assert page.locator("[role=status]").inner_text().startswith("Saved")
    assert page.locator("#traits input[name=phone]").input_value() == "+48221234567"
    page.check("#outcome input[value=won]")
    page.fill("#outcome input[name=value]", "4200")
    page.fill("#outcome input[name=currency]", "PLN")
    page.click("#outcome button[type=submit]")
    page.wait_for_url("**?ok=outcome")
    assert "won 4,200 PLN" in page.locator("ul.outcomes").inner_text()
    lead = int(page.url.split("/app/leads/")[1].split("?")[0])
    with app.pipeline.engine.connect() as conn:
        row = lead_store.get_lead(conn, lead)
        outcomes = lead_store.outcomes_of(conn, lead)
    assert row is not None
    assert row["phone"] == "+48221234567"
    assert [(o["outcome"], o["value"], o["owner"]) for o in outcomes] == [
        ("won", 4200.0, "olga@shop.example")
    ]


def test_a_lead_named_like_a_script_stays_text(page: Page, app: Lp) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    sign_in(page, app)
    page.fill("input[name=q]", "evil")
    page.click("form.filters button[type=submit]")
    link = page.locator("tbody tr a.name")
    assert link.inner_text() == "<script>alert(1)</script>"
    link.click()
    page.wait_for_url("**/app/leads/*")
    assert page.locator("h1.lead-name").inner_text() == "<script>alert(1)</script>"
    assert page.locator("main script").count() == 0
    assert dialogs == []


def test_signed_out_is_refused(page: Page, app: Lp) -> None:
    page.goto(f"{app.url}/app/leads/1")
    assert "/app/login" in page.url
    assert page.locator("h1").inner_text() == "Sign in"
    answer = page.request.post(f"{app.url}/app/leads/1/outcome", form={"outcome": "won"})
    assert answer.status == 401
    page.fill("input[name=email]", "admin@shop.example")
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    assert page.locator("[role=alert]").inner_text() == "wrong email or password"


def test_the_leads_fit_a_phone(phone: BrowserContext, app: Lp, artifacts: Path) -> None:
    page = phone.new_page()
    sign_in(page, app, "olga@shop.example")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    assert page.locator("tbody tr a.name").first.is_visible()
    page.screenshot(path=str(artifacts / "dashboard-leads-phone.png"))
    page.locator("tbody tr a.name").first.click()
    page.wait_for_url("**/app/leads/*")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(artifacts / "dashboard-lead-phone.png"), full_page=True)


def won_in_funnel(page: Page, app: Lp) -> int:
    page.goto(f"{app.url}/app/reports")
    return int(page.locator("td[data-step=won]").inner_text().replace(",", ""))


def test_a_win_shows_in_the_reports(page: Page, app: Lp, artifacts: Path) -> None:
    sign_in(page, app)
    before = won_in_funnel(page, app)
    page.goto(f"{app.url}/app/leads")
    page.locator("tbody tr a.name").first.click()
    page.wait_for_url("**/app/leads/*")
    page.check("#outcome input[value=won]")
    page.fill("#outcome input[name=value]", "900")
    page.click("#outcome button[type=submit]")
    page.wait_for_url("**?ok=outcome")
    assert won_in_funnel(page, app) == before + 1
    key = app.pipeline.create_api_key("browser")
    api = page.request.get(f"{app.url}/v1/reports/funnel",
                           headers={"Authorization": f"Bearer {key}"}).json()  # fmt: skip
    shown = page.locator("td[data-step]").evaluate_all(
        "cells => cells.map(c => [c.dataset.step, Number(c.textContent.replace(/,/g, ''))])"
    )
    assert shown == [[r["step"], r["count"]] for r in api["items"]]
    assert page.locator("svg.chart").count() == 7
    page.screenshot(path=str(artifacts / "dashboard-reports.png"))
    page.screenshot(path=str(artifacts / "dashboard-reports-full.png"), full_page=True)
    with page.expect_download() as download:
        page.click("#funnel a[download]")
    rows = download.value.path().read_text().splitlines()
    assert rows[0] == "step,count"
    assert f"won,{before + 1}" in rows


def test_models_and_automations_pages(page: Page, app: Lp, artifacts: Path) -> None:
    sign_in(page, app, "marketer@shop.example")
    page.click("nav >> text=Models")
    page.click("text=Website behaviour")
    source = page.locator("textarea[name=source]")
    source.fill(source.input_value().replace("points: 10", "points: ten", 1))
    page.click("button[value=check]")
    error = page.locator("#model-error").inner_text()
    assert "ten" in error or "number" in error
    assert "points: ten" in page.locator("textarea[name=source]").input_value()
    page.screenshot(path=str(artifacts / "dashboard-model-error.png"))
    page.click("nav >> text=Automations")
    assert page.locator("h1").inner_text() == "Automations"
    page.screenshot(path=str(artifacts / "dashboard-automations.png"), full_page=True)


def _stored_events(pipeline: Pipeline, visitors_n: int, per_visitor: int) -> None:
    """Many stored events of anonymous visitors, written straight to the tables (as a site
    collects them over months), so a rescore takes a few seconds."""
    site = pipeline.add_site("History", [], key="history")
    with pipeline.engine.begin() as conn:
        first = conn.execute(sa.select(sa.func.coalesce(sa.func.max(visitors.c.id), 0))).scalar()
        conn.execute(sa.insert(visitors), [
            {"site_id": site.id, "anonymous_id": f"h{v}", "is_bot": False, "first_seen_at": 0,
             "last_seen_at": 0} for v in range(visitors_n)
        ])  # fmt: skip
        conn.execute(sa.insert(events), [
            {"site_id": site.id, "uid": f"h{v}-{i}", "visitor_id": first + v + 1,
             "session_id": f"h{v}", "type": "page_view", "ts": 1_763_800_000_000 + i,
             "received_at": 1_763_800_000_000 + i, "url": f"https://shop.example/p{i}",
             "properties": {}, "is_bot": False}
            for v in range(visitors_n) for i in range(per_visitor)
        ])  # fmt: skip


def test_the_rescore_progress_follows_without_a_reload(
    page: Page, app: Lp, pipeline: Pipeline
) -> None:
    _stored_events(pipeline, 2_000, 50)
    sign_in(page, app, "marketer@shop.example")
    page.goto(f"{app.url}/app/models/website")
    page.click("button[value=rescore]")
    page.wait_for_url("**/app/models/website?ok=rescore")
    status = page.locator("#rescore")
    assert "Rescoring history" in status.inner_text()
    page.evaluate("window.stayed = true")  # gone if the page were loaded again
    page.wait_for_function(
        "() => document.querySelector('#rescore').innerText.includes('Last rescore finished')",
        timeout=120_000,
    )
    assert page.evaluate("window.stayed") is True
    assert "data-follow" not in (status.get_attribute("data-follow") or "")


def test_every_page_fits_a_phone(phone: BrowserContext, app: Lp, artifacts: Path) -> None:
    page = phone.new_page()
    sign_in(page, app)
    for path in ("/app/leads", "/app/models", "/app/models/website", "/app/automations",
                 "/app/deliveries", "/app/reports", "/app/users"):  # fmt: skip
        page.goto(f"{app.url}{path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} is {width} px wide"
    page.goto(f"{app.url}/app/reports")
    page.screenshot(path=str(artifacts / "dashboard-reports-phone.png"), full_page=True)
