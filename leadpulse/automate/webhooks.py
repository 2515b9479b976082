"""Webhook delivery, signed the Standard Webhooks way (https://www.standardwebhooks.com).

Headers: `webhook-id` (the delivery's idempotency key, the same on every retry),
`webhook-timestamp` (Unix seconds) and `webhook-signature`: `v1,` + base64 of
HMAC-SHA256(secret, "{id}.{timestamp}.{body}"). A secret written `whsec_…` is base64 after the
prefix, as Standard Webhooks libraries expect; any other secret is used as its UTF-8 bytes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

import httpx

TIMEOUT_SECONDS = 10.0
USER_AGENT = "Leadpulse-Webhooks/1"


def secret_bytes(secret: str) -> bytes:
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret[6:], validate=True)
        except ValueError:
            pass
    return secret.encode()


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """What a receiver does (used by the tests; shown in docs/automations.md)."""
    expected = signature(secret, headers["webhook-id"], int(headers["webhook-timestamp"]), body)
    given = headers.get("webhook-signature", "").split()
    return any(hmac.compare_digest(expected, s) for s in given)


@dataclass(frozen=True, slots=True)
class Attempt:
    ok: bool
    status: int | None
    error: str | None
    permanent: bool = False
    """A failure no retry can mend (nothing configured to send with): dead at once."""


def deliver(
    client: httpx.Client, url: str, secret: str, message_id: str, timestamp: int, body: bytes
) -> Attempt:
    """POST once; 2xx is delivered, anything else (or no answer) is worth a retry."""
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, message_id, timestamp, body),
        "idempotency-key": message_id,
    }
    try:
        response = client.post(url, content=body, headers=headers, timeout=TIMEOUT_SECONDS)
    except httpx.HTTPError as exc:
        return Attempt(False, None, f"{type(exc).__name__}: {exc}"[:500])
    if 200 <= response.status_code < 300:
        return Attempt(True, response.status_code, None)
    return Attempt(
        False, response.status_code, f"HTTP {response.status_code}: {response.text[:200]}"
    )
