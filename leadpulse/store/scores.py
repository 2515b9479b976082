"""Scoring models (versioned), per-subject scoring state and the score ledger.

A subject is a lead, or an anonymous visitor until it is identified. The state and ledger
statements run on every collect request, so they are driver-level SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from leadpulse.store import decoded, documents
from leadpulse.store.dialect import execute, is_postgres
from leadpulse.store.rows import as_dict
from leadpulse.store.schema import score_ledger, scoring_models


class LedgerEntry(Protocol):
    """What a ledger row is made of (the scoring engine's `Entry` fits)."""

    @property
    def model(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def rule(self) -> str: ...
    @property
    def occurrence(self) -> str: ...
    @property
    def points(self) -> float: ...
    @property
    def at(self) -> int: ...
    @property
    def event(self) -> str | None: ...
    @property
    def decays(self) -> bool: ...


# -- models ----------------------------------------------------------------------------------


def active_models(conn: Connection) -> list[tuple[str, int, str]]:
    """(key, version, source) of the newest version of every model not deleted."""
    return documents.active(conn, scoring_models, {})


def model_history(conn: Connection, key: str) -> list[dict[str, Any]]:
    return documents.history(conn, scoring_models, {}, key)


def publish_model(conn: Connection, key: str, source: str, at: int) -> int:
    """Store a new version of a model; returns its number."""
    return documents.publish(conn, scoring_models, {}, key, source, at)


def delete_model(conn: Connection, key: str, at: int) -> int:
    return documents.delete(conn, scoring_models, {}, key, at)


# -- state -----------------------------------------------------------------------------------
# A subject's state lives on its own row, `visitors.score_state` while anonymous and
# `leads.score_state` once identified: a collect request writes it with the row's last-seen
# time and touches, in the UPDATE it makes anyway (store.activity; docs/decisions.md).

_TABLE = {"lead": "leads", "visitor": "visitors"}
_LOAD = {kind: f"SELECT score_state FROM {table} WHERE id = ?" for kind, table in _TABLE.items()}
_SAVE = {kind: f"UPDATE {table} SET score_state = ? WHERE id = ?" for kind, table in _TABLE.items()}


def _subject(lead_id: int | None, visitor_id: int | None) -> tuple[str, int]:
    if lead_id is not None:
        return "lead", lead_id
    assert visitor_id is not None
    return "visitor", visitor_id


def load_state(
    conn: Connection, lead_id: int | None, visitor_id: int | None, *, kept: bool = False
) -> Any:
    """The subject's scoring state, or None when it has none yet.

    `kept`: the writer's own read of a state it will change and save — on SQLite the decoded
    state is kept between transactions (store.decoded), and the one returned may be that kept
    object, so it must not be changed without being saved."""
    kind, subject = _subject(lead_id, visitor_id)
    if kept:
        state = decoded.get(conn, (kind == "lead", subject))
        if state is not None:
            return state
    row = execute(conn, _LOAD[kind], (subject,)).fetchone()
    if row is None or row[0] is None:
        return None
    value = row[0]
    state = orjson.loads(value) if isinstance(value, (str, bytes)) else value
    if kept:
        decoded.put(conn, (kind == "lead", subject), state)
    return state


def stored_states(conn: Connection, subjects: Sequence[int], *, leads: bool) -> dict[int, str]:
    """The scoring states of many leads (or visitors) at once, by subject, as the JSON text
    stored: a rescore compares them as they are and parses the few it needs."""
    if not subjects:
        return {}
    table = "leads" if leads else "visitors"
    state = "score_state::text" if is_postgres(conn) else "score_state"
    marks = ", ".join("?" * len(subjects))
    sql = f"SELECT id, {state} FROM {table} WHERE id IN ({marks}) AND score_state IS NOT NULL"
    return {r[0]: r[1] for r in execute(conn, sql, tuple(subjects))}


def state_text(
    conn: Connection, lead_id: int | None, visitor_id: int | None, state: Any, *, stored: bool
) -> str:
    """The state as its row keeps it, for a caller that writes it with the row's other
    columns (`store.activity.record_activity`) or through `save_state`.

    `stored`: `state` is the very object `load_state(..., kept=True)` returned in this
    transaction, so on SQLite it is kept already; any other is kept from now on."""
    if not stored:
        kind, subject = _subject(lead_id, visitor_id)
        decoded.put(conn, (kind == "lead", subject), state)
    return orjson.dumps(state).decode()


def save_state(conn: Connection, lead_id: int | None, visitor_id: int | None, state: Any) -> None:
    """Write the subject's state on its row."""
    kind, subject = _subject(lead_id, visitor_id)
    text = state_text(conn, lead_id, visitor_id, state, stored=False)
    execute(conn, _SAVE[kind], (text, subject))


def drop_visitor_state(conn: Connection, visitor_id: int) -> None:
    execute(conn, _SAVE["visitor"], (None, visitor_id))
    decoded.drop(conn, (False, visitor_id))


def drop_lead_state(conn: Connection, lead_id: int) -> None:
    execute(conn, _SAVE["lead"], (None, lead_id))
    decoded.drop(conn, (True, lead_id))


# -- ledger ----------------------------------------------------------------------------------

_LEDGER_ROW = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_LEDGER_ROWS_PER_STATEMENT = 1_000
"""A rescore of a lead with years of events books thousands of rows; one statement may carry
at most 65,535 parameters on PostgreSQL (32,766 on SQLite), ten per row."""


_PG_LEDGER = (
    "INSERT INTO score_ledger (lead_id, visitor_id, model_key, model_version, rule_key, "
    "occurrence, points, decays, event_uid, at) "
    "SELECT ?, ?, x->>0, (x->>1)::int, x->>2, x->>3, (x->>4)::float8, (x->>5)::boolean, x->>6, "
    "(x->>7)::bigint FROM jsonb_array_elements(CAST(? AS jsonb)) AS x"
)


def add_entries(
    conn: Connection,
    lead_id: int | None,
    visitor_id: int | None,
    entries: Sequence[LedgerEntry],
) -> None:
    if not entries:
        return
    if is_postgres(conn):  # one JSON parameter, as store.events does for the same reason
        rows = [(e.model, e.version, e.rule, e.occurrence, e.points, e.decays, e.event, e.at)
                for e in entries]  # fmt: skip
        execute(conn, _PG_LEDGER, (lead_id, visitor_id, orjson.dumps(rows).decode()))
        return
    for start in range(0, len(entries), _LEDGER_ROWS_PER_STATEMENT):
        chunk = entries[start : start + _LEDGER_ROWS_PER_STATEMENT]
        params: list[Any] = []
        for e in chunk:
            params += (lead_id, visitor_id, e.model, e.version, e.rule, e.occurrence, e.points,
                       e.decays, e.event, e.at)  # fmt: skip
        sql = (
            "INSERT INTO score_ledger (lead_id, visitor_id, model_key, model_version, rule_key, "
            "occurrence, points, decays, event_uid, at) VALUES "
            + ", ".join([_LEDGER_ROW] * len(chunk))
        )
        execute(conn, sql, tuple(params))


def ledger(conn: Connection, lead_id: int | None, visitor_id: int | None = None) -> list[Any]:
    col = score_ledger.c.lead_id if lead_id is not None else score_ledger.c.visitor_id
    subject = lead_id if lead_id is not None else visitor_id
    rows = conn.execute(
        sa.select(score_ledger).where(col == subject).order_by(score_ledger.c.at, score_ledger.c.id)
    )
    return [as_dict(r) for r in rows]


def give_visitor_ledger_to_lead(conn: Connection, visitor_id: int, lead_id: int) -> None:
    conn.execute(
        sa.update(score_ledger)
        .where(score_ledger.c.visitor_id == visitor_id, score_ledger.c.lead_id.is_(None))
        .values(lead_id=lead_id)
    )


def move_lead_ledger(conn: Connection, from_lead: int, into_lead: int) -> None:
    conn.execute(
        sa.update(score_ledger).where(score_ledger.c.lead_id == from_lead).values(lead_id=into_lead)
    )


def clear_ledgers(conn: Connection, subjects: Sequence[int], *, leads: bool) -> None:
    """Forget the ledger rows of these leads (or anonymous visitors) before a replay books
    them anew (their states are replaced by `save_state`). A visitor's rows that moved to its
    lead when it was identified keep its id but are the lead's: they stay."""
    if not subjects:
        return
    marks = ", ".join("?" * len(subjects))
    owner = "lead_id" if leads else "visitor_id"
    only = "" if leads else " AND +lead_id IS NULL"  # `+`: see store.events.events_by_subject
    execute(conn, f"DELETE FROM score_ledger WHERE {owner} IN ({marks}){only}", tuple(subjects))
