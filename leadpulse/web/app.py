"""Build the ASGI application."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from sqlalchemy.exc import DataError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp

from leadpulse import __version__
from leadpulse.core.errors import LeadpulseError
from leadpulse.core.settings import Settings
from leadpulse.core.settings import load as load_settings
from leadpulse.engage import KINDS
from leadpulse.pipeline import Pipeline
from leadpulse.store.engine import create_engine
from leadpulse.web import assets, demo_site, gc_policy
from leadpulse.web.api import automations as automations_api
from leadpulse.web.api import engage as engage_api
from leadpulse.web.api import leads as leads_api
from leadpulse.web.api import learning as learning_api
from leadpulse.web.api import models as models_api
from leadpulse.web.api import owners as owners_api
from leadpulse.web.api import reports as reports_api
from leadpulse.web.api import scores as scores_api
from leadpulse.web.api import segments as segments_api
from leadpulse.web.api import sites as sites_api
from leadpulse.web.api.auth import require_key
from leadpulse.web.collector import Collector
from leadpulse.web.dashboard import PREFIX
from leadpulse.web.dashboard import build as build_dashboard
from leadpulse.web.responses import (
    error_body,
    handle_leadpulse_error,
    handle_unexpected,
    json_response,
)


async def _validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    first: dict[str, Any] = exc.errors()[0] if exc.errors() else {}
    loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path")]
    field = ".".join(loc) or None
    message = first.get("msg", "invalid request")
    return json_response(
        error_body("invalid", f"{message} at {field}" if field else message, field), 400
    )


async def _http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return json_response(error_body(code, str(exc.detail)), exc.status_code)


async def _out_of_range(_request: Request, _exc: Exception) -> Response:
    """An id or number beyond what the database stores (`/v1/leads/99999999999999999999`)."""
    return json_response(error_body("invalid", "a number in the request is out of range"), 400)


_HANDLERS: dict[Any, Any] = {
    LeadpulseError: handle_leadpulse_error,
    OverflowError: _out_of_range,
    DataError: _out_of_range,
    RequestValidationError: _validation_error,
    HTTPException: _http_error,
    Exception: handle_unexpected,
}


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None


class ErrorBody(BaseModel):
    """The one error shape: a machine code, a readable message, the field it is about."""

    error: ErrorDetail


ERRORS: dict[int | str, dict[str, Any]] = {
    "4XX": {
        "model": ErrorBody,
        "description": "Refused: a missing or wrong key (401), an invalid request (400), "
        "nothing found (404), a conflict (409), too large (413)",
    }
}
"""Every operation's error answer, in place of FastAPI's 422 (invalid requests are a 400 here)."""


def build_api(pipeline: Pipeline) -> FastAPI:
    api = FastAPI(
        title="Leadpulse API",
        version=__version__,
        description="Admin API of Leadpulse. Authenticate with `Authorization: Bearer lp_sk_…`.",
        exception_handlers=_HANDLERS,
        responses=ERRORS,
    )
    auth = [Depends(require_key(pipeline.engine))]
    api.include_router(leads_api.router(pipeline), dependencies=auth)
    api.include_router(sites_api.router(pipeline), dependencies=auth)
    api.include_router(models_api.router(pipeline), dependencies=auth)
    api.include_router(scores_api.router(pipeline), dependencies=auth)
    for kind in KINDS:
        api.include_router(engage_api.router(pipeline, kind), dependencies=auth)
    api.include_router(owners_api.router(pipeline), dependencies=auth)
    api.include_router(segments_api.router(pipeline), dependencies=auth)
    api.include_router(reports_api.router(pipeline), dependencies=auth)
    api.include_router(learning_api.router(pipeline), dependencies=auth)
    for automation_router in automations_api.routers(pipeline):
        api.include_router(automation_router, dependencies=auth)
    return api


def create_app(
    settings: Settings | None = None, pipeline: Pipeline | None = None, *, server: bool = False
) -> ASGIApp:
    """The whole app; pass a `pipeline` to share one with tests or the CLI. `server`: this
    process is `leadpulse serve`, and collects garbage as a long-running server should
    (web/gc_policy.py)."""
    if pipeline is None:
        settings = settings or load_settings()
        pipeline = Pipeline(settings, create_engine(settings.database_url))
    collector = Collector(pipeline)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        pipeline.start(asyncio.get_running_loop())
        pipeline.start_dispatcher()
        policy = gc_policy.serving(pipeline.settings.gc_threshold) if server else nullcontext()
        try:
            with policy:
                yield
        finally:
            pipeline.stop()

    async def health(_request: Request) -> Response:
        return json_response({"status": "ok", "version": __version__})

    async def home(_request: Request) -> Response:
        return RedirectResponse(f"{PREFIX}/", status_code=307)

    routes = [
        Route("/", home),
        Route("/health", health),
        *assets.routes(),
        *demo_site.routes(pipeline),
        Mount(PREFIX, app=build_dashboard(pipeline)),
        Mount("/", app=build_api(pipeline)),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers=_HANDLERS)
    app.state.pipeline = pipeline
    return collector.mount(app)


def create_server_app() -> ASGIApp:
    """What each process of `leadpulse serve --workers N` runs (uvicorn's factory)."""
    return create_app(server=True)
