"""`/v1/offers` and `/v1/personalizations`: documents like scoring models — save, read,
validate, delete — and the holdout report that measures each one's uplift."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from leadpulse.core.errors import InvalidInput, NotFound
from leadpulse.engage import Definition, Kind, Offer, parse_definition
from leadpulse.pipeline import Pipeline
from leadpulse.store import engage as engage_store
from leadpulse.store import sites as site_store
from leadpulse.web.api.models import BODY, read_body

_PATHS: dict[Kind, str] = {"offer": "offers", "personalization": "personalizations"}


def summary(item: Definition, version: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        "key": item.key,
        "name": item.name,
        "site": item.site,
        "version": version,
        "holdout": item.holdout,
    }
    if isinstance(item, Offer):
        out["fields"] = [f.name for f in item.content.fields]
        out["moments"] = {
            "exit_intent": item.when.exit_intent,
            "seconds_on_page": item.when.seconds_on_page,
            "scroll_depth": item.when.scroll_depth,
        }
    else:
        out["changes"] = len(item.changes)
    return out


def _rates(groups: dict[str, dict[str, int]]) -> dict[str, Any]:
    """Conversion (became a lead) per group and the difference: the measured uplift."""
    rates = {
        group: round(counts["leads"] / counts["visitors"], 4) if counts["visitors"] else None
        for group, counts in groups.items()
    }
    treated, held = rates.get("treatment"), rates.get("holdout")
    uplift = round(treated - held, 4) if treated is not None and held is not None else None
    return {"lead_rate": rates, "uplift": uplift}


def router(pipeline: Pipeline, kind: Kind) -> APIRouter:
    noun = kind
    r = APIRouter(prefix=f"/v1/{_PATHS[kind]}", tags=[_PATHS[kind]])

    def saved() -> dict[str, tuple[int, str]]:
        with pipeline.engine.connect() as conn:
            return {key: (v, src) for key, v, src in engage_store.active(conn, kind)}

    def found(key: str) -> tuple[int, str]:
        item = saved().get(key)
        if item is None:
            raise NotFound(f"no {noun} {key!r}", field="key")
        return item

    async def parsed(request: Request, source: str) -> tuple[Definition, str]:
        body = await read_body(request, f"the {noun} (YAML or JSON)")
        item = parse_definition(kind, body, source)
        if item.site is not None:
            with pipeline.engine.connect() as conn:
                if site_store.site_by_key(conn, item.site) is None:
                    raise InvalidInput(f"{source}: site: no site {item.site!r}", field="site")
        return item, body

    @r.get("")
    def list_all() -> dict[str, Any]:
        return {
            "items": [
                summary(parse_definition(kind, src, key), v) for key, (v, src) in saved().items()
            ]
        }

    @r.post("/validate", openapi_extra=BODY)
    async def validate(request: Request) -> dict[str, Any]:
        """Check a definition without saving it; errors name the path and the reason."""
        item, _ = await parsed(request, noun)
        return {"valid": True, **summary(item, 0)}

    @r.get("/{key}")
    def get_one(key: str) -> dict[str, Any]:
        version, source = found(key)
        with pipeline.engine.connect() as conn:
            history = engage_store.history(conn, kind, key)
        item = parse_definition(kind, source, key)
        return {**summary(item, version), "source": source, "history": history}

    @r.put("/{key}", openapi_extra=BODY)
    async def put_one(key: str, request: Request) -> dict[str, Any]:
        """Save a new version (YAML or JSON body); it applies from the next collect request."""
        item, source = await parsed(request, key)
        if item.key != key:
            raise InvalidInput(
                f"the file's key is {item.key!r} but the URL says {key!r}", field="key"
            )
        version = await run_in_threadpool(pipeline.save_definition, kind, key, source)
        return summary(item, version)

    @r.delete("/{key}")
    async def delete_one(key: str) -> dict[str, Any]:
        found(key)
        await run_in_threadpool(pipeline.delete_definition, kind, key)
        return {"deleted": key}

    @r.get("/{key}/stats")
    def stats(key: str) -> dict[str, Any]:
        """Visitors exposed per group (treatment, holdout), how many of them submitted (offers),
        became leads and were won — and the lead-rate difference between the groups."""
        found(key)
        with pipeline.engine.connect() as conn:
            groups = engage_store.uplift(conn, kind, key)
        return {"key": key, "groups": groups, **_rates(groups)}

    return r
