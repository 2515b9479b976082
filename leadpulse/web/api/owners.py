"""`/v1/managers` (the sales team leads are assigned to) and `/v1/tasks` (what they must do:
call-backs created by automations)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from leadpulse.core import clock
from leadpulse.core.document import KEY
from leadpulse.core.errors import InvalidInput, NotFound
from leadpulse.pipeline import Pipeline
from leadpulse.store import owners as owner_store
from leadpulse.web.api.bodies import Body, Whole


class ManagerIn(Body):
    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = Field(default=None, max_length=32)
    team: str | None = Field(default=None, max_length=64)
    active: bool = Field(default=True, strict=True)  # not "yes" or 1


def router(pipeline: Pipeline) -> APIRouter:
    r = APIRouter(tags=["managers and tasks"])

    @r.get("/v1/managers")
    def list_managers() -> dict[str, Any]:
        with pipeline.engine.connect() as conn:
            return {"items": owner_store.list_managers(conn)}

    @r.put("/v1/managers/{key}")
    async def put_manager(
        key: Annotated[str, Path(json_schema_extra={"pattern": f"^{KEY.pattern}$"})],
        body: ManagerIn,
    ) -> dict[str, Any]:
        """Create or update a manager; round-robin assignment takes the active ones."""
        if not KEY.fullmatch(key):
            raise InvalidInput("a manager key is 1-64 lowercase letters, digits, '_' or '-'",
                               field="key")  # fmt: skip
        at = clock.now_ms()
        values = body.model_dump()
        return await run_in_threadpool(
            pipeline.writer.run_sync, lambda conn: owner_store.put_manager(conn, key, values, at)
        )

    @r.get("/v1/tasks")
    def list_tasks(
        manager: str | None = None,
        status: Literal["open", "done"] | None = None,
        lead: Whole | None = None,
        limit: Whole = Query(100, ge=1, le=1000),
    ) -> dict[str, Any]:
        """Tasks, soonest due first, with the lead's name and phone."""
        with pipeline.engine.connect() as conn:
            items = owner_store.list_tasks(
                conn, manager_key=manager, status=status, lead_id=lead, limit=limit
            )
        return {"items": items}

    @r.post("/v1/tasks/{task_id}/done")
    async def complete(task_id: Whole) -> dict[str, Any]:
        at = clock.now_ms()
        done = await run_in_threadpool(
            pipeline.writer.run_sync, lambda conn: owner_store.complete_task(conn, task_id, at)
        )
        if not done:
            raise NotFound(f"no open task {task_id}", field="task_id")
        return {"done": task_id}

    return r
