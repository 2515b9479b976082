"""Write keys (public, in the page) and secret API keys (only their hash is stored)."""

from __future__ import annotations

import hashlib
import secrets

SECRET_PREFIX = "lp_sk_"
WRITE_PREFIX = "lp_wk_"


def new_write_key() -> str:
    return WRITE_PREFIX + secrets.token_urlsafe(18)


def new_secret_key() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(30)


def hash_key(key: str) -> str:
    """SHA-256 is enough: secret keys are 240 random bits, not passwords."""
    return hashlib.sha256(key.encode()).hexdigest()
