"""The dashboard for sales and marketing: server-rendered pages under /app, signed in with a
user and role (see `leadpulse user add`); the JSON API keeps its Bearer keys."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from leadpulse.pipeline import Pipeline
from leadpulse.web.dashboard import (
    automations,
    lead_card,
    leads,
    models,
    reports,
    signin,
    users,
)
from leadpulse.web.dashboard.guard import PREFIX, Guard, redirect

__all__ = ["PREFIX", "build"]

STATIC = Path(__file__).parent / "static"


def build(pipeline: Pipeline) -> Starlette:
    """The dashboard app, to be mounted at `PREFIX`."""
    guard = Guard(pipeline)

    async def home(_request: Request) -> Response:
        return redirect(f"{PREFIX}/leads")

    return Starlette(
        routes=[
            Route("/", home),
            *signin.routes(pipeline),
            *leads.routes(pipeline, guard),
            *lead_card.routes(guard),
            *models.routes(pipeline, guard),
            *automations.routes(pipeline, guard),
            *reports.routes(pipeline, guard),
            *users.routes(pipeline, guard),
            Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
        ]
    )
