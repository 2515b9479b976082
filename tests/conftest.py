"""Shared fixtures: real databases (a SQLite file; PostgreSQL when configured), a running
pipeline, the app behind an HTTP test client, and keys."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from leadpulse.core.settings import Settings
from leadpulse.pipeline import Pipeline
from leadpulse.store import migrate
from leadpulse.store.engine import create_engine
from leadpulse.web.app import create_app

PG_URL = os.environ.get("LEADPULSE_TEST_DATABASE_URL")
PG_SKIP = "PostgreSQL tests need LEADPULSE_TEST_DATABASE_URL (.ci/run sets it)"
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
"""The real data sets beside the project (shared/data); tests read them as they are."""


def _backends() -> list[object]:
    return [
        "sqlite",
        pytest.param(
            "postgresql",
            marks=[pytest.mark.postgres, pytest.mark.skipif(not PG_URL, reason=PG_SKIP)],
        ),
    ]


@pytest.fixture(params=_backends())
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a schema of its own on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'leadpulse.db'}"
        return
    assert PG_URL is not None
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = sa.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(database_url=db_url, rate_limit_per_minute=0)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    eng = create_engine(settings.database_url)
    migrate.upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def pipeline(settings: Settings, engine: Engine) -> Iterator[Pipeline]:
    p = Pipeline(settings, engine)
    p.start()
    yield p
    p.stop()


@pytest.fixture
def client(pipeline: Pipeline) -> Iterator[TestClient]:
    """The whole app over HTTP (in-process ASGI); the pipeline is shared with the test."""
    with TestClient(create_app(pipeline=pipeline), base_url="http://testserver") as c:
        yield c


@pytest.fixture
def site(pipeline: Pipeline) -> dict[str, str]:
    s = pipeline.add_site("Window shop", ["shop.example"])
    return {"key": s.key, "write_key": s.write_key, "id": str(s.id)}


@pytest.fixture
def admin_key(pipeline: Pipeline) -> str:
    return pipeline.create_api_key("admin")


@pytest.fixture
def auth(admin_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {admin_key}"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The long fault tests run only when asked for (`-m faults`): another `-m`, such as
    `-m postgres`, replaces the default `not faults` and would otherwise pick them too."""
    if "faults" in (config.getoption("markexpr") or ""):
        return
    faults = [item for item in items if item.get_closest_marker("faults") is not None]
    if faults:
        config.hook.pytest_deselected(items=faults)
        items[:] = [item for item in items if item.get_closest_marker("faults") is None]
