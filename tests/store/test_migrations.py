"""The Alembic history produces exactly the schema in leadpulse.store.schema, on both dialects."""

from __future__ import annotations

import orjson
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine

from leadpulse.store import migrate
from leadpulse.store import scores as score_store
from leadpulse.store.engine import create_engine
from leadpulse.store.schema import metadata


def test_migrations_match_the_schema(engine: Engine) -> None:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, metadata)
    assert diff == []
    assert migrate.current_revision(engine) == migrate.head_revision()


def test_migrating_twice_changes_nothing(engine: Engine) -> None:
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()


def test_scoring_states_move_onto_their_visitors_and_leads_rows(db_url: str) -> None:
    """0012: the states of `score_states` become `visitors.score_state` and
    `leads.score_state`, and come back on a downgrade."""
    engine = create_engine(db_url)
    migrate.upgrade(engine, "0011")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO sites (id, key, name, domains, write_key, created_at) "
            "VALUES (1, 'shop', 'Shop', '[]', 'wk', 0)"
        )
        conn.exec_driver_sql(
            "INSERT INTO leads (id, traits, quality, created_at, updated_at, last_seen_at) "
            "VALUES (1, '{}', '{}', 0, 0, 0)"
        )
        for visitor in (1, 2):
            conn.exec_driver_sql(
                "INSERT INTO visitors (id, site_id, anonymous_id, is_bot, first_seen_at, "
                f"last_seen_at) VALUES ({visitor}, 1, 'a{visitor}', false, 0, 0)"
            )
        conn.exec_driver_sql(
            "INSERT INTO score_states (visitor_id, lead_id, state, updated_at) VALUES "
            """(1, NULL, '{"n": 1}', 5), (NULL, 1, '{"n": 2}', 5)"""
        )
    migrate.upgrade(engine)
    with engine.connect() as conn:
        assert score_store.load_state(conn, None, 1) == {"n": 1}
        assert score_store.load_state(conn, 1, None) == {"n": 2}
        assert score_store.load_state(conn, None, 2) is None
    migrate.downgrade(engine, "0011")
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT visitor_id, lead_id, state FROM score_states").all()
    engine.dispose()
    moved_back = {(visitor, lead): _json(state) for visitor, lead, state in rows}
    assert moved_back == {(1, None): {"n": 1}, (None, 1): {"n": 2}}


def _json(value: object) -> object:
    return orjson.loads(value) if isinstance(value, str | bytes) else value
