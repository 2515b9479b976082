"""Values that travel between stages: frozen, typed, JSON-friendly."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

JSONDict = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Site:
    id: int
    key: str
    name: str
    domains: tuple[str, ...]
    write_key: str


@dataclass(frozen=True, slots=True)
class Touch:
    """One marketing touch: where a visit came from (first- and last-touch attribution)."""

    channel: str
    source: str | None
    medium: str | None
    campaign: str | None
    keyword: str | None
    landing_page: str | None
    referrer_host: str | None
    at: int

    def to_dict(self) -> JSONDict:
        return {
            "channel": self.channel,
            "source": self.source,
            "medium": self.medium,
            "campaign": self.campaign,
            "keyword": self.keyword,
            "landing_page": self.landing_page,
            "referrer_host": self.referrer_host,
            "at": self.at,
        }


@dataclass(frozen=True, slots=True)
class VisitContext:
    """What one request tells about the visitor: device, place, language. The IP is truncated."""

    is_bot: bool
    bot_name: str | None
    browser: str | None
    os: str | None
    device: str | None
    country: str | None
    region: str | None
    city: str | None
    ip: str | None
    language: str | None


@dataclass(frozen=True, slots=True)
class EventRecord:
    """A validated, enriched event ready to store."""

    uid: str
    type: str
    ts: int
    session_id: str | None
    url: str | None
    referrer: str | None
    title: str | None
    properties: JSONDict
    touch: Touch | None


@dataclass(frozen=True, slots=True)
class Contact:
    """The identity-bearing part of a lead's traits, normalised, with data-quality flags."""

    email: str | None
    phone: str | None
    external_id: str | None
    quality: JSONDict
