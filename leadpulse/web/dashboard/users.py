"""The users page (admins only): who can sign in, with which role."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from leadpulse.pipeline import Pipeline
from leadpulse.pipeline.accounts import ROLES
from leadpulse.web.dashboard.guard import Ctx, Guard


def routes(pipeline: Pipeline, guard: Guard) -> list[Route]:
    @guard.page(("admin",))
    def users_page(ctx: Ctx) -> Response:
        return ctx.render("users.html", users=pipeline.accounts.list_users(), roles=ROLES)

    return [Route("/users", users_page)]
