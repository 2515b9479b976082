"""Dashboard accounts: users with a role, argon2 password hashes, and sign-in sessions.

A session is a random token in a cookie; the database keeps only its SHA-256, so a copy of the
database does not sign anyone in. Each session carries its own CSRF token for the forms.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Connection, Engine

from leadpulse.core import clock
from leadpulse.core.errors import Conflict, InvalidInput, NotFound, Unauthorized
from leadpulse.store import owners as owner_store
from leadpulse.store import users as user_store
from leadpulse.store.writer import Writer

ROLES = ("admin", "marketer", "sales")
"""admin: everything; marketer: leads, models, automations, reports; sales: leads and cards."""

SESSION_DAYS = 14
MIN_PASSWORD = 8

_hasher = PasswordHasher()
_NOBODY = _hasher.hash("a password no account has")
"""Checked against when the email is unknown, so a wrong email takes as long as a wrong
password and does not tell an attacker which emails exist."""


@dataclass(frozen=True, slots=True)
class User:
    id: int
    email: str
    role: str
    manager_id: int | None
    manager: str | None
    csrf: str

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> User:
        return cls(
            id=row["id"],
            email=row["email"],
            role=row["role"],
            manager_id=row["manager_id"],
            manager=row["manager"],
            csrf=row["csrf"],
        )


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _email(value: str) -> str:
    email = value.strip().lower()
    if "@" not in email or len(email) > 320 or " " in email:
        raise InvalidInput(f"{value!r} is not an email address", field="email")
    return email


def _check(role: str, password: str) -> None:
    if role not in ROLES:
        raise InvalidInput(f"no role {role!r}; use one of {', '.join(ROLES)}", field="role")
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(
            f"the password is too short: at least {MIN_PASSWORD} characters", field="password"
        )


class Accounts:
    def __init__(self, engine: Engine, writer: Writer) -> None:
        self.engine = engine
        self.writer = writer

    def add_user(
        self, email: str, password: str, role: str, manager: str | None = None
    ) -> dict[str, Any]:
        """Create a user; `manager` (a manager's key) links a sales user to the leads it owns."""
        address = _email(email)
        _check(role, password)
        hashed = _hasher.hash(password)
        at = clock.now_ms()

        def unit(conn: Connection) -> dict[str, Any]:
            if user_store.user_by_email(conn, address) is not None:
                raise Conflict(f"a user {address} exists already", field="email")
            manager_id = None
            if manager is not None:
                found = owner_store.manager(conn, key=manager)
                if found is None:
                    raise NotFound(f"no manager {manager!r} (add it with PUT /v1/managers/KEY)",
                                   field="manager")  # fmt: skip
                manager_id = found["id"]
            user_store.create_user(
                conn,
                {"email": address, "password_hash": hashed, "role": role,
                 "manager_id": manager_id},
                at,
            )  # fmt: skip
            created = user_store.user_by_email(conn, address)
            assert created is not None
            return created

        return self.writer.run_sync(unit)

    def list_users(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return user_store.list_users(conn)

    def sign_in(self, email: str, password: str) -> str:
        """Check the password and open a session; returns the token for the cookie."""
        address = email.strip().lower()
        with self.engine.connect() as conn:
            found = user_store.credentials(conn, address)
        try:
            _hasher.verify(found[1] if found else _NOBODY, password)
        except (VerificationError, InvalidHashError):
            found = None
        if found is None:
            raise Unauthorized("wrong email or password")
        user_id, stored = found
        token = secrets.token_urlsafe(32)
        now = clock.now_ms()
        rehash = _hasher.check_needs_rehash(stored)
        new_hash = _hasher.hash(password) if rehash else None

        def unit(conn: Connection) -> None:
            user_store.delete_expired_sessions(conn, now)
            user_store.create_session(
                conn, user_id, token_hash(token), secrets.token_urlsafe(32), now,
                now + SESSION_DAYS * 86_400_000,
            )  # fmt: skip
            if new_hash is not None:
                user_store.update_user(conn, user_id, {"password_hash": new_hash})

        self.writer.run_sync(unit)
        return token

    def user(self, token: str) -> User | None:
        """The signed-in user of a session token, or None (unknown or expired)."""
        with self.engine.connect() as conn:
            row = user_store.session_user(conn, token_hash(token), clock.now_ms())
        return None if row is None else User.from_row(row)

    def sign_out(self, token: str) -> None:
        self.writer.run_sync(lambda conn: user_store.delete_session(conn, token_hash(token)))
