"""Delivery and privacy: outages, Do-Not-Track, consent, an unreachable Leadpulse."""

from __future__ import annotations

from collections import Counter

import pytest
from playwright.sync_api import Request, Response, Route

from tests.browser.support import (
    Lp,
    PageLog,
    free_port,
    request_body,
    wait_tracker,
    wait_until,
)


def _ids(request: Request) -> list[str]:
    return [e["id"] for e in request_body(request)["events"]]


def test_events_of_an_outage_arrive_later_exactly_once(lp: Lp, page_log: PageLog) -> None:
    """Issue scenario 4: the collector is unreachable for a while. What happened meanwhile
    reaches the database once it is back, each event exactly once, retried with its ids."""
    page = page_log.page
    succeeded: list[list[str]] = []
    failed: list[list[str]] = []

    def on_response(response: Response) -> None:
        if response.url.endswith("/v1/collect") and response.request.method == "POST":
            assert response.ok, f"collect answered {response.status}"
            succeeded.append(_ids(response.request))

    def on_failed(request: Request) -> None:
        if request.url.endswith("/v1/collect"):
            failed.append(_ids(request))

    page.on("response", on_response)
    page.on("requestfailed", on_failed)

    def refuse(route: Route) -> None:
        route.abort("connectionrefused")

    page.route("**/v1/collect", refuse)
    page.goto(lp.page_url(flush=200))
    wait_tracker(page)
    wait_until(lambda: len(failed) >= 1, "a refused send", page)
    page.evaluate("() => leadpulse('track', 'outage_1', {n: 1})")
    page.click("#call")
    page.evaluate("() => leadpulse('track', 'outage_2', {n: 2})")
    assert lp.events() == []
    page.unroute("**/v1/collect", refuse)

    lp.wait_events(page, "outage_2")
    page.evaluate("() => leadpulse('track', 'after_outage')")
    lp.wait_events(page, "after_outage")

    stored = lp.events()
    counts = Counter(e["type"] for e in stored)
    assert counts == {"page_view": 1, "outage_1": 1, "click": 1, "outage_2": 1, "after_outage": 1}
    # The browser reports a response a moment after the server has committed it.
    uids = sorted(e["uid"] for e in stored)
    wait_until(lambda: sum(map(len, succeeded)) >= len(uids), "the answers", page)
    sent_ok = [uid for ids in succeeded for uid in ids]
    assert len(sent_ok) == len(set(sent_ok)), "an event was sent again after a success"
    assert sorted(sent_ok) == uids
    # The retries carried the ids of the failed attempts.
    [view] = lp.events("page_view")
    assert view["uid"] in {i for ids in failed for i in ids}


DNT_SCRIPTS = {
    "doNotTrack": "Object.defineProperty(Navigator.prototype, 'doNotTrack', {get: () => '1'})",
    "globalPrivacyControl": (
        "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})"
    ),
}


@pytest.mark.parametrize("signal", sorted(DNT_SCRIPTS))
def test_do_not_track_sends_nothing(lp: Lp, page_log: PageLog, signal: str) -> None:
    """Issue scenario 5: with Do-Not-Track (or Global Privacy Control) on, the tracker makes
    no request at all and sets no cookie."""
    page = page_log.page
    page.context.add_init_script(DNT_SCRIPTS[signal])
    page.goto(lp.page_url(flush=100, ping=100, idle=1000))
    wait_tracker(page)
    page.mouse.move(300, 300)
    page.click("#call")
    page.mouse.wheel(0, 2000)
    page.evaluate("() => leadpulse('track', 'added_to_cart')")
    page.evaluate("() => leadpulse('identify', {email: 'dnt@example.com'})")
    page.mouse.move(300, -5)
    # Nothing is expected, so there is nothing to wait for: give the tracker several flush
    # and ping intervals to misbehave.
    page.wait_for_timeout(500)

    assert page_log.requests == []
    assert lp.events() == []
    assert lp.visitors() == []
    assert [c["name"] for c in page.context.cookies()] == []
    assert page.evaluate("() => Object.keys(localStorage)") == []
    assert page.evaluate("() => window.leadpulse.anonymousId()") is None
    assert page.evaluate("() => document.documentElement.classList.contains('lp-loading')") is False


def test_consent_required_sends_nothing_before_consent(lp: Lp, page_log: PageLog) -> None:
    page = page_log.page
    page.goto(lp.page_url(consent="required", flush=100))
    wait_tracker(page)
    page.click("#call")
    page.evaluate("() => leadpulse('track', 'before_consent')")
    page.wait_for_timeout(400)  # several flush intervals, see test_do_not_track_sends_nothing
    assert page_log.requests == []
    assert lp.events() == []
    assert [c["name"] for c in page.context.cookies()] == []

    page.evaluate("() => leadpulse('consent', true)")
    [view] = lp.wait_events(page, "page_view")
    page.evaluate("() => leadpulse('track', 'after_consent')")
    lp.wait_events(page, "after_consent")
    assert [c["name"] for c in page.context.cookies()] == ["_lp_id"]
    assert {e["type"] for e in lp.events()} == {"page_view", "after_consent"}
    assert view["url"] == lp.page_url(consent="required", flush=100)

    # Withdrawn: nothing more is sent and the id is forgotten.
    page.evaluate("() => leadpulse('consent', false)")
    sent = len(page_log.requests)
    page.click("#call")
    page.evaluate("() => leadpulse('track', 'after_withdrawal')")
    page.wait_for_timeout(500)
    assert len(page_log.requests) == sent
    assert {e["type"] for e in lp.events()} == {"page_view", "after_consent"}
    assert [c["name"] for c in page.context.cookies()] == []


def test_page_works_when_the_collector_is_unreachable(lp: Lp, page_log: PageLog) -> None:
    """t.js loads, but every request fails: no error reaches the page, and the tracker lifts
    the anti-flicker class itself (the page's own fallback is set to a minute here)."""
    page = page_log.page
    page.goto(lp.page_url(host=f"http://127.0.0.1:{free_port()}", flicker=60000))
    wait_tracker(page)
    page.wait_for_function("() => !document.documentElement.classList.contains('lp-loading')")
    page.click("#call")
    page.fill("#quote input[name=email]", "x@example.com")
    page.evaluate("() => leadpulse('track', 'still_fine')")
    page.evaluate("() => leadpulse('identify', {email: 'x@example.com'})")
    page.mouse.move(300, -5)
    wait_until(lambda: len(page_log.requests) >= 2, "attempts to send", page)
    assert page.is_visible("h1.hero")
    assert lp.events() == []


def test_page_works_when_the_tracker_cannot_load(lp: Lp, page_log: PageLog) -> None:
    """t.js itself is unreachable: the snippet's stub only queues, the page's own anti-flicker
    fallback shows the page."""
    page = page_log.page
    page.goto(lp.page_url(src=f"http://127.0.0.1:{free_port()}", flicker=200))
    page.wait_for_function("() => !document.documentElement.classList.contains('lp-loading')")
    page.evaluate("() => leadpulse('track', 'queued_forever')")
    assert page.evaluate("() => window.leadpulse.q.length") == 1
    page.click("#call")
    assert page.is_visible("h1.hero")
