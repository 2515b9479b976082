"""Versioned documents users write: scoring models, offers and personalisations.

Every save is a new version (the history stays); a delete marks the key's versions deleted, and
saving the key again brings it back as the next version. `scope` narrows a table to one kind
(`{"kind": "offer"}`) where several kinds share it.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from leadpulse.store.rows import as_dict


def _where(table: sa.Table, scope: dict[str, Any]) -> list[Any]:
    return [table.c[name] == value for name, value in scope.items()]


def active(conn: Connection, table: sa.Table, scope: dict[str, Any]) -> list[tuple[str, int, str]]:
    """(key, version, source) of the newest version of every document not deleted."""
    return _newest(conn, table, scope, deleted=False)


def disabled(
    conn: Connection, table: sa.Table, scope: dict[str, Any]
) -> list[tuple[str, int, str]]:
    """(key, version, source) of the newest version of every deleted document: what saving it
    again would bring back."""
    return _newest(conn, table, scope, deleted=True)


def _newest(
    conn: Connection, table: sa.Table, scope: dict[str, Any], *, deleted: bool
) -> list[tuple[str, int, str]]:
    latest = (
        sa.select(table.c.key, sa.func.max(table.c.version).label("version"))
        .where(*_where(table, scope))
        .group_by(table.c.key)
        .subquery()
    )
    gone = table.c.deleted_at.is_not(None) if deleted else table.c.deleted_at.is_(None)
    rows = conn.execute(
        sa.select(table.c.key, table.c.version, table.c.source)
        .join(latest, sa.and_(table.c.key == latest.c.key, table.c.version == latest.c.version))
        .where(gone, *_where(table, scope))
        .order_by(table.c.key if deleted else table.c.id)
    )
    return [(r.key, r.version, r.source) for r in rows]


def history(
    conn: Connection, table: sa.Table, scope: dict[str, Any], key: str
) -> list[dict[str, Any]]:
    rows = conn.execute(
        sa.select(table.c.version, table.c.created_at, table.c.deleted_at)
        .where(table.c.key == key, *_where(table, scope))
        .order_by(table.c.version)
    )
    return [as_dict(r) for r in rows]


def publish(
    conn: Connection, table: sa.Table, scope: dict[str, Any], key: str, source: str, at: int
) -> int:
    """Store a new version of a document; returns its number."""
    current = conn.execute(
        sa.select(sa.func.max(table.c.version)).where(table.c.key == key, *_where(table, scope))
    ).scalar()
    version = int(current or 0) + 1
    conn.execute(
        sa.insert(table).values(key=key, version=version, source=source, created_at=at, **scope)
    )
    return version


def delete(conn: Connection, table: sa.Table, scope: dict[str, Any], key: str, at: int) -> int:
    return conn.execute(
        sa.update(table)
        .where(table.c.key == key, table.c.deleted_at.is_(None), *_where(table, scope))
        .values(deleted_at=at)
    ).rowcount
