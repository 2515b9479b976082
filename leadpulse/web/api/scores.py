"""`GET /v1/leads/{id}/score`: why a lead has its score."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy.engine import Connection

from leadpulse.core import clock
from leadpulse.pipeline import Pipeline
from leadpulse.scoring.explain import explain
from leadpulse.store import scores as score_store
from leadpulse.web.api.bodies import Whole
from leadpulse.web.api.leads import alive


def explanations(pipeline: Pipeline, conn: Connection, lead_id: int, now: int) -> list[Any]:
    """Every published model's explanation of a (surviving) lead's score at `now`; the API
    and the dashboard's lead card show the same numbers."""
    models = pipeline.scoring.refresh().models
    rows = score_store.ledger(conn, lead_id)
    state = score_store.load_state(conn, lead_id, None) or {}
    return [
        explain(p, [e for e in rows if e["model_key"] == p.model.key], now, state) for p in models
    ]


def router(pipeline: Pipeline) -> APIRouter:
    r = APIRouter(prefix="/v1/leads", tags=["leads"])

    @r.get("/{lead_id}/score")
    def get_score(lead_id: Whole) -> dict[str, Any]:
        """Every model's total, band and stage now, with the contributions that add up to it
        (decay applied to the moment of the request)."""
        now = clock.now_ms()
        with pipeline.engine.connect() as conn:
            row = alive(conn, lead_id)
            models = explanations(pipeline, conn, row["id"], now)
        return {"lead": row["id"], "at": clock.to_iso(now), "models": models}

    return r
