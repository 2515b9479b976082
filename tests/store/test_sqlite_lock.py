"""On SQLite, holding a lock makes the transaction the database's writer at once, so what it
reads next cannot change under it — even from another process writing the same file."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from leadpulse.store import locks, migrate
from leadpulse.store.engine import create_engine


def test_holding_a_lock_on_sqlite_keeps_other_writers_out_until_commit(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'locks.db'}"
    mine, other = create_engine(url), create_engine(url)
    migrate.upgrade(mine)
    insert = sa.text("INSERT INTO rescore_runs (models, phase, after_id, subjects, events, "
                     "started_at) VALUES ('m', 'lead', 0, 0, 0, 1)")  # fmt: skip
    with mine.connect() as conn, conn.begin():
        locks.hold(conn, locks.lead(1))
        locks.hold(conn, locks.lead(2))  # already the writer: nothing more to take
        with other.connect() as theirs:
            theirs.exec_driver_sql("PRAGMA busy_timeout=0")
            with pytest.raises(sa.exc.OperationalError, match="locked"):
                theirs.execute(insert)
            theirs.rollback()
    with other.begin() as theirs:  # committed: the file is free again
        theirs.execute(insert)
    mine.dispose()
    other.dispose()
