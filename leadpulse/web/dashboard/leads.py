"""The leads page: the store's lead list (the API's query) with filters, bulk assignment and a
CSV export of exactly what is filtered."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from leadpulse.core import clock
from leadpulse.core.errors import InvalidInput
from leadpulse.pipeline import Pipeline
from leadpulse.scoring.engine import Published
from leadpulse.store import engage as definition_store
from leadpulse.store import owners as owner_store
from leadpulse.store.lead_list import NOBODY, LeadFilter, Page, list_leads
from leadpulse.web.dashboard.guard import PREFIX, STAFF, Ctx, Guard, redirect

PAGE_SIZE = 50
SORTS = {"-score": "score", "-last_seen_at": "last seen", "-created_at": "newest"}
FILTERS = ("q", "model", "band", "stage", "segment", "owner", "source", "country", "from", "to",
           "mine", "sort")  # fmt: skip
CSV_COLUMNS = ("id", "name", "email", "phone", "company", "score", "band", "stage", "owner",
               "source", "channel", "country", "created_at", "last_seen_at")  # fmt: skip


@dataclass
class Listing:
    """What the leads page was asked for: the filter, the echo of the form, the model read."""

    filter: LeadFilter
    params: dict[str, str]
    model: Published | None
    sort: str
    notes: list[str] = field(default_factory=list)
    empty: bool = False
    """Known to match nothing (my leads, for a user who is no manager)."""


def _day(value: str, name: str) -> int | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{name}: {value!r} is not a date like 2026-03-31", field=name) from None
    return clock.from_datetime(datetime(day.year, day.month, day.day, tzinfo=UTC))


def top_band(model: Published | None) -> str | None:
    return model.model.bands[-1][0] if model and model.model.bands else None


def read_listing(ctx: Ctx) -> Listing:
    params = {k: ctx.query(k) for k in FILTERS if ctx.query(k)}
    models = ctx.pipeline.scoring.refresh().models
    chosen = params.get("model") or ctx.pipeline.scoring.primary
    model = next((p for p in models if p.model.key == chosen), None)
    if params.get("model") and model is None:
        raise InvalidInput(f"no model {params['model']!r}", field="model")
    owner = params.get("owner") or None
    notes = []
    if params.get("mine"):
        if ctx.user.manager is None:
            notes.append("Your account is not linked to a sales manager, so no leads are yours.")
            owner = None
        else:
            owner = ctx.user.manager
    to = _day(params.get("to", ""), "to")
    sort = params.get("sort", "-score")
    if sort not in SORTS:
        raise InvalidInput(f"cannot sort by {sort!r}", field="sort")
    f = LeadFilter(
        q=params.get("q"),
        source=params.get("source"),
        country=params.get("country"),
        created_after=_day(params.get("from", ""), "from"),
        created_before=None if to is None else to + int(timedelta(days=1).total_seconds() * 1000),
        model=model.model.key if model else None,
        band=params.get("band"),
        stage=params.get("stage"),
        segment=params.get("segment"),
        owner=owner,
    )
    return Listing(f, params, model, sort, notes, empty=bool(params.get("mine") and notes))


def lead_row(row: dict[str, Any], model: str | None, owners: dict[int, str]) -> dict[str, Any]:
    score = (row["scores"] or {}).get(model) or {} if model else {}
    return {
        **row,
        "band": score.get("band"),
        "stage": score.get("stage"),
        "owner": owners.get(row["owner_id"]) if row["owner_id"] else None,
    }


def _safe_cell(value: Any) -> Any:
    """A spreadsheet runs a cell that starts with = + - @ as a formula; lead-supplied text
    must not (CSV injection), so such text gets a leading apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def routes(pipeline: Pipeline, guard: Guard) -> list[Route]:
    engine = pipeline.engine

    @guard.page()
    def leads_page(ctx: Ctx) -> Response:
        listing = read_listing(ctx)
        with engine.connect() as conn:
            result = Page([], 0, None) if listing.empty else list_leads(
                conn, listing.filter, sort=listing.sort, limit=PAGE_SIZE,
                cursor=ctx.query("cursor") or None,
            )  # fmt: skip
            managers = owner_store.list_managers(conn)
            segments = sorted(k for k, _, _ in definition_store.active(conn, "segment"))
        owners = {m["id"]: m["key"] for m in managers}
        key = listing.model.model.key if listing.model else None
        rows = [lead_row(r, key, owners) for r in result.items]
        query = urlencode(listing.params)
        more = None
        if result.next:
            more = f"{PREFIX}/leads?" + urlencode({**listing.params, "cursor": result.next})
        assigned = ctx.query("assigned")
        return ctx.render(
            "leads.html", rows=rows, total=result.total, more=more, params=listing.params,
            notes=listing.notes, model=listing.model, models=pipeline.scoring.refresh().models,
            managers=managers, segments=segments, sorts=SORTS, query=query, nobody=NOBODY,
            hot=top_band(listing.model), assigned=int(assigned) if assigned.isdigit() else None,
            can_assign=ctx.user.role in STAFF, paged=bool(ctx.query("cursor")),
        )  # fmt: skip

    @guard.page(STAFF)
    def leads_csv(ctx: Ctx) -> Response:
        listing = read_listing(ctx)
        key = listing.model.model.key if listing.model else None
        with engine.connect() as conn:
            owners = {m["id"]: m["key"] for m in owner_store.list_managers(conn)}

        def lines() -> Iterator[str]:
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow(CSV_COLUMNS)
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            cursor = None
            while not listing.empty:
                with engine.connect() as conn:
                    page = list_leads(
                        conn, listing.filter, sort=listing.sort, limit=1000, cursor=cursor
                    )
                for row in page.items:
                    item = lead_row(row, key, owners)
                    item["created_at"] = clock.to_iso(item["created_at"])
                    item["last_seen_at"] = clock.to_iso(item["last_seen_at"])
                    writer.writerow([_safe_cell(item[c]) for c in CSV_COLUMNS])
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
                if page.next is None:
                    return
                cursor = page.next

        return StreamingResponse(
            lines(),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": 'attachment; filename="leads.csv"'},
        )

    @guard.page(STAFF)
    def assign(ctx: Ctx) -> Response:
        ids = [int(v) for v in ctx.fields("lead") if v.isdigit()]
        manager = ctx.field("manager")
        if not ids:
            raise InvalidInput("tick the leads to assign first", field="lead")
        if not manager:
            raise InvalidInput("choose the manager to give the leads to", field="manager")
        n = pipeline.assign(ids, manager)
        back = [(k, v) for k, v in parse_qsl(ctx.field("back")) if k in FILTERS]
        return redirect(f"{PREFIX}/leads?" + urlencode([*back, ("assigned", str(n))]))

    return [
        Route("/leads", leads_page),
        Route("/leads.csv", leads_csv),
        Route("/leads/assign", assign, methods=["POST"]),
    ]
