"""The tracking endpoints: `POST /v1/collect`, `POST /v1/identify` and the `GET /v1/p.gif` pixel.

The hot path: served straight from ASGI, before Starlette's router (see web/client.py and
docs/decisions.md); they answer with ordinary Starlette responses.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any
from urllib.parse import urlsplit

import msgspec
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from leadpulse.collect.decode import decode_batch, decode_identify
from leadpulse.collect.guard import RateLimiter, check_origin, origin_allowed
from leadpulse.collect.schema import Batch, Context, Event
from leadpulse.core import clock
from leadpulse.core.errors import InvalidInput, LeadpulseError
from leadpulse.core.types import Site
from leadpulse.pipeline import Pipeline
from leadpulse.scoring import as_dicts
from leadpulse.web.client import RawRequest, client_ip, read_body
from leadpulse.web.responses import error_body, error_response, json_response, unexpected_response

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


class Collector:
    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.settings = pipeline.settings
        self.limiter = RateLimiter(self.settings.rate_limit_per_minute)

    def mount(self, app: ASGIApp) -> ASGIApp:
        """Serve the tracking paths here and pass everything else on to `app`."""
        handlers = {
            "/v1/collect": (self.collect, {"POST", "OPTIONS"}),
            "/v1/identify": (self.identify, {"POST", "OPTIONS"}),
            "/v1/p.gif": (self.pixel, {"GET", "HEAD"}),
        }

        async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
            route = handlers.get(scope["path"]) if scope["type"] == "http" else None
            if route is None:
                await app(scope, receive, send)
                return
            handler, methods = route
            request = RawRequest(scope, receive)
            if request.method not in methods:
                response = json_response(
                    error_body("method_not_allowed", f"{request.method} is not allowed here"),
                    405,
                    {"allow": ", ".join(sorted(methods))},
                )
            else:
                response = await _guarded(handler, request)
            await response(scope, receive, send)

        return asgi

    def _cors(self, request: RawRequest, site: Site | None = None) -> dict[str, str]:
        origin = request.headers.get("origin")
        if not origin or (site is not None and not origin_allowed(origin, site.domains)):
            return {}
        return {
            "access-control-allow-origin": origin,
            "access-control-allow-credentials": "true",
            "vary": "Origin",
        }

    def _preflight(self, request: RawRequest) -> Response:
        headers = self._cors(request)
        headers.update(
            {
                "access-control-allow-methods": "POST, OPTIONS",
                "access-control-allow-headers": "content-type",
                "access-control-max-age": "86400",
            }
        )
        return Response(status_code=204, headers=headers)

    async def _site(self, request: RawRequest, write_key: str) -> Site:
        site = self.pipeline.site_for_write_key(write_key)
        check_origin(request.headers.get("origin"), site.domains)
        return site

    def _do_not_track(self, request: RawRequest) -> bool:
        return request.headers.get("dnt") == "1" or request.headers.get("sec-gpc") == "1"

    async def collect(self, request: RawRequest) -> Response:
        if request.method == "OPTIONS":
            return self._preflight(request)
        site: Site | None = None
        try:
            ip = client_ip(request, self.settings.trust_proxy_headers)
            self.limiter.hit(ip, clock.now_ms())
            body = await read_body(request, self.settings.max_body_bytes)
            batch = decode_batch(
                body,
                max_events=self.settings.max_events_per_batch,
                max_properties_bytes=self.settings.max_properties_bytes,
            )
            site = await self._site(request, batch.write_key)
            if self._do_not_track(request):
                return json_response(_ignored(len(batch.events)), 200, self._cors(request, site))
            ctx = self.pipeline.visit_context(
                _user_agent(request, batch.context), ip, _language(request, batch.context)
            )
            result = await self.pipeline.collect(site, batch, ctx)
        except LeadpulseError as exc:
            return error_response(exc, self._cors(request, site))
        return json_response(
            {
                "accepted": result.accepted,
                "duplicates": result.duplicates,
                "visitor": result.visitor,
                "lead": result.lead,
                "scores": as_dicts(result.scores),
                "decisions": result.decisions,
            },
            headers=self._cors(request, site),
        )

    async def identify(self, request: RawRequest) -> Response:
        if request.method == "OPTIONS":
            return self._preflight(request)
        site: Site | None = None
        try:
            ip = client_ip(request, self.settings.trust_proxy_headers)
            self.limiter.hit(ip, clock.now_ms())
            body = await read_body(request, self.settings.max_body_bytes)
            ident = decode_identify(body, max_properties_bytes=self.settings.max_properties_bytes)
            site = await self._site(request, ident.write_key)
            if self._do_not_track(request):
                return json_response(
                    {"visitor": None, "lead": None, "ignored": "do-not-track"},
                    headers=self._cors(request, site),
                )
            ctx = self.pipeline.visit_context(
                _user_agent(request, ident.context), ip, _language(request, ident.context)
            )
            result = await self.pipeline.identify(site, ident.anonymous_id, ident.traits, ctx)
        except LeadpulseError as exc:
            return error_response(exc, self._cors(request, site))
        return json_response(
            {
                "visitor": result.visitor,
                "lead": result.lead,
                "created": result.created,
                "merged": list(result.merged),
                "scores": as_dicts(result.scores),
            },
            headers=self._cors(request, site),
        )

    async def pixel(self, request: RawRequest) -> Response:
        """No-JavaScript fallback: `<img src="/v1/p.gif?k=WRITE_KEY&a=ANON_ID&u=URL">`.

        Query: k write key, a anonymous id, t type (page_view), u url, r referrer, i event id
        (a fresh one when absent), s session id. Always answers with the image; errors are in
        the status and the `x-leadpulse-error` header.
        """
        q = request.query_params
        headers = {"cache-control": "no-store"}
        try:
            ip = client_ip(request, self.settings.trust_proxy_headers)
            self.limiter.hit(ip, clock.now_ms())
            anon = q.get("a")
            if not anon:
                raise InvalidInput("the pixel needs a= (anonymous id)", field="a")
            batch = Batch(
                write_key=q.get("k", ""),
                anonymous_id=anon,
                events=[
                    Event(
                        id=q.get("i") or uuid.uuid4().hex,
                        type=q.get("t") or "page_view",
                        session_id=q.get("s"),
                        url=q.get("u") or request.headers.get("referer"),
                        referrer=q.get("r"),
                    )
                ],
            )
            batch = decode_batch(
                _encode(batch),
                max_events=1,
                max_properties_bytes=self.settings.max_properties_bytes,
            )
            site = self.pipeline.site_for_write_key(batch.write_key)
            _check_page_origin(batch.events[0].url, site)
            if not self._do_not_track(request):
                ctx = self.pipeline.visit_context(
                    request.headers.get("user-agent"), ip, _language(request, None)
                )
                await self.pipeline.collect(site, batch, ctx)
        except LeadpulseError as exc:
            headers["x-leadpulse-error"] = _header_text(exc.message)[:200]
            return Response(PIXEL, status_code=exc.status, media_type="image/gif", headers=headers)
        return Response(PIXEL, media_type="image/gif", headers=headers)


def _header_text(message: str) -> str:
    """A message as a header value, which is bytes 0x20-0x7e: the rest (a visitor's URL can
    hold any character) as Python escapes, `\\u20ac` for `€`."""
    return "".join(c if " " <= c <= "~" else ascii(c)[1:-1] for c in message)


def _encode(batch: Batch) -> bytes:
    return msgspec.json.encode(batch)


def _check_page_origin(url: str | None, site: Site) -> None:
    if url and site.domains:
        try:
            parts = urlsplit(url)
        except ValueError:  # an unbalanced "[" in the host
            raise InvalidInput("the page (u=) is not a URL", field="u") from None
        check_origin(f"{parts.scheme}://{parts.netloc}", site.domains)


def _ignored(n: int) -> dict[str, object]:
    return {
        "accepted": 0,
        "duplicates": 0,
        "ignored": n,
        "reason": "do-not-track",
        "visitor": None,
        "lead": None,
        "decisions": [],
    }


def _user_agent(request: RawRequest, context: Context | None) -> str | None:
    if context is not None and context.user_agent:
        return context.user_agent
    return request.headers.get("user-agent")


def _language(request: RawRequest, context: Context | None) -> str | None:
    if context is not None and context.language:
        return context.language
    header = request.headers.get("accept-language")
    return header.split(",", 1)[0].split(";", 1)[0].strip() or None if header else None


async def _guarded(handler: Any, request: RawRequest) -> Response:
    """Run a handler; a bug becomes a logged 500 in the one error shape, never a traceback
    (and an unreachable database a 503)."""
    try:
        response: Response = await handler(request)
    except ClientDisconnect:
        return Response(status_code=499)
    except Exception as exc:
        return unexpected_response(request.method, request.scope["path"], exc)
    return response
