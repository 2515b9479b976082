"""Which automations a change fires. Pure: the pipeline passes a lead's scores before and
after the change (as `{model: {"total", "band", "stage"}}`) and the new events.

A score or ladder trigger fires on the crossing itself, so it re-arms by itself: a lead must
cross back before it can cross again. Event triggers fire once per matching event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from leadpulse.automate.model import (
    Automation,
    EventTrigger,
    InactiveTrigger,
    LadderTrigger,
    Match,
    ScoreTrigger,
    SegmentTrigger,
    Trigger,
)
from leadpulse.core.compare import MISSING, compare, lookup

Scores = Mapping[str, Mapping[str, Any]]


def fired(
    automation: Automation,
    before: Scores,
    after: Scores,
    events: Sequence[Mapping[str, Any]],
    moves: Sequence[tuple[str, bool]] = (),
) -> list[dict[str, Any]]:
    """What fired, as the `trigger` part of the webhook payload; empty when nothing did.

    `moves` are the segments the lead entered (True) or left (False) with this change."""
    return fired_by(automation.trigger, before, after, events, moves)


def fired_by(
    trigger: Trigger,
    before: Scores,
    after: Scores,
    events: Sequence[Mapping[str, Any]],
    moves: Sequence[tuple[str, bool]] = (),
) -> list[dict[str, Any]]:
    """`fired` for any trigger (a scenario's exit too)."""
    if isinstance(trigger, SegmentTrigger):
        hit = (trigger.segment, trigger.enters) in moves
        move = "enters" if trigger.enters else "leaves"
        return [{"kind": "segment", "segment": trigger.segment, "move": move}] if hit else []
    if isinstance(trigger, EventTrigger):
        return [_event_fired(trigger, e) for e in events if _event_matches(trigger, e)]
    if isinstance(trigger, ScoreTrigger):
        crossed = _score_crossed(trigger, before, after)
        return [crossed] if crossed else []
    if isinstance(trigger, InactiveTrigger):
        return []  # a matter of time, not of a change: see pipeline.automate.check_inactivity
    moved = _ladder_moved(trigger, before, after)
    return [moved] if moved else []


def _total(scores: Scores, model: str) -> float:
    value = scores.get(model, {}).get("total")
    return float(value) if isinstance(value, int | float) else 0.0


def _score_crossed(trigger: ScoreTrigger, before: Scores, after: Scores) -> dict[str, Any] | None:
    was, now = _total(before, trigger.model), _total(after, trigger.model)
    limit = trigger.threshold
    crossed = was < limit <= now if trigger.up else was >= limit > now
    if not crossed:
        return None
    return {"kind": "score", "model": trigger.model, "threshold": limit,
            "direction": "up" if trigger.up else "down", "from": was, "to": now}  # fmt: skip


def _ladder_moved(trigger: LadderTrigger, before: Scores, after: Scores) -> dict[str, Any] | None:
    was = before.get(trigger.model, {}).get(trigger.ladder)
    now = after.get(trigger.model, {}).get(trigger.ladder)
    if was == now or (trigger.model not in after):
        return None
    if (now if trigger.becomes else was) != trigger.name:
        return None
    return {"kind": trigger.ladder, "model": trigger.model, "from": was, "to": now}


def _event_matches(trigger: EventTrigger, event: Mapping[str, Any]) -> bool:
    return event.get("type") == trigger.type and matches(trigger.where, event)


def matches(where: Sequence[Match], event: Mapping[str, Any]) -> bool:
    """Every condition holds on the event; a name not among its fields is looked up in its
    properties (`offer` and `properties.offer` both work)."""
    props = event.get("properties") or {}
    for match in where:
        value = lookup(event, match.field)
        if value is MISSING and isinstance(props, Mapping):
            value = lookup(props, match.field)
        if not compare(value, match.op, match.operand):
            return False
    return True


def _event_fired(trigger: EventTrigger, event: Mapping[str, Any]) -> dict[str, Any]:
    """With the event's page and properties, so a scenario's later steps (an email a day on)
    can still say which product it was: `{{trigger.properties.name}}`."""
    return {"kind": "event", "type": trigger.type, "event": event.get("id"),
            "url": event.get("url"), "properties": event.get("properties") or {}}  # fmt: skip
