"""JSON responses and the one error shape, mapped in one place."""

from __future__ import annotations

import logging
from typing import Any

import orjson
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
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return json_response(
        error_body("internal", "an internal error happened; it has been logged"), 500
    )
