"""Locks that order the writers of one lead across server processes (PostgreSQL).

With `serve --workers N` every worker has a writer of its own, so two transactions may change
the same lead at once: both read its scoring state, both add their points, the later commit
wins and the other's points are lost (Mautic's #4752). Before a unit reads what it will change,
it holds a transaction-scoped advisory lock named after it (`lead:42`, `visitor:7`,
`identity:email:ann@example.com`); a second writer of the same name waits for the first one's
commit, and then reads what it wrote. Locks end with the transaction, so a crashed worker
leaves none behind.

SQLite has one writer at a time per database file, so `hold` takes that write lock at once
(`BEGIN IMMEDIATE`) rather than at the transaction's first write: what the unit reads next is
then what it will change, even with another process (a CLI rescore, an import) writing the
same file.
"""

from __future__ import annotations

import hashlib

from sqlalchemy.engine import Connection

from leadpulse.store.dialect import execute, is_postgres

_HELD = "leadpulse.locks"


def lead(lead_id: int) -> str:
    return f"lead:{lead_id}"


def subject(lead_id: int | None, visitor_id: int | None) -> str:
    """The lock of what a visitor's events score: its lead, or the visitor while anonymous."""
    return lead(lead_id) if lead_id is not None else f"visitor:{visitor_id}"


def identity(kind: str, value: str) -> str:
    return f"identity:{kind}:{value}"


def hold(conn: Connection, *names: str) -> None:
    """Wait for and hold the named locks until the transaction ends.

    Taken in one order (by key) within a call; a name held already in this transaction costs
    nothing. Deadlocks between transactions that took locks in different calls are found by
    PostgreSQL, which fails one of them; the writer runs its units again (store.writer).
    """
    if not names:
        return
    if not is_postgres(conn):
        begin_writing(conn)
        return
    held = _held(conn)
    keys = sorted({_key(name) for name in names} - held)
    if len(keys) == 1:
        execute(conn, "SELECT pg_advisory_xact_lock(?)", (keys[0],))
    elif keys:  # a rescore's page: one round trip, the keys taken in the array's order
        execute(conn, "SELECT count(pg_advisory_xact_lock(k)) FROM unnest(?::bigint[]) k", (keys,))
    held.update(keys)


def try_hold(conn: Connection, name: str) -> bool:
    """Hold the lock if nobody does; False when another transaction has it (PostgreSQL).
    For work that one worker does for all, such as the minute's tick."""
    if not is_postgres(conn):
        return True
    key = _key(name)
    held = _held(conn)
    if key in held:
        return True
    got = bool(execute(conn, "SELECT pg_try_advisory_xact_lock(?)", (key,)).fetchone()[0])
    if got:
        held.add(key)
    return got


def begin_writing(conn: Connection) -> None:
    """SQLite: begin the transaction as the database's writer now, unless it is already.
    (sqlite3's connection is its DBAPI connection: `dbapi_connection` is an attribute, where
    `driver_connection` is a chain of properties, and this runs on every collect request.)"""
    driver = conn.connection.dbapi_connection
    if driver is not None and not driver.in_transaction:
        driver.execute("BEGIN IMMEDIATE")


def _held(conn: Connection) -> set[int]:
    """The keys this connection's current transaction holds."""
    transaction = conn.get_transaction()
    memo = conn.info.get(_HELD)
    if memo is None or memo[0] is not transaction:
        memo = (transaction, set())
        conn.info[_HELD] = memo
    held: set[int] = memo[1]
    return held


def _key(name: str) -> int:
    """A signed 64-bit key, the same in every process (Python's own hash is salted)."""
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
