"""The `fast` pipeline: its dispatcher retries after 50 ms and gives up after 3 attempts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from leadpulse.core.settings import Settings
from leadpulse.pipeline import Pipeline


@pytest.fixture
def fast(settings: Settings, engine: Engine) -> Iterator[Pipeline]:
    """A pipeline whose dispatcher retries after 50 ms, doubling, and gives up after 3."""
    p = Pipeline(settings.replace(webhook_retry_seconds=0.05, webhook_max_attempts=3), engine)
    p.start()
    p.start_dispatcher()
    yield p
    p.stop()
