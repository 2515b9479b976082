"""The tracking wire format (docs/tracking-api.md), decoded and validated with msgspec."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

Id = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
AnonId = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
EventType = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
Url = Annotated[str, msgspec.Meta(max_length=4096)]
Text = Annotated[str, msgspec.Meta(max_length=1024)]

STANDARD_TYPES = (
    "page_view",
    "page_ping",
    "scroll",
    "mouse_activity",
    "click",
    "form_start",
    "form_submit",
    "form_abandon",
    "exit_intent",
)
"""Types with a documented meaning; any other name is a custom event."""


class Event(msgspec.Struct, frozen=True, kw_only=True):
    id: Id
    type: EventType
    anonymous_id: AnonId | None = None
    session_id: AnonId | None = None
    ts: datetime | None = None
    url: Url | None = None
    referrer: Url | None = None
    title: Text | None = None
    engaged_ms: Annotated[int, msgspec.Meta(ge=0, le=86_400_000)] | None = None
    depth: Annotated[float, msgspec.Meta(ge=0, le=100)] | None = None
    intensity: Annotated[float, msgspec.Meta(ge=0)] | None = None
    properties: dict[str, Any] = msgspec.field(default_factory=dict)


class Context(msgspec.Struct, frozen=True, kw_only=True):
    """What the tracker knows about the browser; the server adds user agent and IP."""

    language: Annotated[str, msgspec.Meta(max_length=35)] | None = None
    timezone: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    screen: Annotated[str, msgspec.Meta(max_length=32)] | None = None
    user_agent: Annotated[str, msgspec.Meta(max_length=1024)] | None = None


class Batch(msgspec.Struct, frozen=True, kw_only=True):
    write_key: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    events: list[Event]
    anonymous_id: AnonId | None = None
    context: Context | None = None


class Identify(msgspec.Struct, frozen=True, kw_only=True):
    write_key: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    anonymous_id: AnonId
    traits: dict[str, Any]
    context: Context | None = None


REQUIRED_MEASURE = {"page_ping": "engaged_ms", "scroll": "depth", "mouse_activity": "intensity"}
"""Standard types that must carry their measurement."""
