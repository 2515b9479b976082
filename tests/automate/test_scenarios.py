"""Scenarios: steps with waits, run by the minute tick with an injected clock, ended early by
their exit trigger — the abandoned-cart template end to end with a real SMTP server."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from leadpulse.automate import AutomationError, parse_automation
from leadpulse.collect.schema import Batch, Event
from leadpulse.core import clock
from leadpulse.web.app import create_app
from tests.automate.support import Mailing, wait_for

EXAMPLES = Path(__file__).resolve().parents[2] / "docs/examples/automations"
CART = EXAMPLES / "abandoned-cart.yaml"
HOUR = 3_600_000


def test_abandoned_cart_emails_twice_and_stops_on_purchase(mailing: Mailing) -> None:
    p, inbox = mailing.pipeline, mailing.inbox
    start = clock.now_ms()
    clock.set_clock(lambda: start)
    p.save_definition("automation", "abandoned-cart", CART.read_text())
    site = p.add_site("Shop", [], key="cart-shop")
    ctx = p.visit_context("Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0", None, None)

    leads: dict[str, int | None] = {}

    def buyer(anon: str, *kinds: str) -> None:
        who = {"email": f"{anon}@example.com", "name": anon}
        leads[anon] = asyncio.run(p.identify(site, anon, who, ctx)).lead
        events = [Event(id=uuid.uuid4().hex, type=k) for k in kinds]
        asyncio.run(p.collect(site, Batch(write_key=site.write_key, anonymous_id=anon,
                                          events=events), ctx))  # fmt: skip

    buyer("ada", "added_to_cart")
    buyer("ben", "added_to_cart")
    assert p.tick() == 0  # nothing before the hour is over
    clock.set_clock(lambda: start + HOUR + 1000)
    assert p.tick() == 2  # the first email to both
    wait_for(lambda: len(inbox.messages) == 2, "two first emails")
    buyer("ben", "purchase")  # ben buys: his scenario ends
    buyer("ada", "added_to_cart")  # running already: not a second run
    clock.set_clock(lambda: start + 50 * HOUR)
    assert p.tick() == 1  # only ada's second email
    wait_for(lambda: len(inbox.messages) == 3, "the second email")
    assert p.tick() == 0  # ada is done
    mails = [(m["To"], m["Subject"]) for m in inbox.messages]
    assert sorted(mails[:2]) == [
        ("ada@example.com", "You left something in your cart"),
        ("ben@example.com", "You left something in your cart"),
    ]
    assert mails[2] == ("ada@example.com", "Still thinking it over?")
    client = TestClient(create_app(pipeline=p))
    auth = {"Authorization": f"Bearer {p.create_api_key('runs')}"}
    runs = client.get("/v1/runs", params={"automation": "abandoned-cart"}, headers=auth).json()
    ended = {r["lead_id"]: (r["status"], r["step"]) for r in runs["items"]}
    ada, ben = leads["ada"], leads["ben"]
    assert ended == {ada: ("done", 4), ben: ("exited", 3)}
    [bens] = client.get("/v1/runs", params={"lead": ben}, headers=auth).json()["items"]
    assert bens["trigger"]["kind"] == "event" and bens["ended_at"] == start + HOUR + 1000
    bad = client.get("/v1/runs", params={"status": "paused"}, headers=auth)
    assert bad.status_code == 400 and "status" in bad.text


def test_viewed_product_and_unfinished_registration_templates(mailing: Mailing) -> None:
    p, inbox = mailing.pipeline, mailing.inbox
    start = clock.now_ms()
    clock.set_clock(lambda: start)
    for name in ("viewed-products", "unfinished-registration"):
        p.save_definition("automation", name, (EXAMPLES / f"{name}.yaml").read_text())
    site = p.add_site("Shop", [], key="tpl-shop")
    ctx = p.visit_context("Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0", None, None)

    def visit(anon: str, *events: Event) -> None:
        traits = {"email": f"{anon}@example.com", "name": anon.title()}
        asyncio.run(p.identify(site, anon, traits, ctx))
        asyncio.run(p.collect(site, Batch(write_key=site.write_key, anonymous_id=anon,
                                          events=list(events)), ctx))  # fmt: skip

    def ev(kind: str, **props: str) -> Event:
        url = "https://shop.example/oak" if kind == "product_view" else None
        return Event(id=uuid.uuid4().hex, type=kind, url=url, properties=props)

    visit("cleo", ev("product_view", name="Oak Classic"))
    visit("dan", ev("form_abandon", form="registration"))
    visit("eva", ev("form_abandon", form="registration"))
    visit("eva", ev("form_submit", form="registration"))  # finished: no reminder
    clock.set_clock(lambda: start + HOUR + 1000)
    assert p.tick() == 1  # dan's reminder; cleo waits a day
    clock.set_clock(lambda: start + 25 * HOUR)
    assert p.tick() == 1  # cleo's product email
    wait_for(lambda: len(inbox.messages) == 2, "two emails")
    mails = {m["To"]: m for m in inbox.messages}
    assert mails["dan@example.com"]["Subject"] == "Your registration is almost done"
    cleo = mails["cleo@example.com"]
    assert cleo["Subject"] == "Still interested in Oak Classic?"
    assert "https://shop.example/oak" in cleo.get_payload()


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("key: a\nwhen: {event: {type: x}}\nsteps: [{wait: {weeks: 1}}]", "steps[0].wait.weeks"),
        ("key: a\nwhen: {event: {type: x}}\nexit: {event: {type: y}}\nactions: [{tag: t}]", "exit"),
        ("key: a\nwhen: {event: {type: x}}\nactions: [{tag: t}]\nsteps: [{tag: t}]", "actions"),
    ],
)
def test_bad_scenarios_are_named(text: str, field: str) -> None:
    with pytest.raises(AutomationError) as err:
        parse_automation(text, "s.yaml")
    assert err.value.field == field
