"""Signing in and out."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from leadpulse.core.errors import LeadpulseError, Unauthorized
from leadpulse.pipeline import Pipeline
from leadpulse.pipeline.accounts import SESSION_DAYS
from leadpulse.web.dashboard.guard import (
    LOGIN_COOKIE,
    PREFIX,
    SESSION_COOKIE,
    new_token,
    read_form,
    redirect,
    same,
)
from leadpulse.web.dashboard.render import page
from leadpulse.web.dashboard.throttle import Throttle


def _next(value: str | None) -> str:
    """Where to go after signing in: only a dashboard path (never another site)."""
    if value and value.startswith(f"{PREFIX}/") and not value.startswith("//"):
        return value
    return f"{PREFIX}/leads"


def _form(
    request: Request, status: int = 200, message: str | None = None, email: str = ""
) -> Response:
    token = new_token()
    response = page(
        "login.html", status, user=None, path=request.url.path, csrf=token, message=message,
        email=email, next=_next(request.query_params.get("next")),
    )  # fmt: skip
    secure = request.url.scheme == "https"
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict", secure=secure,
                        path=f"{PREFIX}/login")  # fmt: skip
    return response


def routes(pipeline: Pipeline) -> list[Route]:
    accounts = pipeline.accounts
    throttle = Throttle()

    async def login(request: Request) -> Response:
        if request.method == "GET":
            return _form(request)
        try:
            form = await read_form(request)
        except LeadpulseError as exc:
            return _form(request, exc.status, exc.message)
        field = {k: v[0] for k, v in form.items() if v}
        email = field.get("email", "")
        if not same(field.get("csrf"), request.cookies.get(LOGIN_COOKIE)):
            return _form(request, 403, "The sign-in form expired; please try again.", email)
        address = request.client.host if request.client else ""
        key = email.strip().lower()
        wait = throttle.wait_minutes(key, address)
        if wait:
            message = f"Too many failed sign-ins; try again in {wait} minute{'s' * (wait > 1)}."
            return _form(request, 429, message, email)
        try:
            token = await run_in_threadpool(accounts.sign_in, email, field.get("password", ""))
        except Unauthorized as exc:
            throttle.failed(key, address)
            return _form(request, 401, exc.message, email)
        throttle.succeeded(key)
        response = redirect(_next(field.get("next")))
        response.set_cookie(
            SESSION_COOKIE, token, max_age=SESSION_DAYS * 86_400, httponly=True, samesite="lax",
            secure=request.url.scheme == "https", path=PREFIX,
        )  # fmt: skip
        response.delete_cookie(LOGIN_COOKIE, path=f"{PREFIX}/login")
        return response

    async def logout(request: Request) -> Response:
        token = request.cookies.get(SESSION_COOKIE)
        user = await run_in_threadpool(accounts.user, token) if token else None
        if user is not None and token is not None:
            form = await read_form(request)
            if not same((form.get("csrf") or [""])[0], user.csrf):
                return page("error.html", 403, user=user, path="", message="Reload and try again.")
            await run_in_threadpool(accounts.sign_out, token)
        response = redirect(f"{PREFIX}/login")
        response.delete_cookie(SESSION_COOKIE, path=PREFIX)
        return response

    return [
        Route("/login", login, methods=["GET", "POST"]),
        Route("/logout", logout, methods=["POST"]),
    ]
