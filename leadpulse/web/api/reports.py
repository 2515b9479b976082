"""`GET /v1/reports/{name}`: the dashboard's reports as JSON (the same rows as its CSVs)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from leadpulse.pipeline import Pipeline
from leadpulse.web.reports import GROUPS, REPORTS, choose, run


def router(pipeline: Pipeline) -> APIRouter:
    r = APIRouter(prefix="/v1/reports", tags=["reports"])

    @r.get("/{name}")
    def get_report(
        name: str,
        model: Annotated[str | None, Query(description="whose bands and stages")] = None,
        by: Annotated[
            str | None,
            Query(
                description=f"conversion by {', '.join(GROUPS)} (empty: channel)",
                json_schema_extra={"enum": ["", *GROUPS]},
            ),
        ] = None,
    ) -> dict[str, Any]:
        """One report (`funnel`, `conversion`, `managers`, `response`, `bands`) with the model
        it read."""
        chosen, group = choose(pipeline, model, by)
        rows = run(pipeline, name, chosen, group)
        return {"report": name, "model": chosen.model.key, "by": group,
                "columns": list(REPORTS[name][0]), "items": rows}  # fmt: skip

    return r
