"""Shared by the automation tests: the test model, a webhook secret, waiting, free ports, and
the inbox of the `mailing` fixture."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiosmtpd.handlers import Message as MessageHandler

from leadpulse.pipeline import Pipeline

T = TypeVar("T")
SECRET = "whsec_" + "c2VjcmV0LWtleS1mb3ItdGVzdHM="  # base64 of "secret-key-for-tests"
MODEL = """key: website
bands: {cold: 0, warm: 20, hot: 50}
rules:
  - {key: page, when: {event: page_view}, points: 10}
  - {key: unsubscribed, when: {event: unsubscribed}, points: -100}
"""


def wait_for(check: Callable[[], T], what: str, timeout: float = 15.0) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Inbox(MessageHandler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[Any] = []

    def handle_message(self, message: Any) -> None:
        self.messages.append(message)


@dataclass
class Mailing:
    pipeline: Pipeline
    inbox: Inbox = field(default_factory=Inbox)
