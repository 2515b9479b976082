"""`/v1/automations` (documents like models and offers) and `/v1/deliveries`, the log of
everything automations sent, with replay, and `/v1/runs`, where leads stand in scenarios."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from leadpulse.automate import Automation, Webhook, parse_automation
from leadpulse.automate.model import (
    Action,
    Assign,
    Email,
    EventTrigger,
    LadderTrigger,
    ScoreTrigger,
    SegmentTrigger,
    SetStage,
    Task,
)
from leadpulse.core import clock
from leadpulse.core.errors import NotFound
from leadpulse.pipeline import Pipeline
from leadpulse.store import outbox as outbox_store
from leadpulse.store import scenarios as scenario_store
from leadpulse.web.api import documents
from leadpulse.web.api.bodies import Whole


def _action(action: Action) -> dict[str, Any]:
    if isinstance(action, Webhook):
        return {"webhook": {"url": action.url}}
    if isinstance(action, Email):
        return {"email": {"to": action.to, "subject": action.subject}}
    if isinstance(action, Assign):
        return {"assign": {"to": action.to, "team": action.team, "rules": len(action.rules)}}
    if isinstance(action, Task):
        return {"task": {"kind": action.kind, "due_minutes": action.due_minutes}}
    if isinstance(action, SetStage):
        return {"stage": {"model": action.model, "set": action.stage}}
    return {"set": dict(action.traits), "tag": list(action.tags)}


def summary(item: Automation, version: int) -> dict[str, Any]:
    trigger = item.trigger
    when: dict[str, Any]
    if isinstance(trigger, ScoreTrigger):
        side = "above" if trigger.up else "below"
        when = {"score": {"model": trigger.model, side: trigger.threshold}}
    elif isinstance(trigger, LadderTrigger):
        move = "becomes" if trigger.becomes else "leaves"
        when = {trigger.ladder: {"model": trigger.model, move: trigger.name}}
    elif isinstance(trigger, EventTrigger):
        when = {"event": {"type": trigger.type}}
    elif isinstance(trigger, SegmentTrigger):
        when = {"segment": {"enters" if trigger.enters else "leaves": trigger.segment}}
    else:
        when = {"inactive": {"days": trigger.days}}
    return {
        "key": item.key,
        "name": item.name,
        "site": item.site,
        "version": version,
        "when": when,
        "actions": [_action(a) for a in item.actions],
        "cooldown_minutes": item.cooldown_minutes,
    }


def routers(pipeline: Pipeline) -> list[APIRouter]:
    r = documents.router(
        pipeline,
        documents.Kind("automation", "automations", "automation", parse_automation, summary),
    )
    deliveries = APIRouter(prefix="/v1/deliveries", tags=["automations"])

    @deliveries.get("")
    def list_deliveries(
        lead: Whole | None = None,
        automation: str | None = None,
        status: Literal["pending", "delivered", "dead"] | None = None,
        limit: Whole = Query(100, ge=1, le=1000),
    ) -> dict[str, Any]:
        """What automations sent, newest first: status, attempts, the last answer or error."""
        with pipeline.engine.connect() as conn:
            items = outbox_store.deliveries(
                conn, lead_id=lead, automation=automation, status=status, limit=limit
            )
        return {"items": items}

    @deliveries.post("/{delivery_id}/replay")
    async def replay(delivery_id: Whole) -> dict[str, Any]:
        """Send it again with the same id (receivers dedupe on `webhook-id`)."""
        now = clock.now_ms()
        done = await run_in_threadpool(
            pipeline.writer.run_sync, lambda conn: outbox_store.replay(conn, delivery_id, now)
        )
        if not done:
            raise NotFound(f"no delivery {delivery_id}", field="delivery_id")
        pipeline.dispatcher.wake()
        return {"replayed": delivery_id}

    runs = APIRouter(prefix="/v1/runs", tags=["automations"])

    @runs.get("")
    def list_runs(
        automation: str | None = None,
        lead: Whole | None = None,
        status: Literal["running", "done", "exited"] | None = None,
        limit: Whole = Query(100, ge=1, le=1000),
    ) -> dict[str, Any]:
        """Scenario runs, newest first: the step a lead is at, when it goes on, how it ended."""
        with pipeline.engine.connect() as conn:
            items = scenario_store.runs(
                conn, automation=automation, lead_id=lead, status=status, limit=limit
            )
        return {"items": items}

    return [r, deliveries, runs]
