"""`GET /v1/leads/{id}/score`: why a lead has its score."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from leadpulse.core import clock
from leadpulse.pipeline import Pipeline
from leadpulse.scoring.explain import explain
from leadpulse.store import scores as score_store
from leadpulse.web.api.leads import alive


def router(pipeline: Pipeline) -> APIRouter:
    r = APIRouter(prefix="/v1/leads", tags=["leads"])

    @r.get("/{lead_id}/score")
    def get_score(lead_id: int) -> dict[str, Any]:
        """Every model's total, band and stage now, with the contributions that add up to it
        (decay applied to the moment of the request)."""
        now = clock.now_ms()
        models = pipeline.scoring.refresh().models
        with pipeline.engine.connect() as conn:
            row = alive(conn, lead_id)
            rows = score_store.ledger(conn, row["id"])
            state = score_store.load_state(conn, row["id"], None) or {}
        pins = state.get("pins", {})
        return {
            "lead": row["id"],
            "at": clock.to_iso(now),
            "models": [
                explain(
                    p,
                    [e for e in rows if e["model_key"] == p.model.key],
                    now,
                    pins.get(p.model.key),
                )
                for p in models
            ],
        }

    return r
