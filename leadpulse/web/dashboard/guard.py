"""Who may see a dashboard page: the session cookie, the user's role, and the CSRF token every
form posts back.

Each page is a plain function of a `Ctx`, run in a worker thread (the pipeline's writes block).
The guard reads the form here, once, so a handler never sees an unchecked POST.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from leadpulse.core.errors import InvalidInput, LeadpulseError
from leadpulse.pipeline import Pipeline
from leadpulse.pipeline.accounts import ROLES, User
from leadpulse.web.dashboard.render import SECURITY_HEADERS, page

SESSION_COOKIE = "lp_session"
LOGIN_COOKIE = "lp_login"
"""Holds the CSRF token of the sign-in form (there is no session yet to hold it)."""
PREFIX = "/app"
MAX_FORM = 256 * 1024
STAFF = ("admin", "marketer")


@dataclass(frozen=True, slots=True)
class Ctx:
    request: Request
    user: User
    form: dict[str, list[str]]
    pipeline: Pipeline

    def field(self, name: str) -> str:
        """A form field, stripped; empty when it was not sent."""
        values = self.fields(name)
        return values[0] if values else ""

    def fields(self, name: str) -> list[str]:
        return [clean for v in self.form.get(name, []) if (clean := _text(v))]

    def query(self, name: str) -> str:
        return _text(self.request.query_params.get(name, ""))

    def render(self, name: str, status: int = 200, **context: Any) -> Response:
        return page(name, status, user=self.user, path=self.request.url.path, **context)


def _text(value: str) -> str:
    """Stripped, without NUL characters (PostgreSQL refuses them in text)."""
    return value.replace("\x00", "").strip()


Handler = Callable[[Ctx], Response]
Endpoint = Callable[[Request], Awaitable[Response]]


def redirect(path: str) -> Response:
    return RedirectResponse(path, status_code=303, headers=SECURITY_HEADERS)


async def read_form(request: Request) -> dict[str, list[str]]:
    declared = request.headers.get("content-length", "0")
    if not declared.isdigit() or int(declared) > MAX_FORM:
        raise InvalidInput("the form is too large")
    body = await request.body()
    if len(body) > MAX_FORM:
        raise InvalidInput("the form is too large")
    return parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)


def same(sent: str | None, expected: str | None) -> bool:
    return bool(sent and expected) and hmac.compare_digest(str(sent), str(expected))


def new_token() -> str:
    return secrets.token_urlsafe(24)


class Guard:
    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline

    def page(self, roles: tuple[str, ...] = ROLES) -> Callable[[Handler], Endpoint]:
        """Make `handler` a signed-in page for `roles`; a POST must carry the session's CSRF
        token. A user error (bad input, a missing lead) is a page with its message."""

        def wrap(handler: Handler) -> Endpoint:
            async def endpoint(request: Request) -> Response:
                token = request.cookies.get(SESSION_COOKIE)
                user = (
                    await run_in_threadpool(self.pipeline.accounts.user, token) if token else None
                )
                if user is None:
                    return self._signed_out(request)
                ctx_form: dict[str, list[str]] = {}
                try:
                    if request.method == "POST":
                        ctx_form = await read_form(request)
                        if not same((ctx_form.get("csrf") or [""])[0], user.csrf):
                            return _refused(user, request, 403, "This form has expired or did "
                                            "not come from this dashboard. Reload the page and "
                                            "try again.")  # fmt: skip
                    if user.role not in roles:
                        return _refused(user, request, 403, "Your role may not open this page.")
                    ctx = Ctx(request, user, ctx_form, self.pipeline)
                    return await run_in_threadpool(handler, ctx)
                except LeadpulseError as exc:
                    return _refused(user, request, exc.status, exc.message)

            return endpoint

        return wrap

    @staticmethod
    def _signed_out(request: Request) -> Response:
        if request.method != "GET":
            return page("error.html", 401, user=None, path="", message="Please sign in first.")
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect(f"{PREFIX}/login?next={quote(target, safe='')}")


def _refused(user: User, request: Request, status: int, message: str) -> Response:
    return page("error.html", status, user=user, path=request.url.path, message=message)
