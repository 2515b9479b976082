"""Scoring states kept decoded by a SQLite writer between its transactions.

Every collect request loads its subject's scoring state, and reading and decoding it cost as
much as scoring the event. A SQLite file has one writer at a time, so the writer's connection
keeps the states it last read or wrote, decoded, by subject. An entry is as good as its row:
- every state this connection writes goes through `put` (`store.scores.save_state`), and
  every delete of states on it drops them (`drop`, `forget`);
- a commit by any other connection (a CLI rescore or import, another process) changes SQLite's
  `PRAGMA data_version`, read at the first use in each transaction: all entries are dropped;
- a rollback drops all entries (the failed units may have changed states in place), and so
  does a new driver connection (the writer connects again when its connection broke).

PostgreSQL has several writers (`serve --workers`) and no such cheap version: states are read
every time there.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from leadpulse.store.locks import begin_writing

Subject = tuple[bool, int]
"""(is a lead, id)."""

CAPACITY = 10_000
"""Subjects kept; the least recently used go first. A state takes about 4 KB decoded (a
visitor of the benchmark's three models), so at most about 40 MB."""

_KEY = "leadpulse.decoded_states"


class _Decoded:
    __slots__ = ("driver", "states", "transaction", "version")

    def __init__(self, driver: Any, version: int) -> None:
        self.driver = driver
        self.version = version
        self.transaction: object = None
        self.states: dict[Subject, Any] = {}


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
    """States were deleted on this connection (or its transaction rolled back): forget every
    one kept."""
    conn.info.pop(_KEY, None)


def _kept(conn: Connection, *, start: bool) -> _Decoded | None:
    """The connection's kept states, checked once per transaction against the database's
    version; `start` begins keeping them on a SQLite connection that does not yet."""
    kept: _Decoded | None = conn.info.get(_KEY)
    transaction = conn.get_transaction()
    if kept is not None and kept.transaction is transaction and transaction is not None:
        return kept
    if (kept is None and not start) or transaction is None or conn.dialect.name != "sqlite":
        return None
    driver = conn.connection.driver_connection
    if driver is None:
        return None
    begin_writing(conn)  # no other connection commits between this version and our writes
    version = driver.execute("PRAGMA data_version").fetchone()[0]
    if kept is None or kept.driver is not driver or kept.version != version:
        kept = _Decoded(driver, version)
        conn.info[_KEY] = kept
        engine = conn.engine
        if not sa.event.contains(engine, "rollback", forget):
            sa.event.listen(engine, "rollback", forget)
    kept.transaction = transaction
    return kept
