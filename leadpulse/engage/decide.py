"""What the page should do for one visitor now: the `decisions` of the collect answer.

Pure: the pipeline gathers the visit's values (`View`) and what the visitor already did with
each offer (`Seen`); this module checks conditions, frequency and the holdout, and renders the
templates. The tracker carries the decisions out (docs/tracker.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from leadpulse.core.compare import compare, lookup
from leadpulse.core.template import render, safe_url
from leadpulse.engage.model import Change, Definition, Field, Offer, Personalization, When

DAY_MS = 86_400_000
URL_ATTRIBUTES = frozenset({"href", "src", "action", "formaction", "xlink:href", "poster", "data",
                            "cite", "background", "ping"})  # fmt: skip
HOLDOUT = "holdout"
TREATMENT = "treatment"


@dataclass(frozen=True, slots=True)
class Seen:
    """What a visitor did with one offer: its last view (time and session), close and submit."""

    viewed_at: int | None = None
    viewed_session: str | None = None
    closed_at: int | None = None
    submitted_at: int | None = None


def group_of(key: str, anonymous_id: str, holdout: float) -> str:
    """The visitor's group for one offer or personalisation: stable, and independent between
    definitions (a hash of both), so the same visitors are not always the ones kept out."""
    if holdout <= 0:
        return TREATMENT
    digest = hashlib.sha256(f"{key}\x00{anonymous_id}".encode()).digest()
    bucket = int.from_bytes(digest[:4], "big") % 10_000
    return HOLDOUT if bucket < holdout * 100 else TREATMENT


def holds(when: When, view: Mapping[str, Any]) -> bool:
    """The server-side part of `when`: every test, and one of `any` when given."""
    for test in when.tests:
        if not compare(lookup(view, test.value), test.op, test.operand):
            return False
    return not when.any or any(holds(alt, view) for alt in when.any)


def may_show(offer: Offer, seen: Seen | None, session: str | None, now: int) -> bool:
    """Frequency: never after a submit, not for N days after a close, once per period."""
    if seen is None:
        return True
    if seen.submitted_at is not None:
        return False
    freq = offer.frequency
    if seen.closed_at is not None and now - seen.closed_at < freq.after_close_days * DAY_MS:
        return False
    if seen.viewed_at is None or freq.once_per == "page":
        return True
    if freq.once_per == "visitor":
        return False
    if freq.once_per == "day":
        return now - seen.viewed_at >= DAY_MS
    return session is None or seen.viewed_session != session


def decide(
    definitions: Sequence[Definition],
    view: Mapping[str, Any],
    seen: Mapping[str, Seen],
    anonymous_id: str,
    session: str | None,
    now: int,
) -> list[dict[str, Any]]:
    """The decisions for this visitor, in the order the definitions were given.

    `seen` is keyed by offer key. Holdout visitors get the same decisions with their group and
    nothing to apply, so the tracker records their exposure at the same moment.
    """
    out: list[dict[str, Any]] = []
    for item in definitions:
        if not holds(item.when, view):
            continue
        group = group_of(item.key, anonymous_id, item.holdout)
        if isinstance(item, Personalization):
            changes = [] if group == HOLDOUT else [_change(c, view) for c in item.changes]
            out.append(
                {"kind": "personalization", "key": item.key, "group": group, "changes": changes}
            )
        elif may_show(item, seen.get(item.key), session, now):
            out.append(_offer(item, group, view))
    return out


def _offer(offer: Offer, group: str, view: Mapping[str, Any]) -> dict[str, Any]:
    content = offer.content
    return {
        "kind": "offer",
        "key": offer.key,
        "group": group,
        "trigger": {
            "exit_intent": offer.when.exit_intent,
            "seconds_on_page": offer.when.seconds_on_page,
            "scroll_depth": offer.when.scroll_depth,
        },
        "content": {
            "title": render(content.title, view),
            "text": render(content.text, view),
            "button": render(content.button, view),
            "close": render(content.close, view),
            "confirm": render(content.confirm, view),
            "fields": [_field(f) for f in content.fields],
        },
    }


def _field(field: Field) -> dict[str, Any]:
    return {
        "name": field.name,
        "label": field.label,
        "type": field.type,
        "required": field.required,
    }


def _change(change: Change, view: Mapping[str, Any]) -> dict[str, Any]:
    if change.action == "attribute":
        value = render(change.value, view)
        if (change.attribute or "").lower() in URL_ATTRIBUTES and not safe_url(value):
            value = ""
        return {"selector": change.selector, "attribute": change.attribute, "value": value}
    value = render(change.value, view, escape=change.action == "html")
    return {"selector": change.selector, change.action: value}
