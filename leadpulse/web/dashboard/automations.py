"""The automations page (with segments, offers and personalisations): what is switched on,
switching off and on again, and the delivery log with a retry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from leadpulse.automate import parse_automation
from leadpulse.automate.segments import parse_segment
from leadpulse.core import clock
from leadpulse.core.errors import InvalidInput, LeadpulseError, NotFound
from leadpulse.engage import Kind, parse_definition
from leadpulse.pipeline import Pipeline
from leadpulse.store import engage as definition_store
from leadpulse.store import outbox as outbox_store
from leadpulse.store import segments as segment_store
from leadpulse.web.api import automations as automations_api
from leadpulse.web.api import engage as engage_api
from leadpulse.web.dashboard.guard import PREFIX, STAFF, Ctx, Guard, redirect

STATUSES = ("pending", "delivered", "dead")


def describe(value: Any) -> str:
    """A summary value in a line of words: `score: model website, above 60`."""
    if isinstance(value, dict):
        parts = []
        for k, v in value.items():
            if isinstance(v, dict):
                parts.append(f"{k}: {describe(v)}")
            elif v not in (None, [], {}):
                parts.append(f"{k} {describe(v)}")
        return ", ".join(parts)
    if isinstance(value, list):
        return "; ".join(describe(v) for v in value)
    return str(value)


def _engage_summary(kind: Kind) -> Callable[[str, int], dict[str, Any]]:
    def summary(text: str, version: int) -> dict[str, Any]:
        return engage_api.summary(parse_definition(kind, text), version)

    return summary


def uplift(groups: dict[str, dict[str, int]]) -> dict[str, Any]:
    """Per holdout group: visitors, leads and the lead rate; and treatment minus holdout."""
    out: dict[str, Any] = {}
    for group, counts in groups.items():
        rate = counts["leads"] / counts["visitors"] if counts["visitors"] else None
        out[group] = {**counts, "rate": rate}
    treated, held = out["treatment"]["rate"], out["holdout"]["rate"]
    out["uplift"] = treated - held if treated is not None and held is not None else None
    return out


SUMMARIES: dict[str, Callable[[str, int], dict[str, Any]]] = {
    "automation": lambda text, version: automations_api.summary(parse_automation(text), version),
    "segment": lambda text, version: {"name": parse_segment(text).name, "version": version},
    "offer": _engage_summary("offer"),
    "personalization": _engage_summary("personalization"),
}


def documents(pipeline: Pipeline, kind: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The saved documents of a kind, summarised (one that no longer reads is listed with
    its error), and the keys of the disabled ones."""
    with pipeline.engine.connect() as conn:
        saved = definition_store.active(conn, kind)
        off = [key for key, _, _ in definition_store.disabled(conn, kind)]
    items = []
    for key, version, text in saved:
        try:
            items.append({"key": key, **SUMMARIES[kind](text, version), "error": None})
        except LeadpulseError as exc:
            items.append({"key": key, "version": version, "error": exc.message})
    return items, off


def routes(pipeline: Pipeline, guard: Guard) -> list[Route]:
    @guard.page(STAFF)
    def automations(ctx: Ctx) -> Response:
        lists = {kind: documents(pipeline, kind) for kind in SUMMARIES}
        with pipeline.engine.connect() as conn:
            members = segment_store.counts(conn)
            stats = {
                f"{kind}:{item['key']}": uplift(definition_store.uplift(conn, kind, item["key"]))
                for kind in ("offer", "personalization")
                for item in lists[kind][0]
            }
        done = {"on": "Switched on.", "off": "Switched off."}.get(ctx.query("ok"))
        return ctx.render("automations.html", lists=lists, members=members, stats=stats,
                          describe=describe, done=done)  # fmt: skip

    @guard.page(STAFF)
    def switch(ctx: Ctx) -> Response:
        kind, key, on = ctx.field("kind"), ctx.field("key"), ctx.field("on") == "1"
        if kind not in SUMMARIES:
            raise InvalidInput(f"no kind {kind!r}", field="kind")
        with pipeline.engine.connect() as conn:
            pool = (
                definition_store.disabled(conn, kind) if on else definition_store.active(conn, kind)
            )
        found = next((text for k, _, text in pool if k == key), None)
        if found is None:
            raise NotFound(f"no {kind} {key!r} is switched {'off' if on else 'on'}", field="key")
        if on:
            SUMMARIES[kind](found, 0)  # still readable under today's rules
            pipeline.save_definition(kind, key, found)
        else:
            pipeline.delete_definition(kind, key)
        return redirect(f"{PREFIX}/automations?ok={'on' if on else 'off'}")

    @guard.page(STAFF)
    def deliveries(ctx: Ctx) -> Response:
        status = ctx.query("status") or None
        if status is not None and status not in STATUSES:
            raise InvalidInput(f"no status {status!r}; use {', '.join(STATUSES)}", field="status")
        automation = ctx.query("automation") or None
        with pipeline.engine.connect() as conn:
            items = outbox_store.deliveries(conn, automation=automation, status=status,
                                            limit=200)  # fmt: skip
        return ctx.render("deliveries.html", items=items, statuses=STATUSES, shown=status,
                          automation=automation, retried=ctx.query("ok") == "retry")  # fmt: skip

    @guard.page(STAFF)
    def retry(ctx: Ctx) -> Response:
        delivery = int(ctx.request.path_params["delivery_id"])
        now = clock.now_ms()
        if not pipeline.writer.run_sync(lambda conn: outbox_store.replay(conn, delivery, now)):
            raise NotFound(f"no delivery {delivery}", field="id")
        pipeline.dispatcher.wake()
        return redirect(f"{PREFIX}/deliveries?ok=retry")

    return [
        Route("/automations", automations),
        Route("/automations/switch", switch, methods=["POST"]),
        Route("/deliveries", deliveries),
        Route("/deliveries/{delivery_id:int}/retry", retry, methods=["POST"]),
    ]
