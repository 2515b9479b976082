"""`/v1/leads`: upsert, list, detail, timeline, outcomes, export and erasure."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import Field
from sqlalchemy.engine import Connection, Engine

from leadpulse.core import clock
from leadpulse.core.errors import NotFound
from leadpulse.pipeline import Pipeline
from leadpulse.store import events as event_store
from leadpulse.store import leads as lead_store
from leadpulse.store import visitors as visitor_store
from leadpulse.store.lead_list import SORTABLE, LeadFilter, list_leads
from leadpulse.web.api.bodies import Body, Moment, Whole
from leadpulse.web.api.present import (
    lead_detail,
    lead_summary,
    present_event,
    present_outcome,
)


class LeadIn(Body):
    """A lead from a CRM, a lead form or an ad platform. Top-level fields are traits too."""

    email: str | None = None
    phone: str | None = None
    external_id: str | None = None
    name: str | None = None
    company: str | None = None
    source: str | None = Field(None, description="Where the lead came from, e.g. facebook_lead_ads")
    traits: dict[str, Any] = Field(default_factory=dict)


class OutcomeIn(Body):
    outcome: Literal["won", "lost"]
    value: float | None = Field(None, ge=0, strict=True)  # not true/false or "12"
    currency: str | None = Field(None, min_length=3, max_length=3)
    at: Moment | None = None
    owner: str | None = None
    note: str | None = Field(None, max_length=5000)


class StageIn(Body):
    model: str = Field(description="The scoring model whose stage is set")
    stage: str | None = Field(description="One of the model's stages; null: the points decide")


def alive(conn: Connection, lead_id: int) -> dict[str, Any]:
    """The lead, following merges; 404 when there is none."""
    found = lead_store.survivor(conn, lead_id)
    row = None if found is None else lead_store.get_lead(conn, found)
    if row is None:
        raise NotFound(f"no lead {lead_id}", field="id")
    return row


SORT = {"pattern": f"^-?({'|'.join(sorted(SORTABLE))})$"}
"""What `sort` takes, for the OpenAPI description; the handler's error names the choices."""


def router(pipeline: Pipeline) -> APIRouter:
    engine: Engine = pipeline.engine
    r = APIRouter(prefix="/v1/leads", tags=["leads"])

    @r.post("", status_code=200)
    def upsert_lead(body: LeadIn) -> dict[str, Any]:
        """Create the lead, or update the one with the same email, external id or phone."""
        traits = dict(body.traits)
        for key in ("email", "phone", "external_id", "name", "company"):
            value = getattr(body, key)
            if value is not None:
                traits[key] = value
        result = pipeline.upsert_lead(traits, body.source)
        with engine.connect() as conn:
            row = alive(conn, result.lead)
        return {
            "lead": lead_summary(row),
            "created": result.created,
            "merged": list(result.merged),
        }

    @r.get("")
    def get_leads(
        sort: Annotated[
            str, Query(description="a column, - for descending", json_schema_extra=SORT)
        ] = "-score",
        limit: Annotated[Whole, Query(ge=1, le=500)] = 50,
        cursor: str | None = None,
        q: Annotated[str | None, Query(description="search name, email, phone, company")] = None,
        email: str | None = None,
        source: str | None = None,
        channel: str | None = None,
        country: str | None = None,
        min_score: float | None = None,
        created_after: Moment | None = None,
        created_before: Moment | None = None,
        model: Annotated[
            str | None, Query(description="whose band and stage (default: the first model)")
        ] = None,
        band: str | None = None,
        stage: str | None = None,
        segment: Annotated[str | None, Query(description="current members only")] = None,
        owner: Annotated[str | None, Query(description="a manager's key; - for nobody")] = None,
    ) -> dict[str, Any]:
        if (band or stage) and not model:
            pipeline.scoring.refresh()
            model = pipeline.scoring.primary
        f = LeadFilter(
            q=q,
            email=email,
            source=source,
            channel=channel,
            country=country,
            min_score=min_score,
            created_after=clock.from_datetime(created_after) if created_after else None,
            created_before=clock.from_datetime(created_before) if created_before else None,
            model=model,
            band=band,
            stage=stage,
            segment=segment,
            owner=owner,
        )
        with engine.connect() as conn:
            page = list_leads(conn, f, sort=sort, limit=limit, cursor=cursor)
        return {
            "items": [lead_summary(row) for row in page.items],
            "total": page.total,
            "next": page.next,
        }

    @r.get("/{lead_id}")
    def get_lead(lead_id: Whole) -> dict[str, Any]:
        with engine.connect() as conn:
            return lead_detail(conn, alive(conn, lead_id))

    @r.get("/{lead_id}/events")
    def get_events(
        lead_id: Whole,
        limit: Annotated[Whole, Query(ge=1, le=1000)] = 100,
        before: Annotated[Whole | None, Query(description="continue after this event id")] = None,
        type: Annotated[list[str] | None, Query(description="only these event types")] = None,
    ) -> dict[str, Any]:
        with engine.connect() as conn:
            row = alive(conn, lead_id)
            items = event_store.lead_timeline(
                conn, row["id"], limit=limit + 1, before_id=before, types=type
            )
        nxt = None
        if len(items) > limit:
            items = items[:limit]
            nxt = items[-1]["id"]
        return {"items": [present_event(e) for e in items], "next": nxt}

    @r.post("/{lead_id}/outcome", status_code=201)
    def post_outcome(lead_id: Whole, body: OutcomeIn) -> dict[str, Any]:
        """Record that a lead was won or lost (learning and reports read these)."""
        values = body.model_dump(exclude={"at"})
        values["at"] = clock.from_datetime(body.at) if body.at else clock.now_ms()
        outcome_id = pipeline.add_outcome(lead_id, values)
        with engine.connect() as conn:
            row = alive(conn, lead_id)
            outcomes = lead_store.outcomes_of(conn, row["id"])
        return present_outcome(next(o for o in outcomes if o["id"] == outcome_id))

    @r.put("/{lead_id}/stage")
    def put_stage(lead_id: Whole, body: StageIn) -> dict[str, Any]:
        """Hold the lead at a stage of a model (a salesperson qualified it: `sql`), whatever
        its points say, until set again or released with `"stage": null`."""
        scores = pipeline.set_stage(lead_id, body.model, body.stage)
        return {"lead": lead_id, "model": body.model, "scores": scores}

    @r.get("/{lead_id}/export")
    def export_lead(lead_id: Whole) -> dict[str, Any]:
        """Everything stored about one person (a data-subject access request)."""
        with engine.connect() as conn:
            row = alive(conn, lead_id)
            detail = lead_detail(conn, row)
            events = event_store.lead_timeline(conn, row["id"], limit=1_000_000)
            visitors = visitor_store.visitors_of_lead(conn, row["id"])
        return {
            "lead": detail,
            "visitors": visitors,
            "events": [present_event(e) for e in events],
            "exported_at": clock.to_iso(clock.now_ms()),
        }

    @r.delete("/{lead_id}")
    def delete_lead(lead_id: Whole) -> dict[str, Any]:
        """Erase a lead and everything about it (right to erasure). Cannot be undone."""
        removed = pipeline.erase_lead(lead_id)
        return {"deleted": lead_id, "leads_removed": removed}

    return r
