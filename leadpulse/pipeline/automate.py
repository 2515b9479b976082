"""Automations inside the writer's transactions: compare a lead's scores before and after a
change, record what fired, and write its effects to the outbox — in the same transaction, so
a crash can never fire without recording or record without delivering."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy.engine import Connection, Engine

from leadpulse.automate import Automation, fired, parse_automation
from leadpulse.automate.model import (
    Action,
    Assign,
    Email,
    InactiveTrigger,
    SetStage,
    SetTraits,
    Task,
    Wait,
    Webhook,
)
from leadpulse.automate.segments import Count, Metric, Segment, holds, parse_segment
from leadpulse.automate.triggers import fired_by, matches
from leadpulse.core.compare import compare, lookup
from leadpulse.core.template import render
from leadpulse.core.types import EventRecord
from leadpulse.pipeline.saved import Saved
from leadpulse.pipeline.scoring import ScoringStep
from leadpulse.scoring import State, empty_state
from leadpulse.scoring.state import metric_value
from leadpulse.store import engage as definition_store
from leadpulse.store import leads as lead_store
from leadpulse.store import locks
from leadpulse.store import outbox as outbox_store
from leadpulse.store import owners as owner_store
from leadpulse.store import scenarios as scenario_store
from leadpulse.store import scores as score_store
from leadpulse.store import segments as segment_store

KIND = "automation"
SEGMENT = "segment"
PAYLOAD_VERSION = 1
_LEAD_FIELDS = (
    "id", "email", "phone", "name", "company", "source", "country", "channel", "traits",
    "quality", "first_touch", "last_touch", "created_at", "last_seen_at",
)  # fmt: skip


class AutomateStep:
    """The saved automations of this process, and what they do inside a change."""

    def __init__(self, engine: Engine, scoring: ScoringStep) -> None:
        self.scoring = scoring
        self.saved: Saved[Automation] = Saved(engine, _loader(KIND), _parse)
        self.segments: Saved[Segment] = Saved(engine, _loader(SEGMENT), _parse_segment)

    def refresh(self, force: bool = False) -> None:
        self.saved.refresh(force)
        self.segments.refresh(force)

    def active(self, site_key: str | None) -> list[Automation]:
        if site_key is None:
            return [a for a in self.saved.all if a.site is None]
        return self.saved.for_site(site_key)

    def watching(self, site_key: str | None) -> bool:
        """Whether a change to a lead of this site needs `on_change` at all."""
        segments = self.segments.all if site_key is None else self.segments.for_site(site_key)
        return bool(self.active(site_key) or segments)

    def on_change(
        self,
        conn: Connection,
        automations: Sequence[Automation],
        lead_id: int,
        before: Mapping[str, Any],
        after: Mapping[str, Any],
        records: Sequence[EventRecord],
        now: int,
    ) -> int:
        """Fire what the change triggers (each once per crossing or event, then cool down);
        returns how many deliveries were queued."""
        events = [_event(r) for r in records]
        queued = 0
        snapshot: list[dict[str, Any]] = []
        moves: list[tuple[str, bool]] = []
        if self.segments.all:
            snapshot.append(_lead(conn, lead_id, after))
            moves = self._segments(conn, snapshot[0], now)
        for automation in automations:
            if automation.exit is not None and fired_by(automation.exit, before, after, events,
                                                        moves):  # fmt: skip
                self._end_runs(conn, automation.key, lead_id, now)
                continue
            for trigger in fired(automation, before, after, events, moves):
                if not snapshot:
                    snapshot.append(_lead(conn, lead_id, after))
                queued += self.fire(conn, automation, snapshot[0], trigger, events, now)
        return queued

    def _segments(self, conn: Connection, lead: dict[str, Any], now: int) -> list[tuple[str, bool]]:
        """Enter and leave segments as the lead now is; returns the moves (key, entered)."""
        lead_id = lead["id"]
        inside = segment_store.current(conn, lead_id)
        moves = []

        def count(c: Count) -> int:
            since = c.since
            if c.within_days is not None:
                since = max(since or 0, now - int(c.within_days * 86_400_000))
            found = segment_store.lead_events(conn, lead_id, c.type, since, c.until)
            return sum(1 for e in found if matches(c.where, e))

        states: list[State] = []

        def metric(m: Metric) -> list[float]:
            if not states:
                states.append(score_store.load_state(conn, lead_id, None) or empty_state())
            state = states[0]
            if m.name == "sessions":
                return [float(len(state["sessions"]))]
            if m.per == "lifetime":
                return [metric_value(state["lifetime"], m.name)]
            return [metric_value(stats, m.name) for stats in state["sessions"].values()]

        for segment in self.segments.all:
            member = holds(segment.when, lead, count, metric)
            if member and segment.key not in inside:
                segment_store.enter(conn, segment.key, lead_id, now)
                moves.append((segment.key, True))
            elif not member and segment.key in inside:
                segment_store.leave(conn, segment.key, lead_id, now)
                moves.append((segment.key, False))
        return moves

    def fire(
        self,
        conn: Connection,
        automation: Automation,
        lead: dict[str, Any],
        trigger: dict[str, Any],
        events: list[dict[str, Any]],
        now: int,
    ) -> int:
        """Record one firing for the lead (unless cooling down) and carry out its actions, in
        order; returns how many outbox deliveries it queued."""
        lead_id = lead["id"]
        since = now - int(automation.cooldown_minutes * 60_000)
        if automation.cooldown_minutes and outbox_store.fired_since(
            conn, automation.key, lead_id, since
        ):
            return 0
        if automation.steps and scenario_store.running(conn, automation.key, lead_id):
            return 0  # a lead goes through a scenario once at a time
        outbox_store.record_firing(conn, automation.key, lead_id, trigger, now)
        if automation.steps:
            run = scenario_store.start(conn, automation.key, lead_id, trigger, now)
            self.scoring.on_scenario(conn, lead_id, automation.key, True, now)
            return self._advance(conn, automation, run, lead, now)
        return self._act(conn, automation, automation.actions, lead, trigger, events, now)

    def _act(
        self,
        conn: Connection,
        automation: Automation,
        actions: Sequence[Action],
        lead: dict[str, Any],
        trigger: dict[str, Any],
        events: list[dict[str, Any]],
        now: int,
    ) -> int:
        """Carry out actions in order; returns how many outbox deliveries they queued."""
        lead_id = lead["id"]
        queued = 0
        for action in actions:
            if isinstance(action, Assign):
                _assign(conn, action, lead_id, lead, now)
            elif isinstance(action, Task):
                _task(conn, action, automation.key, lead, trigger, now)
            elif isinstance(action, SetTraits):
                _set_traits(conn, action, lead, now)
            elif isinstance(action, SetStage):
                scores = self.scoring.pin_stage(conn, lead_id, action.model, action.stage, now)
                _rescored(lead, {k: v.to_dict() for k, v in scores.items()})
            else:
                message_id = "msg_" + uuid.uuid4().hex
                kind, target, body = _effect(action, message_id, automation, trigger, lead,
                                             events, now)  # fmt: skip
                outbox_store.enqueue(
                    conn, message_id=message_id, automation=automation.key, lead_id=lead_id,
                    kind=kind, target=target, body=body, at=now,
                )  # fmt: skip
                queued += 1
        return queued

    def _advance(
        self, conn: Connection, automation: Automation, run: scenario_store.Run,
        lead: dict[str, Any], now: int,
    ) -> int:  # fmt: skip
        """Run a scenario's steps from where it stands up to its next wait (or its end)."""
        queued, step = 0, run.step
        while step < len(automation.steps):
            current = automation.steps[step]
            step += 1
            if isinstance(current, Wait):
                next_at = now + int(current.minutes * 60_000)
                scenario_store.save(conn, run.id, step=step, status=scenario_store.RUNNING,
                                    next_at=next_at, at=now)  # fmt: skip
                return queued
            queued += self._act(conn, automation, [current], lead, run.trigger, [], now)
        scenario_store.save(conn, run.id, step=step, status=scenario_store.DONE, next_at=now,
                            at=now)  # fmt: skip
        self.scoring.on_scenario(conn, run.lead_id, automation.key, False, now)
        return queued

    def run_scenarios(self, conn: Connection, now: int, limit: int = 500) -> int:
        """Go on with the scenario runs whose wait is over; returns the deliveries queued.
        A run whose scenario was deleted (or is no longer one) ends as exited."""
        by_key = {a.key: a for a in self.saved.all if a.steps}
        queued = 0
        for run in scenario_store.due(conn, now, limit):
            automation = by_key.get(run.automation)
            if automation is None:
                self._end_runs(conn, run.automation, run.lead_id, now)
                continue
            locks.hold(conn, locks.lead(run.lead_id))
            lead = _lead(conn, run.lead_id, lead_store.scores_of(conn, run.lead_id))
            queued += self._advance(conn, automation, run, lead, now)
        return queued

    def _end_runs(self, conn: Connection, automation: str, lead_id: int, now: int) -> None:
        if scenario_store.exit_runs(conn, automation, lead_id, now):
            self.scoring.on_scenario(conn, lead_id, automation, False, now)

    def check_inactivity(self, conn: Connection, now: int, limit: int = 500) -> int:
        """Fire `inactive` automations for leads quiet for their N days: once per quiet spell —
        a firing after the lead's last activity counts, so new activity re-arms it."""
        queued = 0
        for automation in self.saved.all:
            trigger = automation.trigger
            if not isinstance(trigger, InactiveTrigger):
                continue
            before = now - int(trigger.days * 86_400_000)
            for lead_id, last_seen in outbox_store.quiet_leads(conn, automation.key, before, limit):
                locks.hold(conn, locks.lead(lead_id))
                lead = _lead(conn, lead_id, lead_store.scores_of(conn, lead_id))
                why = {"kind": "inactive", "days": trigger.days, "last_seen_at": _iso(last_seen)}
                queued += self.fire(conn, automation, lead, why, [], now)
        return queued


def _assign(conn: Connection, action: Assign, lead_id: int, lead: dict[str, Any], now: int) -> None:
    """Give the lead an owner (see `automate.model.Assign`); the snapshot follows, so later
    actions of the automation (a task, an email to the owner) reach the new owner."""
    if lead.get("owner") and not action.reassign:
        return
    chosen = None
    for rule in action.rules:
        if all(compare(lookup(lead, m.field), m.op, m.operand) for m in rule.match):
            chosen = owner_store.manager(conn, key=rule.to)
            break
    if chosen is None and action.to is not None:
        chosen = owner_store.manager(conn, key=action.to)
    if chosen is None:
        chosen = owner_store.next_in_turn(conn, action.team, now)
    if chosen is not None:
        owner_store.set_owner(conn, lead_id, chosen["id"])
        lead["owner"] = _manager(chosen)


def _task(
    conn: Connection,
    action: Task,
    automation: str,
    lead: dict[str, Any],
    trigger: dict[str, Any],
    now: int,
) -> None:
    owner = lead.get("owner") or {}
    note = render(action.note, {"lead": lead, "trigger": trigger})
    owner_store.create_task(conn, {
        "lead_id": lead["id"], "manager_id": owner.get("id"), "automation": automation,
        "kind": action.kind, "note": note, "due_at": now + int(action.due_minutes * 60_000),
        "created_at": now,
    })  # fmt: skip


def _set_traits(conn: Connection, action: SetTraits, lead: dict[str, Any], now: int) -> None:
    traits = dict(lead.get("traits") or {})
    traits.update(action.traits)
    if action.tags:
        tags = traits.get("tags")
        current = [str(t) for t in tags] if isinstance(tags, list) else []
        traits["tags"] = current + [t for t in action.tags if t not in current]
    lead_store.update_lead(conn, lead["id"], {"traits": traits}, now)
    lead["traits"] = traits


def _manager(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: row.get(k) for k in ("id", "key", "name", "email", "phone", "team")}


def _effect(
    action: Webhook | Email,
    message_id: str,
    automation: Automation,
    trigger: dict[str, Any],
    lead: dict[str, Any],
    events: list[dict[str, Any]],
    now: int,
) -> tuple[str, dict[str, Any], str]:
    """(kind, target, body) of the outbox row an action makes; an email is rendered now, so
    what is sent is what the lead looked like when the automation fired."""
    if isinstance(action, Webhook):
        body = _payload(message_id, automation, trigger, lead, events, now)
        return "webhook", {"url": action.url, "secret": action.secret}, body
    values = {"lead": lead, "trigger": trigger, "automation": {"key": automation.key,
              "name": automation.name}}  # fmt: skip
    to = action.to
    if to == "lead":
        to = lead.get("email") or ""
    elif to == "owner":
        to = (lead.get("owner") or {}).get("email") or ""
    subject = render(action.subject, values)
    return "email", {"to": to, "subject": subject}, render(action.text, values)


def _event(record: EventRecord) -> dict[str, Any]:
    return {"id": record.uid, "type": record.type, "url": record.url,
            "properties": record.properties, "at": _iso(record.ts)}  # fmt: skip


def _lead(conn: Connection, lead_id: int, scores: Mapping[str, Any]) -> dict[str, Any]:
    """The lead as automations see it: contact, traits, touches, scores, owner, and `band`
    per model (so assignment rules can say `band.website: hot`)."""
    row = lead_store.get_lead(conn, lead_id) or {"id": lead_id}
    lead = {k: row.get(k) for k in _LEAD_FIELDS}
    owner = owner_store.owner_of(conn, lead_id)
    lead["owner"] = _manager(owner) if owner else None
    for stamp in ("created_at", "last_seen_at"):
        value = lead[stamp]
        if isinstance(value, int):
            lead[stamp] = _iso(value)
    _rescored(lead, scores)
    return lead


def _rescored(lead: dict[str, Any], scores: Mapping[str, Any]) -> None:
    """The lead's scores, and per model its `band`, `stage` and `score` (so assignment rules
    and templates can say `band.website`)."""
    lead["band"] = {k: v.get("band") for k, v in scores.items()}
    lead["stage"] = {k: v.get("stage") for k, v in scores.items()}
    lead["score"] = {k: v.get("total") for k, v in scores.items()}
    lead["scores"] = dict(scores)


def _payload(
    message_id: str,
    automation: Automation,
    trigger: dict[str, Any],
    lead: dict[str, Any],
    events: list[dict[str, Any]],
    now: int,
) -> str:
    """The webhook body, documented and versioned in docs/automations.md."""
    event = next((e for e in events if e["id"] == trigger.get("event")), None)
    body = {
        "type": "automation.fired",
        "version": PAYLOAD_VERSION,
        "id": message_id,
        "occurred_at": _iso(now),
        "automation": {"key": automation.key, "name": automation.name},
        "trigger": trigger,
        "lead": lead,
        "event": event,
    }
    return orjson.dumps(body).decode()


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat().replace("+00:00", "Z")


def _loader(kind: str) -> Callable[[Connection], list[tuple[str, str, int, str]]]:
    def load(conn: Connection) -> list[tuple[str, str, int, str]]:
        return [(kind, *row) for row in definition_store.active(conn, kind)]

    return load


def _parse_segment(_kind: str, source: str, name: str) -> Segment:
    return parse_segment(source, name)


def _parse(_kind: str, source: str, name: str) -> Automation:
    return parse_automation(source, name)
