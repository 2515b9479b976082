"""Dialect differences in one place: upserts, placeholders, `greatest`.

The collector's per-request statements are written as driver-level SQL (see docs/decisions.md):
building and compiling SQLAlchemy expressions cost more than the database work itself there.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection


def insert_ignore(conn: Connection, table: sa.Table) -> sqlite.Insert | postgresql.Insert:
    """`INSERT … ON CONFLICT DO NOTHING` for the connection's dialect."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


def is_postgres(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


@lru_cache(maxsize=64)
def driver_sql(template: str, postgres: bool) -> str:
    """Turn `?` placeholders and `GREATEST(` into the driver's spelling.

    Templates use `?` (sqlite3's qmark style) and never contain a literal `?` or `%`.
    """
    if postgres:
        return template.replace("?", "%s")
    return template.replace("GREATEST(", "MAX(")


def execute(conn: Connection, template: str, params: tuple[Any, ...]) -> Any:
    """Run driver-level SQL on the connection's DBAPI cursor, inside its transaction.

    Skips SQLAlchemy's result machinery (~30 µs a statement), which the collector's
    per-request statements cannot afford. Returns the DBAPI cursor.
    """
    postgres = is_postgres(conn)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    cursor.execute(driver_sql(template, postgres), params)
    return cursor
