"""Last-seen times and first/last marketing touches, kept on visitors and on leads alike."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from leadpulse.core.types import Touch


def record_activity(
    conn: Connection, table: sa.Table, row_id: int, at: int, touches: list[Touch]
) -> None:
    """Advance `last_seen_at` to `at`; keep the earliest first touch and the latest last touch."""
    newest = sa.func.greatest if conn.dialect.name == "postgresql" else sa.func.max
    values: dict[str, object] = {
        "last_seen_at": newest(sa.func.coalesce(table.c.last_seen_at, 0), at)
    }
    if touches:
        first = min(touches, key=lambda t: t.at)
        last = max(touches, key=lambda t: t.at)
        first_at = sa.func.coalesce(_touch_at(conn, table.c.first_touch), first.at + 1)
        values["first_touch"] = sa.case(
            (first_at > first.at, sa.literal(first.to_dict(), table.c.first_touch.type)),
            else_=table.c.first_touch,
        )
        last_at = sa.func.coalesce(_touch_at(conn, table.c.last_touch), last.at - 1)
        values["last_touch"] = sa.case(
            (last_at <= last.at, sa.literal(last.to_dict(), table.c.last_touch.type)),
            else_=table.c.last_touch,
        )
        if "channel" in table.c:
            values["channel"] = sa.case((first_at > first.at, first.channel), else_=table.c.channel)
    conn.execute(sa.update(table).where(table.c.id == row_id).values(**values))


def _touch_at(conn: Connection, column: sa.Column[object]) -> sa.ColumnElement[int]:
    """The `at` member of a stored touch, read in SQL."""
    if conn.dialect.name == "postgresql":
        return sa.cast(column.op("->>")("at"), sa.BigInteger)
    return sa.cast(sa.func.json_extract(column, "$.at"), sa.BigInteger)
