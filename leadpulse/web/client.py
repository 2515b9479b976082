"""Reading the client out of a request: IP, user agent, body under a size limit."""

from __future__ import annotations

from starlette.requests import Request

from leadpulse.core.errors import PayloadTooLarge


def client_ip(request: Request, trust_proxy: bool) -> str | None:
    if trust_proxy:
        forwarded = request.headers.get("x-forwarded-for")
        if forwarded:
            return forwarded.split(",", 1)[0].strip() or None
    return request.client.host if request.client else None


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refusing one over `limit` bytes before reading it all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"request body over {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"request body over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
