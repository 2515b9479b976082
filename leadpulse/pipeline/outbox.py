"""The dispatcher: a thread of the server that delivers the outbox (webhooks and emails),
retries with exponential backoff, and gives a delivery up as dead after the last attempt or a
failure no retry can mend (it can be replayed).

It claims due deliveries through the writer (each worker of `serve --workers N` runs one
dispatcher; a claim keeps the others off those rows) and writes their outcome the same way.
Rows another process queued (an import, the CLI) are found by polling every second; the
server's own are delivered at once (`wake`). A restart picks up where the last run stopped:
pending rows stay pending in the database, and rows claimed by a process that died are taken
again when the claim runs out. Receivers may see a message twice after such a crash, and tell by
its id.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import httpx
from sqlalchemy.engine import Engine

from leadpulse.automate.email import SmtpServer
from leadpulse.automate.email import send as send_email
from leadpulse.automate.webhooks import Attempt, deliver
from leadpulse.core import clock
from leadpulse.core.settings import Settings
from leadpulse.store import outbox as outbox_store
from leadpulse.store.outbox import DEAD, DELIVERED, PENDING, Delivery
from leadpulse.store.writer import Writer

log = logging.getLogger(__name__)

_POLL_SECONDS = 1.0
_BATCH = 20
_MAX_WAIT_MS = 6 * 3_600_000
_LEASE_MS = 5 * 60_000
"""How long a claimed delivery is this dispatcher's alone (store.outbox.claim)."""
_LEASE_MARGIN_MS = 60_000
"""No try starts this close to the claim's end, so a slow receiver cannot make two workers
send the same delivery at once."""


class Dispatcher:
    def __init__(self, engine: Engine, writer: Writer, settings: Settings) -> None:
        self._engine = engine
        self._writer = writer
        self._retry_ms = settings.webhook_retry_seconds * 1000
        self._max_attempts = settings.webhook_max_attempts
        self._smtp = SmtpServer(
            settings.smtp_host, settings.smtp_port, settings.smtp_user, settings.smtp_password,
            settings.smtp_from, settings.smtp_starttls,
        )  # fmt: skip
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._every_minute: Callable[[], object] | None = None
        self._minute_at = 0.0

    def start(self, every_minute: Callable[[], object] | None = None) -> None:
        """Deliver from a thread of its own; `every_minute` runs there too, once a minute."""
        self._every_minute = every_minute
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="leadpulse-outbox", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def wake(self) -> None:
        """Something was queued: look now rather than at the next poll."""
        self._wake.set()

    def _run(self) -> None:
        with httpx.Client() as client:
            while not self._stopping.is_set():
                try:
                    self._tick()
                    worked = self.run_once(client)
                except Exception:
                    log.exception("the outbox dispatcher failed; trying again shortly")
                    worked = 0
                if not worked:
                    self._wake.wait(self._pause())
                    self._wake.clear()

    def _tick(self) -> None:
        if self._every_minute is not None and time.monotonic() - self._minute_at >= 60:
            self._minute_at = time.monotonic()
            self._every_minute()

    def _pause(self) -> float:
        with self._engine.connect() as conn:
            due = outbox_store.next_due(conn)
        if due is None:
            return _POLL_SECONDS
        return max(0.0, min(_POLL_SECONDS, (due - clock.now_ms()) / 1000))

    def run_once(self, client: httpx.Client) -> int:
        """Deliver what is due now; returns how many were claimed."""
        now = clock.now_ms()
        until = now + _LEASE_MS
        batch = self._writer.run_sync(lambda conn: outbox_store.claim(conn, now, _BATCH, until))
        for delivery in batch:
            if self._stopping.is_set() or clock.now_ms() > until - _LEASE_MARGIN_MS:
                break  # the rest go back to the pool when their claim runs out
            self._attempt(client, delivery)
        return len(batch)

    def _send(self, client: httpx.Client, delivery: Delivery, sent_at: int) -> Attempt:
        target = delivery.target
        if delivery.kind == "email":
            if not target.get("to"):
                return Attempt(False, None, "no address: the lead (or its owner) has no email",
                               permanent=True)  # fmt: skip
            return send_email(self._smtp, target["to"], target["subject"], delivery.body,
                              delivery.message_id)  # fmt: skip
        return deliver(client, target["url"], target["secret"], delivery.message_id,
                       sent_at // 1000, delivery.body.encode())  # fmt: skip

    def _attempt(self, client: httpx.Client, delivery: Delivery) -> None:
        sent_at = clock.now_ms()
        result = self._send(client, delivery, sent_at)
        attempts = delivery.attempts + 1
        if result.ok:
            status, next_at = DELIVERED, sent_at
        elif result.permanent or attempts >= self._max_attempts:
            status, next_at = DEAD, sent_at
            log.warning("webhook %s is dead after %d attempts: %s", delivery.message_id,
                        attempts, result.error)  # fmt: skip
        else:
            wait = min(_MAX_WAIT_MS, self._retry_ms * 2 ** (attempts - 1))
            status, next_at = PENDING, sent_at + int(wait)
        self._writer.run_sync(
            lambda conn: outbox_store.mark(
                conn, delivery.id, status=status, attempts=attempts, next_at=next_at,
                last_status=result.status, last_error=result.error,
                delivered_at=sent_at if result.ok else None,
            )
        )  # fmt: skip
