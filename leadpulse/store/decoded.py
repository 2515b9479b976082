"""Scoring states kept decoded by a SQLite writer between its transactions.

Every collect request loads its subject's scoring state, and reading and decoding it cost as
much as scoring the event. A SQLite file has one writer at a time, so the writer's connection
keeps the states it last read or wrote, decoded, by subject. An entry is as good as its row:
- every state this connection writes goes through `put` (`store.scores.state_text`, which
  `save_state` and the collect path's activity UPDATE both use), and every delete of states
  on it drops them (`drop`, `forget`);
- a commit by any other connection (a CLI rescore or import, another process) changes SQLite's
  `PRAGMA data_version`, read at the first use in each transaction: all entries are dropped;
- a rollback drops all entries (the failed units may have changed states in place), and so
  does a new driver connection (the writer connects again when its connection broke).

The states are kept on the driver's connection itself, a `sqlite3.Connection` whose `rollback`
forgets them (store.engine makes SQLite connections of this kind): every rollback reaches the
driver — the writer's, a `with conn.begin()` that raised, the pool's reset — and this costs
nothing on the way, where a SQLAlchemy `rollback` listener made every statement of every
transaction look for listeners (docs/decisions.md).

PostgreSQL has several writers (`serve --workers`) and no such cheap version: states are read
every time there.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy.engine import Connection

from leadpulse.store.locks import begin_writing

Subject = tuple[bool, int]
"""(is a lead, id)."""

CAPACITY = 10_000
"""Subjects kept; the least recently used go first. A state takes about 4 KB decoded (a
visitor of the benchmark's three models), so at most about 40 MB."""


class _Decoded:
    __slots__ = ("states", "transaction", "version")

    def __init__(self, version: int) -> None:
        self.version = version
        self.transaction: object = None
        self.states: dict[Subject, Any] = {}


class KeepingConnection(sqlite3.Connection):
    """sqlite3's connection with the states kept for it; a rollback forgets them."""

    kept: _Decoded | None = None

    def rollback(self) -> None:
        self.kept = None
        super().rollback()


def get(conn: Connection, subject: Subject) -> Any:
    """The decoded state this connection last read or wrote for `subject`, or None. Keeps
    decoded states from now on (SQLite only)."""
    kept = _kept(conn, start=True)
    if kept is None:
        return None
    states = kept.states
    state = states.pop(subject, None)
    if state is not None:
        states[subject] = state  # the most recently used go last
    return state


def put(conn: Connection, subject: Subject, state: Any) -> None:
    """`state` was just read or written for `subject` in this connection's transaction."""
    kept = _kept(conn, start=False)
    if kept is None:
        return
    states = kept.states
    states.pop(subject, None)
    states[subject] = state
    if len(states) > CAPACITY:
        del states[next(iter(states))]


def drop(conn: Connection, subject: Subject) -> None:
    """The state of `subject` was deleted on this connection."""
    kept = _kept(conn, start=False)
    if kept is not None:
        kept.states.pop(subject, None)


def forget(conn: Connection) -> None:
    """States were deleted on this connection: forget every one kept."""
    driver = conn.connection.dbapi_connection
    if isinstance(driver, KeepingConnection):
        driver.kept = None


def _kept(conn: Connection, *, start: bool) -> _Decoded | None:
    """The connection's kept states, checked once per transaction against the database's
    version; `start` begins keeping them on a SQLite connection that does not yet."""
    driver = conn.connection.dbapi_connection
    if not isinstance(driver, KeepingConnection):  # PostgreSQL (or an engine made elsewhere)
        return None
    kept = driver.kept
    transaction = conn.get_transaction()
    if kept is not None and kept.transaction is transaction and transaction is not None:
        return kept
    if (kept is None and not start) or transaction is None:
        return None
    begin_writing(conn)  # no other connection commits between this version and our writes
    version = driver.execute("PRAGMA data_version").fetchone()[0]
    if kept is None or kept.version != version:
        kept = driver.kept = _Decoded(version)
    kept.transaction = transaction
    return kept
