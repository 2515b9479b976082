"""JSON responses and the one error shape, mapped in one place."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.requests import Request
from starlette.responses import Response

from leadpulse.core.errors import LeadpulseError

log = logging.getLogger("leadpulse.web")


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(data), status_code=status, media_type="application/json", headers=headers
    )


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "field": field}}


def error_response(exc: LeadpulseError, headers: dict[str, str] | None = None) -> Response:
    return json_response(exc.to_dict(), exc.status, headers)


async def handle_leadpulse_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LeadpulseError)
    return error_response(exc)


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    return unexpected_response(request.method, request.url.path, exc)


def unexpected_response(method: str, path: str, exc: BaseException) -> Response:
    """A bug is a logged 500 in the one error shape; the database out of reach (PostgreSQL
    restarting) is a 503 that tells the client to send again, as nothing was stored."""
    if isinstance(exc, (OperationalError, InterfaceError)):
        log.warning("database unavailable on %s %s: %s", method, path, exc.orig)
        message = "the database cannot be reached right now; nothing was stored, send it again"
        return json_response(error_body("unavailable", message), 503, {"Retry-After": "2"})
    log.exception("unexpected error on %s %s", method, path, exc_info=exc)
    return json_response(
        error_body("internal", "an internal error happened; it has been logged"), 500
    )
