"""The tracker's rendering of decisions (offers and personalisation), alone.

The server does not choose decisions for these tests: each collect request goes to the real
Leadpulse (so the events are stored) and its real answer is handed to the browser with the
`decisions` list replaced by the one under test (`page.route(...).fulfill(json=...)`). What
the server decides, and when, is tested elsewhere; here: does the page carry out a decision
exactly as docs/tracker.md says, and do the resulting events reach the database?
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page, Route

from tests.browser.support import Lp, wait_tracker, wait_until

CALLBACK_OFFER: dict[str, Any] = {
    "kind": "offer",
    "key": "callback",
    "group": "treatment",
    "trigger": {"exit_intent": False, "seconds_on_page": 1, "scroll_depth": 0},
    "content": {
        "title": "Shall we call you back?",
        "text": "A window expert calls you within 5 minutes, free of charge.",
        "button": "Call me back",
        "close": "No, thanks",
        "fields": [
            {"name": "phone", "label": "Phone", "type": "tel", "required": True},
            {"name": "name", "label": "Your name", "type": "text", "required": False},
        ],
        "confirm": "Thank you! A manager will call you in 5 minutes.",
    },
}

HEADLINE: dict[str, Any] = {
    "kind": "personalization",
    "key": "credit_headline",
    "group": "treatment",
    "changes": [
        {"selector": "h1.hero", "text": "Windows on credit — 0 % for 12 months"},
        {"selector": ".cta", "html": "<b>Apply</b>"},
        {"selector": "a.cta", "attribute": "href", "value": "/credit"},
    ],
}


def with_decisions(page: Page, decisions: list[dict[str, Any]]) -> None:
    """Every collect answer the page gets carries `decisions` (see the module docstring)."""

    def handle(route: Route) -> None:
        response = route.fetch()
        body = response.json()
        assert isinstance(body.get("accepted"), int), body
        route.fulfill(response=response, json={**body, "decisions": decisions})

    page.route("**/v1/collect", handle)


def group_of(event: dict[str, Any]) -> str:
    return str(event["properties"]["group"])


def test_decision_rendering_offer_popup_and_submit(lp: Lp, page: Page, artifacts: Path) -> None:
    with_decisions(page, [CALLBACK_OFFER])
    page.goto(lp.page_url(flush=200))
    wait_tracker(page)
    page.wait_for_selector("#lp-offer[data-lp-offer=callback]")
    dialog = page.locator("#lp-offer [role=dialog]")
    assert dialog.get_attribute("aria-modal") == "true"
    assert page.locator("#lp-offer h2").text_content() == "Shall we call you back?"
    assert dialog.get_attribute("aria-labelledby") == page.locator("#lp-offer h2").get_attribute(
        "id"
    )
    phone = page.locator("#lp-offer input[name=phone]")
    name = page.locator("#lp-offer input[name=name]")
    assert phone.get_attribute("type") == "tel"
    assert phone.get_attribute("required") is not None
    assert name.get_attribute("required") is None
    assert phone.evaluate("el => el.getRootNode().activeElement === el"), "focus on field 1"
    page.screenshot(path=str(artifacts / "offer-popup-desktop.png"))
    [view] = lp.wait_events(page, "offer_view")
    assert view["properties"] == {"offer": "callback", "group": "treatment"}

    phone.fill("+48 600 123 456")
    name.fill("Anna Nowak")
    page.click("#lp-offer button[type=submit]")
    page.wait_for_selector("#lp-offer >> text=Thank you! A manager will call you in 5 minutes.")
    page.screenshot(path=str(artifacts / "offer-popup-confirmed.png"))

    [lead] = wait_until(lp.leads, "the lead from the popup", page)
    assert lead["phone"] == "+48600123456"
    assert lead["name"] == "Anna Nowak"
    [submit] = lp.wait_events(page, "offer_submit")
    assert submit["properties"] == {"offer": "callback"}
    assert submit["lead_id"] == lead["id"]
    # The typed values went to identify only, never into an event.
    text = lp.all_text()
    assert "600 123 456" not in text
    assert "Anna Nowak" not in text
    assert lp.events("form_start") == []


def test_decision_rendering_offer_close_and_mobile(lp: Lp, page: Page, artifacts: Path) -> None:
    page.set_viewport_size({"width": 390, "height": 760})
    with_decisions(page, [CALLBACK_OFFER])
    page.goto(lp.page_url(flush=200))
    wait_tracker(page)
    page.wait_for_selector("#lp-offer")
    box = page.locator("#lp-offer [role=dialog]").bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 390
    page.screenshot(path=str(artifacts / "offer-popup-mobile.png"))
    page.click("#lp-offer >> text=No, thanks")
    page.wait_for_selector("#lp-offer", state="detached")
    [close] = lp.wait_events(page, "offer_close")
    assert close["properties"] == {"offer": "callback"}
    # At most once per page view, though every answer still carries the offer.
    page.evaluate("() => leadpulse('track', 'marker')")
    lp.wait_events(page, "marker")
    assert page.locator("#lp-offer").count() == 0
    assert len(lp.events("offer_view")) == 1


def test_decision_rendering_escape_closes(lp: Lp, page: Page) -> None:
    with_decisions(page, [CALLBACK_OFFER])
    page.goto(lp.page_url(flush=200))
    wait_tracker(page)
    page.wait_for_selector("#lp-offer")
    page.keyboard.press("Escape")
    page.wait_for_selector("#lp-offer", state="detached")
    lp.wait_events(page, "offer_close")


def test_decision_rendering_offer_trigger_conditions(lp: Lp, page: Page) -> None:
    offer = {**CALLBACK_OFFER, "trigger": {"exit_intent": True, "scroll_depth": 50}}
    with_decisions(page, [offer])
    page.goto(lp.page_url(flush=200, ping=200, flicker=60000))
    wait_tracker(page)
    # The first answer has been carried out once the anti-flicker class is gone.
    page.wait_for_function("() => !document.documentElement.classList.contains('lp-loading')")
    page.mouse.move(600, 300)
    page.mouse.move(600, -5)  # exit intent, but not scrolled deep enough yet
    lp.wait_events(page, "exit_intent")
    assert page.locator("#lp-offer").count() == 0
    page.mouse.move(600, 300)
    page.mouse.wheel(0, 1500)
    lp.wait_events(page, "scroll", where=lambda e: e["properties"]["depth"] >= 50)
    page.wait_for_selector("#lp-offer[data-lp-offer=callback]")
    [view] = lp.wait_events(page, "offer_view")
    assert group_of(view) == "treatment"


def test_decision_rendering_holdout_renders_nothing(lp: Lp, page: Page) -> None:
    holdouts = [{**CALLBACK_OFFER, "group": "holdout"}, {**HEADLINE, "group": "holdout"}]
    with_decisions(page, holdouts)
    page.goto(lp.page_url(flush=200))
    wait_tracker(page)
    [view] = lp.wait_events(page, "offer_view")
    assert view["properties"] == {"offer": "callback", "group": "holdout"}
    [seen] = lp.wait_events(page, "personalization_view")
    assert seen["properties"] == {"personalization": "credit_headline", "group": "holdout"}
    assert page.locator("#lp-offer").count() == 0
    assert page.text_content("h1.hero") == "Windows for every home"
    assert page.get_attribute("a.cta", "href") == "#quote"


def test_decision_rendering_personalization(lp: Lp, page: Page) -> None:
    with_decisions(page, [HEADLINE])
    page.goto(lp.page_url(flush=200, flicker=60000))
    wait_tracker(page)
    page.wait_for_function("() => !document.documentElement.classList.contains('lp-loading')")
    # Applied before the page is shown: no flicker of the old headline.
    assert page.text_content("h1.hero") == "Windows on credit — 0 % for 12 months"
    assert page.inner_html("a.cta") == "<b>Apply</b>"
    assert page.get_attribute("a.cta", "href") == "/credit"
    [seen] = lp.wait_events(page, "personalization_view")
    assert seen["properties"] == {"personalization": "credit_headline", "group": "treatment"}
    # Once per key per page view, though every answer carries it.
    page.evaluate("() => leadpulse('track', 'marker')")
    lp.wait_events(page, "marker")
    page.evaluate("() => leadpulse('track', 'marker')")
    lp.wait_events(page, "marker", 2)
    assert len(lp.events("personalization_view")) == 1
