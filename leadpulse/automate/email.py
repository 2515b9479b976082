"""Automation emails over SMTP. One message per delivery; its Message-ID is the delivery's id,
so a retry after a lost answer is recognisable as the same message."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

from leadpulse.automate.webhooks import Attempt

TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class SmtpServer:
    host: str | None
    port: int = 25
    user: str | None = None
    password: str | None = None
    sender: str = "leadpulse@localhost"
    starttls: bool = False


def message(server: SmtpServer, to: str, subject: str, text: str, message_id: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = server.sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{message_id}@leadpulse>"
    msg.set_content(text)
    return msg


def send(server: SmtpServer, to: str, subject: str, text: str, message_id: str) -> Attempt:
    if not server.host:
        error = "no SMTP server is configured (LEADPULSE_SMTP_HOST)"
        return Attempt(False, None, error, permanent=True)
    try:
        with smtplib.SMTP(server.host, server.port, timeout=TIMEOUT_SECONDS) as smtp:
            if server.starttls:
                smtp.starttls()
            if server.user:
                smtp.login(server.user, server.password or "")
            smtp.send_message(message(server, to, subject, text, message_id))
    except (OSError, smtplib.SMTPException) as exc:
        return Attempt(False, None, f"{type(exc).__name__}: {exc}"[:500])
    return Attempt(True, 250, None)
