"""What the tracker captures, from a real browser to the database."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.browser.support import (
    Lp,
    PageLog,
    anonymous_id,
    request_body,
    wait_tracker,
    wait_until,
)


def test_page_views_and_spa_navigation(lp: Lp, page: Page) -> None:
    first = lp.page_url()
    page.goto(first)
    wait_tracker(page)
    lp.wait_events(page, "page_view")
    # A change of the hash alone is no new page; a new path is.
    page.evaluate("() => history.pushState({}, '', '#pricing')")
    page.evaluate("() => history.pushState({step: 2}, '', '/app/step-2?plan=pro')")
    views = lp.wait_events(page, "page_view", 2)

    assert [v["url"] for v in views] == [first, f"{lp.pages_base}/app/step-2?plan=pro"]
    assert views[0]["title"] == "Windows – Test shop"
    assert views[1]["referrer"] == first  # fragments are never sent (they may hold tokens)
    assert views[0]["session_id"] and views[0]["session_id"] == views[1]["session_id"]
    [visitor] = lp.visitors()
    assert visitor["anonymous_id"] == anonymous_id(page)
    assert {v["visitor_id"] for v in views} == {visitor["id"]}
    assert not visitor["is_bot"]

    # Back: popstate is a navigation too.
    page.go_back()
    views = lp.wait_events(page, "page_view", 3)
    assert views[2]["url"] == first


def test_calls_queued_before_load_are_replayed(lp: Lp, page: Page) -> None:
    page.goto(lp.page_url("queued.html"))
    [event] = lp.wait_events(page, "added_to_cart")
    assert event["properties"] == {"sku": "W-120"}
    assert event["url"] == lp.page_url("queued.html")


def test_identify_makes_a_lead_of_the_visitor_and_its_history(lp: Lp, page: Page) -> None:
    page.goto(lp.page_url())
    wait_tracker(page)
    lp.wait_events(page, "page_view")
    page.evaluate("() => leadpulse('identify', {email: 'Anna@Example.com', name: 'Anna'})")

    [lead] = wait_until(lp.leads, "a lead", page)
    assert lead["email"] == "anna@example.com"
    assert lead["name"] == "Anna"
    [view] = lp.events("page_view")
    assert view["lead_id"] == lead["id"]
    [visitor] = lp.visitors()
    assert visitor["lead_id"] == lead["id"]
    # Later events land on the lead directly.
    page.evaluate("() => leadpulse('track', 'price_list_download')")
    [later] = lp.wait_events(page, "price_list_download")
    assert later["lead_id"] == lead["id"]


def test_scroll_depth(lp: Lp, page: Page) -> None:
    page.goto(lp.page_url(flush=200))
    wait_tracker(page)
    lp.wait_events(page, "page_view")
    page.mouse.move(400, 400)
    for _ in range(12):
        page.mouse.wheel(0, 300)
    page.keyboard.press("End")
    [*_, deepest] = lp.wait_events(page, "scroll", where=lambda e: e["properties"]["depth"] >= 75)
    assert deepest["properties"]["depth"] <= 100
    depths = [e["properties"]["depth"] for e in lp.events("scroll")]
    assert depths == sorted(depths), "one event per new quarter reached, deeper each time"
    assert len(depths) <= 4


def test_engaged_time_is_counted_only_while_the_visitor_is_active(lp: Lp, page: Page) -> None:
    page.goto(lp.page_url(ping=200, idle=1000, flush=200))
    wait_tracker(page)
    lp.wait_events(page, "page_view")
    # No input yet: heartbeats pass without a ping. (A negative can only be observed over
    # time: a few ping intervals, then a marker event that flushes everything queued.)
    page.wait_for_timeout(600)
    page.evaluate("() => leadpulse('track', 'marker')")
    lp.wait_events(page, "marker")
    assert lp.events("page_ping") == []
    assert lp.events("mouse_activity") == []

    for i in range(10):
        page.mouse.move(100 + 40 * i, 200 + 10 * i)
        page.wait_for_timeout(40)
    pings = lp.wait_events(page, "page_ping")
    assert all(p["properties"]["engaged_ms"] > 0 for p in pings)
    [activity, *_] = lp.wait_events(page, "mouse_activity")
    assert activity["properties"]["intensity"] > 0


def test_clicks_on_links_buttons_and_tracked_elements(lp: Lp, page: Page) -> None:
    page.goto(lp.page_url(flush=200))
    wait_tracker(page)
    page.click("#pricing-link")
    page.click("#call")
    page.click("[data-lp-track]")
    page.click("p.lede")  # not clickable: no event
    clicks = lp.wait_events(page, "click", 3)
    props = [c["properties"] for c in clicks]
    assert props[0] == {
        "element": "a",
        "text": "See our prices",
        "href": lp.page_url(flush=200),  # without its fragment
        "id": "pricing-link",
    }
    assert props[1] == {"element": "button", "text": "Call us", "id": "call"}
    assert props[2] == {
        "element": "div",
        "text": "Download the catalogue",
        "track": "catalogue-banner",
    }
    page.evaluate("() => leadpulse('track', 'marker')")
    lp.wait_events(page, "marker")
    assert len(lp.events("click")) == 3


def test_form_start_and_submit_never_the_typed_values(lp: Lp, page: Page) -> None:
    secret = "anna.secret.7431@example.com"
    page.goto(lp.page_url())
    wait_tracker(page)
    page.fill("#quote input[name=email]", secret)
    page.fill("#quote textarea", "call me on 600 123 456")
    with page.expect_navigation():
        page.click("#quote button[type=submit]")
    [start] = lp.wait_events(page, "form_start")
    [submit] = lp.wait_events(page, "form_submit")
    assert start["properties"] == {"form": "quote"}
    assert submit["properties"] == {"form": "quote"}
    lp.wait_events(page, "page_view", 2)  # the thank-you page
    assert lp.events("form_abandon") == []
    text = lp.all_text()
    assert secret not in text
    assert "600 123 456" not in text


def test_form_abandon_when_leaving_a_started_form(lp: Lp, page: Page) -> None:
    page.goto(lp.page_url())
    wait_tracker(page)
    page.fill("#quote input[name=email]", "half-typed@example.com")
    page.goto(lp.page_url("thanks.html"))
    [abandon] = lp.wait_events(page, "form_abandon")
    assert abandon["properties"] == {"form": "quote"}
    lp.wait_events(page, "form_start")
    assert lp.events("form_submit") == []
    assert "half-typed@example.com" not in lp.all_text()


def test_exit_intent_when_the_pointer_leaves_through_the_top(lp: Lp, page: Page) -> None:
    """Real mouse moves: Chromium fires `mouseout` with no relatedTarget and clientY < 0 when
    the pointer goes above the viewport, as when a visitor heads for the tab bar."""
    page.goto(lp.page_url(flush=200))
    wait_tracker(page)
    lp.wait_events(page, "page_view")
    page.mouse.move(600, 300)
    page.mouse.move(600, 5)
    page.mouse.move(600, -5)
    page.mouse.move(600, 200)
    page.mouse.move(600, -5)  # again: still one per page view
    [exit_event] = lp.wait_events(page, "exit_intent")
    assert exit_event["url"] == lp.page_url(flush=200)
    page.evaluate("() => leadpulse('track', 'marker')")
    lp.wait_events(page, "marker")
    assert len(lp.events("exit_intent")) == 1


def test_events_carry_ids_session_and_context(lp: Lp, page_log: PageLog) -> None:
    page = page_log.page
    page.goto(lp.page_url())
    wait_tracker(page)
    lp.wait_events(page, "page_view")
    [request] = page_log.tracker_requests()
    body = request_body(request)
    assert body["write_key"] == lp.write_key
    assert set(body["context"]) == {"language", "timezone", "screen"}
    assert body["context"]["screen"].count("x") == 1
    [event] = body["events"]
    assert event["anonymous_id"] == anonymous_id(page)
    assert len(event["id"]) == 36
    assert lp.events("page_view")[0]["uid"] == event["id"]
    # Sent as a "simple" request: no CORS preflight.
    assert request.headers.get("content-type", "").startswith("text/plain")
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["_lp_id"]["value"] == event["anonymous_id"]
    assert cookies["_lp_id"]["sameSite"] == "Lax"
    stored = page.evaluate("() => localStorage.getItem('_lp_id')")
    assert stored == event["anonymous_id"]
