"""Dashboard users and their sign-in sessions (only a hash of a session token is stored)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from leadpulse.store.rows import as_dict
from leadpulse.store.schema import managers, user_sessions, users

_USER_COLUMNS = (
    users.c.id,
    users.c.email,
    users.c.role,
    users.c.manager_id,
    managers.c.key.label("manager"),
    users.c.created_at,
    users.c.signed_in_at,
)


def _with_manager() -> sa.Select[Any]:
    return sa.select(*_USER_COLUMNS).outerjoin(managers, managers.c.id == users.c.manager_id)


def create_user(conn: Connection, values: dict[str, Any], at: int) -> int:
    return int(
        conn.execute(
            sa.insert(users).values(created_at=at, **values).returning(users.c.id)
        ).scalar_one()
    )


def update_user(conn: Connection, user_id: int, values: dict[str, Any]) -> None:
    conn.execute(sa.update(users).where(users.c.id == user_id).values(**values))


def credentials(conn: Connection, email: str) -> tuple[int, str] | None:
    """The id and password hash of the user with this email."""
    row = conn.execute(
        sa.select(users.c.id, users.c.password_hash).where(users.c.email == email)
    ).first()
    return None if row is None else (int(row.id), str(row.password_hash))


def user_by_email(conn: Connection, email: str) -> dict[str, Any] | None:
    row = conn.execute(_with_manager().where(users.c.email == email)).first()
    return None if row is None else as_dict(row)


def list_users(conn: Connection) -> list[dict[str, Any]]:
    return [as_dict(r) for r in conn.execute(_with_manager().order_by(users.c.email))]


def create_session(
    conn: Connection, user_id: int, token_hash: str, csrf: str, at: int, expires_at: int
) -> None:
    conn.execute(
        sa.insert(user_sessions).values(
            user_id=user_id, token_hash=token_hash, csrf=csrf, created_at=at, expires_at=expires_at
        )
    )
    conn.execute(sa.update(users).where(users.c.id == user_id).values(signed_in_at=at))


def session_user(conn: Connection, token_hash: str, now: int) -> dict[str, Any] | None:
    """The user of an unexpired session, with the session's CSRF token."""
    row = conn.execute(
        _with_manager()
        .add_columns(user_sessions.c.csrf)
        .join(user_sessions, user_sessions.c.user_id == users.c.id)
        .where(user_sessions.c.token_hash == token_hash, user_sessions.c.expires_at > now)
    ).first()
    return None if row is None else as_dict(row)


def delete_session(conn: Connection, token_hash: str) -> None:
    conn.execute(sa.delete(user_sessions).where(user_sessions.c.token_hash == token_hash))


def delete_expired_sessions(conn: Connection, now: int) -> int:
    return conn.execute(sa.delete(user_sessions).where(user_sessions.c.expires_at <= now)).rowcount
