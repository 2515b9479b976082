"""`leadpulse demo`: the window shop of seed 000, set up and visited.

Seeds a site `demo` (served at /demo/), the website-behaviour model, the call-back offer, the
exit offer and the keyword personalisations from `leadpulse/examples`, then sends a stream of
plausible visits through the same pipeline the collector uses — search ads for "windows on
credit", organic searches for a cottage window, social clicks, newsletter readers — so that a
newcomer opens the API or the demo shop and sees cold, warm and hot leads at once.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any
from urllib.parse import quote_plus

from leadpulse.collect.schema import Batch, Event
from leadpulse.core import clock
from leadpulse.core.types import Site
from leadpulse.engage import HOLDOUT, Kind, Offer, group_of, parse_definition
from leadpulse.pipeline import Pipeline
from leadpulse.scoring.parse import parse_model
from leadpulse.store import sites as site_store

SITE_KEY = "demo"
DEMO_USER = "admin@demo.example"
HOST = "http://localhost:8000"
DEFINITIONS: list[tuple[Kind, str]] = [
    ("offer", "offers/callback.yaml"),
    ("offer", "offers/price-list-on-exit.yaml"),
    ("personalization", "personalizations/credit-headline.yaml"),
    ("personalization", "personalizations/cottage-headline.yaml"),
]
MODELS = ["models/website-behaviour.yaml"]

AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36",
]
IPS = {"PL": ["83.0.0.1", "89.64.0.1", "178.42.0.1"], "DE": ["91.64.0.1"], "GB": ["81.2.69.1"]}
FIRST = ["Anna", "Piotr", "Kasia", "Marek", "Ewa", "Tomasz", "Olga", "Jan", "Zofia", "Adam"]
LAST = ["Nowak", "Kowalski", "Wiśniewska", "Wójcik", "Kamińska", "Lewandowski", "Zielińska"]


@dataclass(frozen=True, slots=True)
class Arrival:
    """How a visit starts: the landing URL's query and the referrer."""

    query: str
    referrer: str | None
    page: str = "index.html"


ARRIVALS = [
    Arrival("utm_source=google&utm_medium=cpc&utm_campaign=credit&utm_term=windows+on+credit",
            "https://www.google.com/", "credit.html"),
    Arrival("utm_source=google&utm_medium=cpc&utm_campaign=brand&utm_term=pvc+windows",
            "https://www.google.com/"),
    Arrival("", "https://www.google.com/search?q=" + quote_plus("a window for the cottage")),
    Arrival("utm_source=facebook&utm_medium=paid_social&utm_campaign=autumn", "https://m.facebook.com/"),
    Arrival("utm_source=newsletter&utm_medium=email&utm_campaign=november", None, "pricing.html"),
    Arrival("", None),
    Arrival("", "https://www.houzz.com/ideas/windows"),
]  # fmt: skip
PAGES = ["index.html", "product.html?sku=nova-70", "product.html?sku=oak-classic", "pricing.html",
         "credit.html", "contact.html", "product.html?sku=cottage-60"]  # fmt: skip


def seed(pipeline: Pipeline, host: str = HOST) -> tuple[Site, bool]:
    """Create the demo site and save its model, offers and personalisations.

    Returns the site and whether it was created now (False: it existed, nothing changed).
    """
    with pipeline.engine.connect() as conn:
        existing = site_store.site_by_key(conn, SITE_KEY)
    if existing is not None:
        return existing, False
    site = pipeline.add_site("Okna Nova (demo)", ["localhost", "127.0.0.1"], key=SITE_KEY)
    for path in MODELS:
        text = example(path)
        pipeline.publish_model(parse_model(text, path).key, text)
    for kind, path in DEFINITIONS:
        text = example(path)
        pipeline.save_definition(kind, parse_definition(kind, text, path).key, text)
    return site, True


def dashboard_user(pipeline: Pipeline) -> tuple[str, str]:
    """An admin of the dashboard with a fresh random password; returns (email, password)."""
    password = secrets.token_urlsafe(12)
    pipeline.accounts.add_user(DEMO_USER, password, "admin")
    return DEMO_USER, password


def simulate(pipeline: Pipeline, site: Site, visitors: int = 80, seed: int = 7) -> int:
    """Send `visitors` plausible visitors through the pipeline; returns the events sent."""
    rng = random.Random(seed)
    callback = parse_definition("offer", example("offers/callback.yaml"))
    assert isinstance(callback, Offer)
    now = clock.now_ms()
    sent = 0

    async def run() -> None:
        nonlocal sent
        for n in range(visitors):
            sent += await _visitor(pipeline, site, rng, n, now, callback)

    asyncio.run(run())
    return sent


async def _visitor(
    pipeline: Pipeline, site: Site, rng: random.Random, n: int, now: int, callback: Offer
) -> int:
    anon = f"demo-{n:04d}-{rng.randrange(16**8):08x}"
    country = rng.choices(["PL", "DE", "GB"], weights=[8, 1, 1])[0]
    ctx = pipeline.visit_context(rng.choice(AGENTS), rng.choice(IPS[country]), "pl-PL")
    eager = rng.random()  # how interested this visitor is: pages, time, scroll
    at = now - rng.randrange(3 * 86_400_000) - 3_600_000
    sent = 0
    for visit in range(1 + (eager > 0.7) + (eager > 0.9)):
        arrival = rng.choice(ARRIVALS)
        session = uuid.uuid4().hex
        landing = f"{HOST}/demo/{arrival.page}" + (f"?{arrival.query}" if arrival.query else "")
        events = [_event("page_view", at, session, url=landing, referrer=arrival.referrer)]
        for page in rng.sample(PAGES, k=min(len(PAGES), int(eager * 6))):
            at += rng.randrange(20_000, 90_000)
            events.append(_event("page_view", at, session, url=f"{HOST}/demo/{page}"))
            events.append(_event("page_ping", at + 15_000, session, engaged_ms=15_000))
            if rng.random() < eager:
                events.append(
                    _event("scroll", at + 20_000, session, depth=rng.choice([50, 80, 100]))
                )
            if page == "contact.html" and rng.random() < eager:
                events.append(
                    _event("form_start", at + 25_000, session, properties={"form": "contact"})
                )
        if eager > 0.55:
            events.append(_event("mouse_activity", at, session, intensity=rng.randrange(20, 120)))
        answer = await pipeline.collect(site, _batch(site, anon, events), ctx)
        sent += answer.accepted
        hot = any(d["key"] == callback.key for d in answer.decisions)
        if hot:
            sent += await _meets_offer(pipeline, site, rng, anon, session, at, ctx, callback)
        elif visit == 0 and ("medium=email" in arrival.query or rng.random() < eager * 0.5):
            # a newsletter reader is known by the link; others leave an email for the price list
            await pipeline.identify(site, anon, _person(random.Random(anon), email=True), ctx)
        at += rng.randrange(3_600_000, 86_400_000)
        at = min(at, now - 60_000)
    return sent


async def _meets_offer(
    pipeline: Pipeline,
    site: Site,
    rng: random.Random,
    anon: str,
    session: str,
    at: int,
    ctx: Any,
    offer: Offer,
) -> int:
    """A hot visitor sees the call-back popup (or would, in the holdout) and may leave a phone."""
    group = group_of(offer.key, anon, offer.holdout)
    seen = {"offer": offer.key, "group": group}
    events = [_event("offer_view", at + 5_000, session, properties=seen)]
    if group != HOLDOUT and rng.random() < 0.6:
        lead = await pipeline.identify(site, anon, _person(random.Random(anon), phone=True), ctx)
        if lead.lead is not None and rng.random() < 0.4:
            outcome: dict[str, Any] = rng.choice(
                [{"outcome": "won", "value": rng.randrange(800, 6000)}, {"outcome": "lost"}]
            )
            pipeline.add_outcome(lead.lead, {**outcome, "at": min(at + 86_400_000, clock.now_ms())})
        events.append(_event("offer_submit", at + 30_000, session, properties={"offer": offer.key}))
    elif group != HOLDOUT:
        events.append(_event("offer_close", at + 8_000, session, properties={"offer": offer.key}))
    answer = await pipeline.collect(site, _batch(site, anon, events), ctx)
    return answer.accepted


def _person(rng: random.Random, *, email: bool = False, phone: bool = False) -> dict[str, Any]:
    """One person per visitor (`rng` is seeded with the anonymous id): the same name on the
    newsletter sign-up and in the call-back popup."""
    first, last = rng.choice(FIRST), rng.choice(LAST)
    traits: dict[str, Any] = {"name": f"{first} {last}"}
    if email:
        traits["email"] = f"{first.lower()}.{rng.randrange(100, 999)}@example.com"
    if phone:
        traits["phone"] = f"+48 600 {rng.randrange(100, 999)} {rng.randrange(100, 999)}"
    return traits


def _event(kind: str, at: int, session: str, **fields: Any) -> Event:
    ts = datetime.fromtimestamp(at / 1000, tz=UTC)
    return Event(id=uuid.uuid4().hex, type=kind, session_id=session, ts=ts, **fields)


def _batch(site: Site, anon: str, events: list[Event]) -> Batch:
    return Batch(write_key=site.write_key, anonymous_id=anon, events=events)


def example(path: str) -> str:
    return resources.files("leadpulse").joinpath("examples", path).read_text(encoding="utf-8")
