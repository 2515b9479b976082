"""`/v1/sites`: the tracked websites and their public write keys."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import Field

from leadpulse.core.types import Site
from leadpulse.pipeline import Pipeline
from leadpulse.store import sites as site_store
from leadpulse.web.api.bodies import Body


class SiteIn(Body):
    name: str = Field(min_length=1, max_length=200)
    domains: list[str] = Field(default_factory=list)
    key: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")


def present_site(site: Site) -> dict[str, Any]:
    return {
        "id": site.id,
        "key": site.key,
        "name": site.name,
        "domains": list(site.domains),
        "write_key": site.write_key,
    }


def router(pipeline: Pipeline) -> APIRouter:
    r = APIRouter(prefix="/v1/sites", tags=["sites"])

    @r.get("")
    def get_sites() -> dict[str, Any]:
        with pipeline.engine.connect() as conn:
            return {"items": [present_site(s) for s in site_store.list_sites(conn)]}

    @r.post("", status_code=201)
    def post_site(body: SiteIn) -> dict[str, Any]:
        site = pipeline.add_site(body.name, body.domains, body.key)
        return present_site(site)

    return r
