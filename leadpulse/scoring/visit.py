"""What scoring sees of a visit: an event's fields, and the subject's enrichment and traits.

Every collect request runs these between loading a state and applying its events, so they
are compiled with the engine (scoring/native.py).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from leadpulse.core.types import EventRecord, Touch, VisitContext
from leadpulse.scoring.engine import Happening
from leadpulse.scoring.state import State


def happening(record: EventRecord, ctx: VisitContext, site_key: str) -> Happening:
    fields = event_fields(record.url, record.referrer, record.title, record.properties,
                          ctx.country, ctx.browser, ctx.device, ctx.language)  # fmt: skip
    touch = record.touch
    if touch is not None:
        fields["channel"] = touch.channel
        fields["source"] = touch.source
        fields["medium"] = touch.medium
        fields["campaign"] = touch.campaign
        fields["keyword"] = touch.keyword
    return Happening(record.uid, record.type, record.ts, record.session_id, fields, site_key)


def event_fields(
    url: str | None,
    referrer: str | None,
    title: str | None,
    properties: Any,
    country: str | None,
    browser: str | None,
    device: str | None,
    language: str | None,
) -> dict[str, Any]:
    """The fields `event` conditions see (besides the touch's)."""
    return {"url": url, "path": _path(url) if url else None, "referrer": referrer, "title": title,
            "properties": properties, "country": country, "browser": browser, "device": device,
            "language": language}  # fmt: skip


@lru_cache(maxsize=16_384)
def _path(url: str) -> str:
    """A page's path; sites have few pages, so each URL is parsed once."""
    return urlsplit(url).path


def enrich(state: State, ctx: VisitContext, touch: Touch | None) -> bool:
    """What Leadpulse found out about the subject; the first touch is kept. Whether it
    changed the subject's traits."""
    found: dict[str, Any] | None = state.get("enrichment")
    changed = found is None
    if found is None:
        found = state["enrichment"] = {}
    for name, value in (("country", ctx.country), ("region", ctx.region), ("city", ctx.city),
                        ("language", ctx.language), ("browser", ctx.browser), ("os", ctx.os),
                        ("device", ctx.device)):  # fmt: skip
        if value is not None and found.get(name) != value:
            found[name] = value
            changed = True
    if touch is not None and "channel" not in found:
        found["channel"] = touch.channel
        found["source"] = touch.source
        found["medium"] = touch.medium
        found["campaign"] = touch.campaign
        found["keyword"] = touch.keyword
        found["landing_page"] = touch.landing_page
        changed = True
    return changed


def scoring_traits(state: State) -> dict[str, Any]:
    """Enrichment with the lead's own traits on top: a sent value wins."""
    return {**state.get("enrichment", {}), **state.get("sent", {})}
