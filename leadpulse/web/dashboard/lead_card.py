"""The lead card: who the lead is, every model's score and why, what happened, and the buttons
a salesperson needs (traits, owner, tasks, accept or reject as SQL, won or lost)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from leadpulse.core import clock
from leadpulse.core.errors import InvalidInput, LeadpulseError
from leadpulse.store import events as event_store
from leadpulse.store import leads as lead_store
from leadpulse.store import outbox as outbox_store
from leadpulse.store import owners as owner_store
from leadpulse.store import scenarios as scenario_store
from leadpulse.store import segments as segment_store
from leadpulse.web.api.leads import alive
from leadpulse.web.api.present import lead_detail
from leadpulse.web.api.scores import explanations
from leadpulse.web.dashboard.automations import describe
from leadpulse.web.dashboard.guard import PREFIX, Ctx, Guard, redirect

EDITABLE = ("name", "email", "phone", "company", "social")
"""The fields of the card's edit form; any other trait is set through the key/value pair."""
TRAIT_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
TIMELINE = 200
DONE = {
    "traits": "Saved; the scores were brought up to date.",
    "stage": "The stage is set.",
    "outcome": "The outcome is recorded.",
    "owner": "The owner is set.",
    "task": "The task is done.",
}


def stage_actions(model: Any) -> dict[str, str | None]:
    """What the accept and reject buttons do for a model: accept holds the lead at `sql` (or
    the model's last stage); reject holds it one stage lower, or lets the points decide."""
    names = [name for name, _ in model.stages]
    if not names:
        return {}
    accept = "sql" if "sql" in names else names[-1]
    position = names.index(accept)
    return {"accept": accept, "reject": names[position - 1] if position else None}


def reasons(contributions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The contributions summed per rule, biggest first: "why 47?" in a few lines. Each
    rule's `points_now` still adds up with the others to the model's total."""
    by_rule: dict[str, dict[str, Any]] = {}
    for c in contributions:
        r = by_rule.setdefault(c["rule"], {"rule": c["rule"], "times": 0, "points": 0.0,
                                           "points_now": 0.0, "last": c["at"]})  # fmt: skip
        r["times"] += 1
        r["points"] += c["points"]
        r["points_now"] += c["points_now"]
        r["last"] = max(r["last"], c["at"])
    for r in by_rule.values():
        r["points_now"] = round(r["points_now"], 4)
    return sorted(by_rule.values(), key=lambda r: -abs(r["points_now"]))


def visits(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The lead's events as visits (one per tracker session: pages, length, where it began,
    and its events); an event without a session stands alone."""
    items: list[dict[str, Any]] = []
    sessions: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        item = {"at": e["ts"], "kind": "event", "text": e["type"], "detail": e["title"] or e["url"]}
        if e.get("session_id"):
            sessions.setdefault(e["session_id"], []).append(item)
        else:
            items.append(item)
    for session, inside in sessions.items():
        inside.sort(key=lambda item: item["at"], reverse=True)
        pages = [i for i in inside if i["text"] == "page_view"]
        minutes = (inside[0]["at"] - inside[-1]["at"]) / 60_000
        landing = pages[-1]["detail"] if pages else inside[-1]["detail"]
        items.append({
            "at": inside[0]["at"], "kind": "visit",
            "text": f"{_count(len(pages), 'page')}, {_count(len(inside), 'event')}, "
                    f"{minutes:.0f} min",
            "detail": landing or "", "events": inside, "session": session,
        })  # fmt: skip
    return items


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def timeline(
    events: list[dict[str, Any]],
    scores: list[dict[str, Any]],
    deliveries: list[dict[str, Any]],
    tasks: list[dict[str, Any]],
    runs: list[dict[str, Any]],
    outcomes: list[dict[str, Any]],
    firings: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """One list, newest first, of everything that happened to the lead; a visit's events are
    one item (opened to see them)."""
    items = visits(events)
    for model in scores:
        items += [
            {"at": c["at"], "kind": "score", "text": f"{model['key']}: {c['points']:+g}",
             "detail": c["rule"]}
            for c in model["contributions"] if c["rule"] != "cap"
        ]  # fmt: skip
    items += [
        {"at": d["created_at"], "kind": d["kind"], "text": f"{d['automation']}: {d['status']}",
         "detail": d["last_error"] or d["url"] or ""}
        for d in deliveries
    ]  # fmt: skip
    items += [
        {"at": t["created_at"], "kind": "task", "text": f"{t['kind']} ({t['status']})",
         "detail": t["note"]}
        for t in tasks
    ]  # fmt: skip
    items += [
        {"at": r["started_at"], "kind": "scenario", "text": f"{r['automation']}: {r['status']}",
         "detail": f"step {r['step']}"}
        for r in runs
    ]  # fmt: skip
    items += [
        {"at": o["at"], "kind": "outcome", "text": o["outcome"],
         "detail": " ".join(str(v) for v in (o["value"], o["currency"], o["note"]) if v)}
        for o in outcomes
    ]  # fmt: skip
    items += [
        {"at": f["fired_at"], "kind": "automation", "text": f["automation"],
         "detail": describe(f["trigger"])}
        for f in firings
    ]  # fmt: skip
    items.sort(key=lambda item: item["at"] or 0, reverse=True)
    return items[:TIMELINE]


def _value(text: str) -> float | None:
    if not text:
        return None
    try:
        value = float(text.replace(",", ""))
    except ValueError:
        raise InvalidInput(f"the value {text!r} is not a number", field="value") from None
    if not math.isfinite(value) or value < 0:
        raise InvalidInput("the value must be zero or more", field="value")
    return value


def edit_traits(ctx: Ctx, lead_id: int) -> None:
    """Send only what changed, so an untouched field (even one stored invalid) is kept."""
    with ctx.pipeline.engine.connect() as conn:
        row = alive(conn, lead_id)
    current = {**row["traits"], **{k: row[k] for k in EDITABLE if k in row}}
    traits = {k: ctx.field(k) for k in EDITABLE if ctx.field(k)}
    traits = {k: v for k, v in traits.items() if str(current.get(k) or "") != v}
    key, value = ctx.field("trait_key"), ctx.field("trait_value")
    if key or value:
        if not TRAIT_KEY.match(key):
            raise InvalidInput("a trait name is lower-case letters, digits and _, starting "
                               "with a letter", field="trait_key")  # fmt: skip
        if not value:
            raise InvalidInput(f"give {key} a value", field="trait_value")
        traits[key] = value
    for k, v in traits.items():
        if len(v) > 1000:
            raise InvalidInput(f"{k} is longer than 1,000 characters", field=k)
    if not traits:
        raise InvalidInput("nothing was changed")
    ctx.pipeline.edit_lead(lead_id, traits)


def set_stage(ctx: Ctx, lead_id: int) -> None:
    model, action = ctx.field("model"), ctx.field("action")
    published = {p.model.key: p.model for p in ctx.pipeline.scoring.refresh().models}
    if model not in published:
        raise InvalidInput(f"no model {model!r}", field="model")
    targets = stage_actions(published[model])
    if action not in ("accept", "reject", "release") or not targets:
        raise InvalidInput("choose accept, reject or release", field="action")
    ctx.pipeline.set_stage(lead_id, model, targets.get(action))


def record_outcome(ctx: Ctx, lead_id: int) -> None:
    result = ctx.field("outcome")
    if result not in ("won", "lost"):
        raise InvalidInput("choose won or lost", field="outcome")
    currency = ctx.field("currency").upper() or None
    if currency is not None and not re.fullmatch(r"[A-Z]{3}", currency):
        raise InvalidInput("a currency is three letters, like EUR", field="currency")
    note = ctx.field("note")
    if len(note) > 5000:
        raise InvalidInput("the note is longer than 5,000 characters", field="note")
    ctx.pipeline.add_outcome(lead_id, {
        "outcome": result, "value": _value(ctx.field("value")), "currency": currency,
        "owner": ctx.user.email, "note": note or None, "at": clock.now_ms(),
    })  # fmt: skip


def set_owner(ctx: Ctx, lead_id: int) -> None:
    manager = ctx.field("manager")
    if not manager:
        raise InvalidInput("choose a manager", field="manager")
    ctx.pipeline.assign([lead_id], manager)


def complete_task(ctx: Ctx, _lead_id: int) -> None:
    task_id = int(ctx.request.path_params["task_id"])
    at = clock.now_ms()
    ctx.pipeline.writer.run_sync(lambda conn: owner_store.complete_task(conn, task_id, at))


Change = Callable[[Ctx, int], None]
CHANGES: dict[str, tuple[str, Change]] = {
    "traits": ("/traits", edit_traits),
    "stage": ("/stage", set_stage),
    "outcome": ("/outcome", record_outcome),
    "owner": ("/owner", set_owner),
    "task": ("/tasks/{task_id:int}/done", complete_task),
}


def show(ctx: Ctx, lead_id: int, status: int = 200, error: str | None = None) -> Response:
    pipeline = ctx.pipeline
    now = clock.now_ms()
    with pipeline.engine.connect() as conn:
        row = alive(conn, lead_id)
        lead = row["id"]
        detail = lead_detail(conn, row)
        scores = explanations(pipeline, conn, lead, now)
        events = event_store.lead_timeline(conn, lead, limit=TIMELINE)
        deliveries = outbox_store.deliveries(conn, lead_id=lead, limit=50)
        tasks = owner_store.list_tasks(conn, lead_id=lead, limit=50)
        runs = scenario_store.runs(conn, lead_id=lead, limit=50)
        owner = owner_store.owner_of(conn, lead)
        managers = owner_store.list_managers(conn)
        segments = sorted(segment_store.current(conn, lead))
        outcomes = lead_store.outcomes_of(conn, lead)
        firings = outbox_store.firings_of(conn, lead, limit=50)
    published = {p.model.key: p.model for p in pipeline.scoring.refresh().models}
    actions = {key: stage_actions(model) for key, model in published.items()}
    for model in scores:
        model["reasons"] = reasons(model["contributions"])
    return ctx.render(
        "lead.html", status, lead=detail, row=row, scores=scores, actions=actions,
        timeline=timeline(events, scores, deliveries, tasks, runs, outcomes, firings),
        owner=owner, managers=managers, segments=segments, error=error,
        done=DONE.get(ctx.query("ok")), editable=EDITABLE,
        open_tasks=[t for t in tasks if t["status"] == owner_store.OPEN],
    )  # fmt: skip


def _post(what: str, change: Change) -> Callable[[Ctx], Response]:
    def handler(ctx: Ctx) -> Response:
        """Run the change; on a user error show the card again with the message in place."""
        lead_id = int(ctx.request.path_params["lead_id"])
        try:
            change(ctx, lead_id)
        except LeadpulseError as exc:
            return show(ctx, lead_id, exc.status, exc.message)
        return redirect(f"{PREFIX}/leads/{lead_id}?ok={what}")

    return handler


def routes(guard: Guard) -> list[Route]:
    def card(ctx: Ctx) -> Response:
        return show(ctx, int(ctx.request.path_params["lead_id"]))

    lead = "/leads/{lead_id:int}"
    return [
        Route(lead, guard.page()(card)),
        *[
            Route(lead + path, guard.page()(_post(what, change)), methods=["POST"])
            for what, (path, change) in CHANGES.items()
        ],
    ]
