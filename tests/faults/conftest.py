"""Fixtures of the load and fault tests: a fresh PostgreSQL database per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faults.harness import PG_URL, fresh_database


@pytest.fixture
def pg_db() -> Iterator[str]:
    """The URL of a database of its own (lpfault_…), dropped after the test."""
    assert PG_URL is not None
    with fresh_database(PG_URL) as url:
        yield url
