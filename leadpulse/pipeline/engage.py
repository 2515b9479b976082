"""Offers and personalisation inside the collect transaction: record what the tracker reports
seeing, then decide what this visitor's page should do now (the answer's `decisions`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import Connection, Engine

from leadpulse.core.types import EventRecord, Site, VisitContext
from leadpulse.engage import (
    KINDS,
    Definition,
    Kind,
    Offer,
    Seen,
    decide,
    group_of,
    parse_definition,
)
from leadpulse.engage.model import When
from leadpulse.pipeline.saved import Saved
from leadpulse.scoring import Score
from leadpulse.store import engage as engage_store
from leadpulse.store import events as event_store
from leadpulse.store import leads as lead_store
from leadpulse.store import segments as segment_store
from leadpulse.store import visitors as visitor_store
from leadpulse.store.engage import Exposure

REPORTS = {
    "offer_view": ("offer", "view"),
    "offer_close": ("offer", "close"),
    "offer_submit": ("offer", "submit"),
    "personalization_view": ("personalization", "view"),
}
"""Event types the tracker sends about offers and personalisations: (kind, action)."""


class EngageStep:
    """The saved offers and personalisations of this process, by site."""

    def __init__(self, engine: Engine) -> None:
        self.saved: Saved[Definition] = Saved(engine, _load, _parse)

    def refresh(self, force: bool = False) -> None:
        self.saved.refresh(force)

    # -- inside the collect unit ----------------------------------------------------------

    def on_events(
        self,
        conn: Connection,
        site: Site,
        visitor: tuple[int, int | None, str],
        ctx: VisitContext,
        records: list[EventRecord],
        scores: Mapping[str, Score],
        now: int,
    ) -> list[dict[str, Any]]:
        """Record the tracker's reports among `records`; return the decisions.

        `visitor` is (visitor id, lead id, anonymous id).
        """
        visitor_id, lead_id, anonymous_id = visitor
        definitions = self.saved.for_site(site.key)
        known: dict[tuple[str, str], Definition] = {(d.kind, d.key): d for d in definitions}
        reported = [e for r in records if (e := _exposure(r, known, anonymous_id)) is not None]
        if reported:
            engage_store.record(conn, visitor_id, reported)
        if not definitions:
            return []
        view = _view(conn, visitor_id, lead_id, ctx, records, scores)
        if any(_reads(d.when, "visits") for d in definitions):
            view["visits"] = event_store.visit_count(conn, visitor_id)
        seen: dict[str, Seen] = {}
        if any(isinstance(d, Offer) for d in definitions):
            seen = {
                key: Seen(
                    row["viewed_at"], row["viewed_session"], row["closed_at"], row["submitted_at"]
                )
                for key, row in engage_store.offers_seen(conn, visitor_id).items()
            }
        session = records[-1].session_id
        return decide(definitions, view, seen, anonymous_id, session, now)


def _reads(when: When, value: str) -> bool:
    """Whether a condition looks at `value` (costly values are only found out when read)."""
    return any(t.value == value for t in when.tests) or any(_reads(w, value) for w in when.any)


def _exposure(
    record: EventRecord, known: Mapping[tuple[str, str], Definition], anonymous_id: str
) -> Exposure | None:
    """A tracker report about one of this site's offers or personalisations. The group is the
    server's own (the hash), never the one the browser claims, and a report about a key the
    site does not have is only kept as an event: anyone may send events with a write key."""
    report = REPORTS.get(record.type)
    if report is None:
        return None
    kind, action = report
    definition = known.get((kind, str(record.properties.get(kind))))
    if definition is None:
        return None
    group = group_of(definition.key, anonymous_id, definition.holdout)
    return Exposure(kind, definition.key, action, group, record.session_id, record.ts)


def _view(
    conn: Connection,
    visitor_id: int,
    lead_id: int | None,
    ctx: VisitContext,
    records: list[EventRecord],
    scores: Mapping[str, Score],
) -> dict[str, Any]:
    """The values conditions and templates see: this visit, the lead's traits, the scores."""
    touch = next((r.touch for r in reversed(records) if r.touch is not None), None)
    if touch is None:
        touches = visitor_store.touches_of(conn, visitor_id)
        touch = touches[-1] if touches else None
    page = next((r.url for r in reversed(records) if r.type == "page_view" and r.url), None)
    page = page or next((r.url for r in reversed(records) if r.url), None)
    traits = lead_store.traits_of(conn, lead_id) if lead_id is not None else {}
    segments = sorted(segment_store.current(conn, lead_id)) if lead_id is not None else []
    view: dict[str, Any] = {
        "country": ctx.country,
        "region": ctx.region,
        "city": ctx.city,
        "browser": ctx.browser,
        "os": ctx.os,
        "device": ctx.device,
        "language": ctx.language,
        "page": page,
        "path": urlsplit(page).path if page else None,
        "known": lead_id is not None,
        "traits": traits,
        "segments": segments,
        "score": {k: s.total for k, s in scores.items()},
        "band": {k: s.band for k, s in scores.items()},
        "stage": {k: s.stage for k, s in scores.items()},
    }
    if touch is not None:
        view.update(
            channel=touch.channel, source=touch.source, medium=touch.medium,
            campaign=touch.campaign, keyword=touch.keyword, landing_page=touch.landing_page,
            referrer_host=touch.referrer_host,
        )  # fmt: skip
    return view


def _load(conn: Connection) -> list[tuple[str, str, int, str]]:
    return [(kind, *row) for kind in KINDS for row in engage_store.active(conn, kind)]


def _parse(kind: str, source: str, name: str) -> Definition:
    return parse_definition(_kind(kind), source, name)


def _kind(value: str) -> Kind:
    return "offer" if value == "offer" else "personalization"
