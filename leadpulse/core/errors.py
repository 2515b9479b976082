"""One error tree for the whole product.

Each error carries a stable machine `code`, a human `message`, an optional `field` path and the
HTTP status it maps to. The web layer turns any of them into
`{"error": {"code", "message", "field"}}`; the CLI prints `message` on one line and exits non-zero.
"""

from __future__ import annotations


class LeadpulseError(Exception):
    """Base of every error a user or client can cause."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code

    def to_dict(self) -> dict[str, object]:
        return {"error": {"code": self.code, "message": self.message, "field": self.field}}


class BadRequest(LeadpulseError):
    status = 400
    code = "bad_request"


class InvalidInput(BadRequest):
    """A value has the wrong type or shape; `field` names its path."""

    code = "invalid"


class Unauthorized(LeadpulseError):
    status = 401
    code = "unauthorized"


class Forbidden(LeadpulseError):
    status = 403
    code = "forbidden"


class NotFound(LeadpulseError):
    status = 404
    code = "not_found"


class Conflict(LeadpulseError):
    status = 409
    code = "conflict"


class PayloadTooLarge(LeadpulseError):
    status = 413
    code = "too_large"


class RateLimited(LeadpulseError):
    status = 429
    code = "rate_limited"


class ConfigError(LeadpulseError):
    """A setting or a configuration file is wrong."""

    code = "config"
