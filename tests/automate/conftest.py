"""`fast`: a pipeline whose dispatcher retries after 50 ms and gives up after 3 attempts;
`mailing`: the same with a real SMTP server (aiosmtpd) on loopback and its inbox."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.engine import Engine

from leadpulse.core import clock
from leadpulse.core.settings import Settings
from leadpulse.pipeline import Pipeline
from tests.automate.support import Inbox, Mailing, free_port


@pytest.fixture
def fast(settings: Settings, engine: Engine) -> Iterator[Pipeline]:
    """A pipeline whose dispatcher retries after 50 ms, doubling, and gives up after 3."""
    p = Pipeline(settings.replace(webhook_retry_seconds=0.05, webhook_max_attempts=3), engine)
    p.start()
    p.start_dispatcher()
    yield p
    p.stop()


@pytest.fixture
def mailing(settings: Settings, engine: Engine) -> Iterator[Mailing]:
    """A running pipeline that sends email (From shop@example.com) to a real SMTP server;
    the clock is the wall clock again afterwards."""
    inbox, port = Inbox(), free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    changed = settings.replace(
        smtp_host="127.0.0.1", smtp_port=port, smtp_from="shop@example.com",
        webhook_retry_seconds=0.05,
    )  # fmt: skip
    p = Pipeline(changed, engine)
    p.start()
    p.start_dispatcher()
    yield Mailing(p, inbox)
    clock.set_clock(None)
    p.stop()
    smtp.stop()
