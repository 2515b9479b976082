"""`leadpulse demo` prints a dashboard user a newcomer can sign in with."""

from __future__ import annotations

import re

from sqlalchemy.engine import Engine

from leadpulse.core.settings import Settings
from leadpulse.pipeline import Pipeline
from tests.cli_runner import leadpulse


def test_the_demo_prints_working_dashboard_credentials(
    db_url: str, settings: Settings, engine: Engine
) -> None:
    first = leadpulse(db_url, "demo", "--no-serve", "--visitors", "5")
    found = re.search(r"/app/ +sign in as (\S+) with (\S+) \(shown once\)", first.stderr)
    assert found, first.stderr
    pipeline = Pipeline(settings, engine)
    pipeline.start()
    try:
        token = pipeline.accounts.sign_in(found.group(1), found.group(2))
        user = pipeline.accounts.user(token)
    finally:
        pipeline.stop()
    assert user is not None
    assert user.role == "admin"
    again = leadpulse(db_url, "demo", "--no-serve")
    assert "sign in as" not in again.stderr
