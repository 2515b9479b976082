"""Fixtures of the dashboard tests: the seeded app (see support.seed) on SQLite and, when
configured, PostgreSQL."""

from __future__ import annotations

import pytest

from leadpulse.pipeline import Pipeline
from tests.dashboard.support import seed


@pytest.fixture
def ids(pipeline: Pipeline) -> dict[str, int]:
    return seed(pipeline)
