"""`/v1/segments`: saved lead conditions (documents), and their current members."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from leadpulse.automate.segments import Segment, parse_segment
from leadpulse.core.errors import NotFound
from leadpulse.pipeline import Pipeline
from leadpulse.store import engage as definition_store
from leadpulse.store import segments as segment_store
from leadpulse.web.api import documents
from leadpulse.web.api.bodies import Whole


def summary(item: Segment, version: int) -> dict[str, Any]:
    return {"key": item.key, "name": item.name, "version": version}


def router(pipeline: Pipeline) -> APIRouter:
    r = documents.router(
        pipeline, documents.Kind("segment", "segments", "segment", parse_segment, summary)
    )

    @r.get("/{key}/members")
    def members(
        key: str, after: Whole = 0, limit: Whole = Query(100, ge=1, le=1000)
    ) -> dict[str, Any]:
        """Current members, by lead id; pass the last id as `after` for the next page. Leads
        enter and leave as they change (a lead that has not changed since the segment was
        saved is evaluated at its next change)."""
        with pipeline.engine.connect() as conn:
            if key not in {k for k, _, _ in definition_store.active(conn, "segment")}:
                raise NotFound(f"no segment {key!r}", field="key")
            items = segment_store.members(conn, key, after, limit)
        following = items[-1]["id"] if len(items) == limit else None
        return {"items": items, "next_after": following}

    return r
