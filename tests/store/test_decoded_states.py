"""The SQLite writer keeps scoring states decoded between transactions (store.decoded), and a
kept state is always the row: after another connection's commit, a rollback or a delete, the
next read goes to the database again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Connection, Engine

from leadpulse.store import decoded, migrate, retention
from leadpulse.store import scores as score_store
from leadpulse.store.engine import create_engine


@pytest.fixture
def url(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'states.db'}"
    engine = create_engine(url)
    migrate.upgrade(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO sites (id, key, name, domains, write_key, created_at) "
            "VALUES (1, 'shop', 'Shop', '[]', 'wk', 0)"
        )
        for visitor in (1, 2):
            conn.exec_driver_sql(
                "INSERT INTO visitors (id, site_id, anonymous_id, is_bot, first_seen_at, "
                f"last_seen_at) VALUES ({visitor}, 1, 'a{visitor}', 0, 0, 0)"
            )
    engine.dispose()
    yield url


@pytest.fixture
def sqlite(url: str) -> Iterator[Engine]:
    engine = create_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def writer(sqlite: Engine) -> Iterator[Connection]:
    """The writer's connection, keeping states since its first read, visitor 1's saved."""
    with sqlite.connect() as conn:
        assert _load(conn, 1) is None
        _save(conn, 1, {"n": 1})
        yield conn


def _load(conn: Connection, visitor: int) -> dict[str, int] | None:
    with conn.begin():
        state: dict[str, int] | None = score_store.load_state(conn, None, visitor, kept=True)
        return state


def _save(conn: Connection, visitor: int, state: dict[str, int]) -> None:
    with conn.begin():
        score_store.save_state(conn, None, visitor, state)


def _stored(engine: Engine, visitor: int) -> str:
    with engine.connect() as conn:
        row = conn.exec_driver_sql(f"SELECT score_state FROM visitors WHERE id = {visitor}")
        return str(row.scalar_one())


def test_a_kept_state_is_the_object_last_saved_and_is_not_read_again(writer: Connection) -> None:
    state = {"n": 2}
    _save(writer, 1, state)
    assert _load(writer, 1) is state
    with writer.begin():  # the row changed on this connection without save_state: not seen
        writer.exec_driver_sql("UPDATE visitors SET score_state = '{\"n\": 9}'")
    assert _load(writer, 1) is state


def test_another_connections_commit_drops_what_was_kept(writer: Connection, url: str) -> None:
    _save(writer, 2, {"n": 2})
    assert _load(writer, 1) == {"n": 1}
    other = create_engine(url)
    with other.begin() as theirs:  # a CLI rescore or import in another process
        score_store.save_state(theirs, None, 1, {"n": 5})
    other.dispose()
    assert _load(writer, 1) == {"n": 5}
    assert _load(writer, 2) == {"n": 2}


def test_a_rollback_drops_states_changed_in_place(writer: Connection, sqlite: Engine) -> None:
    with pytest.raises(RuntimeError), writer.begin():
        state = score_store.load_state(writer, None, 1, kept=True)
        state["n"] = 2
        score_store.save_state(writer, None, 1, state)
        raise RuntimeError("a later statement of the unit failed")
    assert _load(writer, 1) == {"n": 1}
    assert _stored(sqlite, 1) == '{"n":1}'


def test_deleted_states_are_dropped(writer: Connection) -> None:
    with writer.begin():
        score_store.drop_visitor_state(writer, 1)
    assert _load(writer, 1) is None
    _save(writer, 2, {"n": 2})
    with writer.begin():  # pruned as anonymous and quiet: every kept state is forgotten
        assert retention.delete_anonymous(writer, [2], seen_before=1) == (1, 0)
    assert _load(writer, 2) is None


def test_reads_that_do_not_keep_leave_nothing_kept(sqlite: Engine) -> None:
    with sqlite.begin() as conn:
        score_store.save_state(conn, None, 1, {"n": 1})
        state = score_store.load_state(conn, None, 1)
        assert state == {"n": 1}
        assert score_store.load_state(conn, None, 1) is not state


def test_states_are_kept_on_sqlite_only(engine: Engine) -> None:
    """PostgreSQL has several writers (`serve --workers`): every read goes to the database."""
    state = {"n": 1}
    with engine.connect() as conn, conn.begin():
        assert decoded.get(conn, (False, 1)) is None  # begins keeping, where states are kept
        decoded.put(conn, (False, 1), state)
        kept = decoded.get(conn, (False, 1)) is state
        assert kept == (engine.dialect.name == "sqlite")


def test_states_beyond_capacity_go_least_recently_used_first(
    writer: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(decoded, "CAPACITY", 1)
    first = {"n": 1}
    _save(writer, 1, first)
    _save(writer, 2, {"n": 2})
    loaded = _load(writer, 1)
    assert loaded == first and loaded is not first  # read again from its row
