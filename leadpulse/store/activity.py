"""Last-seen times and first/last marketing touches, kept on visitors and on leads alike."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy.engine import Connection

from leadpulse.core.types import Touch
from leadpulse.store.dialect import driver_sql, execute, is_postgres

_SEEN = {
    (table, with_state): (
        f"UPDATE {table} SET last_seen_at = GREATEST(last_seen_at, ?), "
        "first_touch = COALESCE(first_touch, ?), "
        "last_touch = COALESCE(?, last_touch)"
        + (", channel = COALESCE(channel, ?)" if table == "leads" else "")
        + (", score_state = ?" if with_state else "")
        + " WHERE id = ?"
    )
    for table in ("visitors", "leads")
    for with_state in (False, True)
}


def record_activity(
    conn: Connection,
    table: str,
    row_id: int,
    at: int,
    touches: list[Touch],
    score_state: str | None = None,
) -> None:
    """Advance `last_seen_at`; keep the first touch ever received and the newest one; and
    write the row's new `score_state` when given (`store.scores.state_text`).

    The hot path: one driver-level UPDATE. Touches arrive in order from a tracker; merging
    histories out of order goes through `combine_touches`.
    """
    first = last = None
    channel = None
    if touches:
        first_t = min(touches, key=lambda t: t.at)
        first = orjson.dumps(first_t.to_dict()).decode()
        last = orjson.dumps(max(touches, key=lambda t: t.at).to_dict()).decode()
        channel = first_t.channel
    params: tuple[Any, ...] = (at, first, last)
    if table == "leads":
        params += (channel,)
    if score_state is not None:
        params += (score_state,)
    execute(conn, _SEEN[table, score_state is not None], (*params, row_id))


def combine_touches(conn: Connection, table: str, row_id: int, touches: list[Touch]) -> None:
    """Fold touches from another history in: the earliest stays first, the latest last."""
    row = conn.exec_driver_sql(
        driver_sql(f"SELECT first_touch, last_touch FROM {table} WHERE id = ?", is_postgres(conn)),
        (row_id,),
    ).first()
    if row is None:
        return
    known = [touch_from(v) for v in row]
    every = [t for t in [*known, *touches] if t is not None]
    if not every:
        return
    first = min(every, key=lambda t: t.at)
    last = max(every, key=lambda t: t.at)
    sets = "first_touch = ?, last_touch = ?" + (", channel = ?" if table == "leads" else "")
    params: tuple[Any, ...] = (
        orjson.dumps(first.to_dict()).decode(),
        orjson.dumps(last.to_dict()).decode(),
    )
    if table == "leads":
        params += (first.channel,)
    conn.exec_driver_sql(
        driver_sql(f"UPDATE {table} SET {sets} WHERE id = ?", is_postgres(conn)),
        (*params, row_id),
    )


def touch_from(value: Any) -> Touch | None:
    """A stored touch (JSON text on SQLite, an object on PostgreSQL) as a `Touch`."""
    if value is None:
        return None
    data = orjson.loads(value) if isinstance(value, (str, bytes)) else value
    return Touch(**data)
