"""The issue's end-to-end scenarios on the demo shop that Leadpulse serves at /demo/: real
decisions from the server, carried out by the tracker in Chromium, checked in the database.

1. A visitor from a "windows on credit" ad sees the credit headline; a holdout visitor sees the
   original, and both exposures are recorded.
2. A visitor who scrolls, views more than three pages and starts a form becomes hot; the
   call-back popup appears; the phone and name sent make a lead with the earlier page views,
   the score and the first touch; the popup does not come back.
3. Exit intent on the pricing page brings the exit offer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, BrowserContext, Page, Response, expect

from leadpulse import demo
from leadpulse.engage import HOLDOUT, TREATMENT, group_of
from leadpulse.store.schema import exposures, leads
from tests.browser.support import Lp, Row, wait_tracker, wait_until

CREDIT_AD = "/demo/?utm_source=google&utm_medium=cpc&utm_term=windows+on+credit"
CREDIT_HEADLINE = "Windows on credit — 0 % for 12 months"


@pytest.fixture
def shop(collector: Lp) -> Lp:
    """The collector with the demo shop set up: site, model, offers, personalisations."""
    demo.seed(collector.pipeline)
    return collector


@pytest.fixture
def visit(browser: Browser, user_agent: str, shop: Lp) -> Iterator[Any]:
    """Open a fresh browser context as a visitor with a chosen anonymous id (so the test knows
    its holdout group), on the demo shop."""
    opened: list[BrowserContext] = []

    def open_as(anonymous_id: str) -> Page:
        ctx = browser.new_context(user_agent=user_agent, viewport={"width": 1280, "height": 800})
        ctx.add_cookies([{"name": "_lp_id", "value": anonymous_id, "url": shop.url}])
        opened.append(ctx)
        page = ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.errors = errors  # type: ignore[attr-defined]
        return page

    yield open_as
    for ctx in opened:
        ctx.close()


def visitor_in(group: str, *keys_and_holdouts: tuple[str, float]) -> str:
    """An anonymous id that falls in `group` for every (key, holdout %) given."""
    return next(
        anon
        for anon in (f"visitor-{group}-{i}" for i in range(10_000))
        if all(group_of(key, anon, share) == group for key, share in keys_and_holdouts)
    )


def page_view_of(page_name: str) -> Callable[[Response], bool]:
    """The collect answer to the batch with this page's page view — not, say, the beacon the
    page before sent while leaving, whose answer decides for that page."""

    def match(response: Response) -> bool:
        if not response.url.endswith("/v1/collect"):
            return False
        sent = response.request.post_data_json or {}
        return any(
            e.get("type") == "page_view" and page_name in e.get("url", "")
            for e in sent.get("events", [])
        )

    return match


def stored(shop: Lp, page: Page, type_: str, anonymous_id: str, **props: str) -> Row:
    """The first stored event of `type_` from this visitor with these properties (polls)."""

    def visitor_events() -> list[Row]:
        ids = {v["id"] for v in shop.visitors() if v["anonymous_id"] == anonymous_id}
        return [
            e
            for e in shop.events(type_)
            if e["visitor_id"] in ids and all(e["properties"].get(k) == v for k, v in props.items())
        ]

    return wait_until(visitor_events, f"a {type_} event {props}", page)[0]


def test_the_search_keyword_personalises_the_headline_and_the_holdout_sees_the_original(
    shop: Lp, visit: Any, artifacts: Path
) -> None:
    treated = visitor_in(TREATMENT, ("credit-headline", 20))
    page: Page = visit(treated)
    page.goto(shop.url + CREDIT_AD)
    headline = page.locator("[data-lp='headline']")
    expect(headline).to_have_text(CREDIT_HEADLINE)
    expect(headline).to_be_visible()
    expect(page.locator("[data-lp='subline']")).to_contain_text("windows on credit")
    expect(page.locator("a[data-lp='cta']")).to_have_attribute("href", "/demo/credit.html")
    page.screenshot(path=str(artifacts / "personalised-page.png"))
    stored(shop, page, "personalization_view", treated, personalization="credit-headline",
           group=TREATMENT)  # fmt: skip

    held = visitor_in(HOLDOUT, ("credit-headline", 20))
    other: Page = visit(held)
    other.goto(shop.url + CREDIT_AD)
    stored(shop, other, "personalization_view", held, personalization="credit-headline",
           group=HOLDOUT)  # fmt: skip
    original = other.locator("[data-lp='headline']")
    expect(original).to_be_visible()  # the anti-flicker class is gone
    expect(original).to_have_text("Windows made to measure, installed in a week")
    with shop.pipeline.engine.connect() as conn:
        groups = conn.execute(sa.select(exposures.c.group).order_by(exposures.c.id)).scalars()
        assert list(groups) == [TREATMENT, HOLDOUT]
    assert page.errors == [] and other.errors == []  # type: ignore[attr-defined]


def test_a_hot_visitor_gets_the_popup_and_becomes_a_lead_with_its_history(
    shop: Lp, visit: Any, artifacts: Path
) -> None:
    anon = visitor_in(TREATMENT, ("callback", 10), ("credit-headline", 20))
    page: Page = visit(anon)
    # 22 points: the credit ad (keyword, paid search, desktop Chrome, a page)
    page.goto(shop.url + CREDIT_AD)
    wait_tracker(page)
    page.mouse.move(400, 400)
    page.mouse.wheel(0, 20_000)  # deep scroll 5 (the catalogue is long)
    stored(shop, page, "scroll", anon)
    for path in ("/demo/pricing.html", "/demo/product.html?sku=pvc-classic-2",
                 "/demo/product.html?sku=wood-oak-2"):  # fmt: skip
        page.goto(shop.url + path)  # + pricing 15, pages, more than 3 pages 10
        wait_tracker(page)
    page.goto(shop.url + "/demo/contact.html")
    page.locator("form#contact input").first.fill("typing…")  # form started 5: hot at 60
    popup = page.locator("#lp-offer[data-lp-offer='callback']")
    expect(popup).to_be_visible(timeout=15_000)
    expect(popup.get_by_role("dialog")).to_contain_text("windows on credit")
    page.screenshot(path=str(artifacts / "offer-popup-demo.png"))
    popup.locator("input[name='phone']").fill("+48 600 123 456")
    popup.locator("input[name='name']").fill("Anna Kowalska")
    popup.locator("button[type='submit']").click()
    expect(popup).to_contain_text("A manager will call you in 5 minutes")
    stored(shop, page, "offer_submit", anon, offer="callback")

    lead = wait_until(shop.leads, "the lead", page)[0]
    assert lead["phone"] == "+48600123456" and lead["name"] == "Anna Kowalska"
    assert lead["first_touch"]["channel"] == "paid_search"
    assert lead["first_touch"]["source"] == "google"
    assert lead["first_touch"]["keyword"] == "windows on credit"
    assert lead["score"] >= 60
    views = shop.events("page_view")
    assert len(views) == 5 and {e["lead_id"] for e in views} == {lead["id"]}
    assert "typing" not in shop.all_text()  # the site's own form values are never sent

    # the popup never comes back to this visitor, also in a new session
    with page.expect_response(page_view_of("pricing.html")) as answer:
        page.goto(shop.url + "/demo/pricing.html")
    assert [d["key"] for d in answer.value.json()["decisions"] if d["kind"] == "offer"] == [
        "price-list-on-exit"
    ]
    with shop.pipeline.engine.connect() as conn:
        row = conn.execute(sa.select(exposures).where(exposures.c.key == "callback")).one()
        known = conn.execute(sa.select(sa.func.count()).select_from(leads)).scalar_one()
    assert row.submitted_at is not None and row.views == 1 and known == 1
    assert page.errors == []  # type: ignore[attr-defined]


def test_exit_intent_brings_the_exit_offer(shop: Lp, visit: Any) -> None:
    anon = "visitor-leaving"
    page: Page = visit(anon)
    with page.expect_response(page_view_of("pricing.html")) as answer:
        page.goto(shop.url + "/demo/pricing.html")
    assert [d["key"] for d in answer.value.json()["decisions"]] == ["price-list-on-exit"]
    expect(page.locator("#lp-offer")).to_have_count(0)
    page.mouse.move(600, 300)
    page.mouse.move(600, 5)
    page.mouse.move(600, -5)
    popup = page.locator("#lp-offer[data-lp-offer='price-list-on-exit']")
    expect(popup).to_be_visible()
    expect(popup.locator("input[name='email']")).to_have_attribute("type", "email")
    stored(shop, page, "exit_intent", anon)
    stored(shop, page, "offer_view", anon, offer="price-list-on-exit", group=TREATMENT)
    popup.get_by_role("button", name="Close").click()
    stored(shop, page, "offer_close", anon, offer="price-list-on-exit")
    assert page.errors == []  # type: ignore[attr-defined]
