"""`/v1/models`: scoring models as files — publish, read, validate, delete, rescore."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from leadpulse.core.errors import InvalidInput, NotFound
from leadpulse.pipeline import Pipeline
from leadpulse.scoring.model import Model
from leadpulse.scoring.parse import parse_model
from leadpulse.store import scores as score_store

BODY = {
    # a document (YAML or JSON) as the request body
    "requestBody": {
        "required": True,
        "content": {
            "application/yaml": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "object"}},
        },
    }
}


def summary(model: Model, version: int) -> dict[str, Any]:
    return {
        "key": model.key,
        "name": model.name,
        "kind": model.kind,
        "version": version,
        "rules": len(model.rules),
        "bands": dict(model.bands),
        "stages": dict(model.stages),
        "half_life_days": model.half_life_days,
    }


async def read_body(request: Request, what: str) -> str:
    """The request body as text; an empty one is an error that says what to send."""
    body = (await request.body()).decode("utf-8", errors="replace")
    if not body.strip():
        raise InvalidInput(f"send {what} as the request body", field="body")
    return body


async def _parsed(request: Request, source: str) -> tuple[Model, str]:
    body = await read_body(request, "the model file (YAML or JSON)")
    return parse_model(body, source), body


def router(pipeline: Pipeline) -> APIRouter:
    r = APIRouter(prefix="/v1/models", tags=["models"])

    def published() -> dict[str, tuple[Model, int]]:
        return {p.model.key: (p.model, p.version) for p in pipeline.scoring.refresh().models}

    @r.get("")
    def list_models() -> dict[str, Any]:
        return {"items": [summary(m, v) for m, v in published().values()]}

    @r.post("/validate", openapi_extra=BODY)
    async def validate(request: Request) -> dict[str, Any]:
        """Check a model file without publishing it; errors name the rule and the path."""
        model, _ = await _parsed(request, "model")
        return {"valid": True, **summary(model, 0)}

    @r.get("/{key}")
    def get_model(key: str) -> dict[str, Any]:
        found = published().get(key)
        if found is None:
            raise NotFound(f"no model {key!r}", field="key")
        model, version = found
        with pipeline.engine.connect() as conn:
            rows = score_store.active_models(conn)
            history = score_store.model_history(conn, key)
        source = next(src for k, _, src in rows if k == key)
        return {**summary(model, version), "source": source, "history": history}

    @r.put("/{key}", openapi_extra=BODY)
    async def put_model(key: str, request: Request) -> dict[str, Any]:
        """Publish a new version (YAML or JSON body). Scores of past events change only after
        a rescore (`POST /v1/models/{key}/rescore`)."""
        model, source = await _parsed(request, f"{key}")
        if model.key != key:
            raise InvalidInput(
                f"the file's key is {model.key!r} but the URL says {key!r}", field="key"
            )
        version = await run_in_threadpool(pipeline.publish_model, key, source)
        return {**summary(model, version), "rescore": f"/v1/models/{key}/rescore"}

    @r.delete("/{key}")
    async def delete_model(key: str) -> dict[str, Any]:
        if key not in published():
            raise NotFound(f"no model {key!r}", field="key")
        await run_in_threadpool(pipeline.delete_model, key)
        return {"deleted": key}

    @r.post("/{key}/rescore")
    async def rescore(key: str) -> dict[str, Any]:
        """Replay every stored event through the current models (all of them: they share the
        per-lead state), in batches, while collection goes on."""
        if key not in published():
            raise NotFound(f"no model {key!r}", field="key")
        subjects, events = await run_in_threadpool(pipeline.rescore)
        return {"subjects": subjects, "events": events}

    return r
