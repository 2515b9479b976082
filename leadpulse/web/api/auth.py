"""Bearer secret keys: only their SHA-256 is stored; the write key never opens the admin API."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request
from sqlalchemy.engine import Engine

from leadpulse.core.errors import Unauthorized
from leadpulse.core.keys import SECRET_PREFIX, WRITE_PREFIX, hash_key
from leadpulse.store import sites as site_store


def require_key(engine: Engine) -> Callable[[Request], None]:
    def dependency(request: Request) -> None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("send a secret API key: Authorization: Bearer lp_sk_…")
        token = token.strip()
        if token.startswith(WRITE_PREFIX):
            raise Unauthorized("a write key only sends events; the admin API needs a secret key")
        if not token.startswith(SECRET_PREFIX):
            raise Unauthorized("not a Leadpulse secret key")
        with engine.connect() as conn:
            active = site_store.api_key_is_active(conn, hash_key(token))
        if not active:
            raise Unauthorized("unknown or revoked API key")

    return dependency
