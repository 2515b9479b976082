"""`GET /v1/learning/latest`: the newest report `leadpulse learn --save` (or `--from-db`) kept."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from leadpulse.core import clock
from leadpulse.core.errors import NotFound
from leadpulse.pipeline import Pipeline
from leadpulse.store import learning as learning_store


def router(pipeline: Pipeline) -> APIRouter:
    r = APIRouter(prefix="/v1/learning", tags=["models"])

    @r.get("/latest")
    def latest() -> dict[str, Any]:
        """Baseline, key actions, the scorecard and the lookalike with their held-out figures,
        as in the report's JSON file, and where and when it was learned."""
        with pipeline.engine.connect() as conn:
            found = learning_store.latest_report(conn)
        if found is None:
            raise NotFound(
                "no learning report yet: run leadpulse learn --from-db (or learn FILE --save)"
            )
        return {**found, "created_at": clock.to_iso(found["created_at"])}

    return r
