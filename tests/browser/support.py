"""Helpers of the browser suite: the test world (`Lp`), page logs, polling the database."""

from __future__ import annotations

import html
import json
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlencode

import sqlalchemy as sa
from playwright.sync_api import ConsoleMessage, Page, Request

from leadpulse.pipeline import Pipeline
from leadpulse.store.schema import events, leads, visitors

T = TypeVar("T")
Row = dict[str, Any]
TIMEOUT_S = 10.0


def free_port() -> int:
    """A port nothing listens on right now (also used as "Leadpulse is unreachable")."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(
    check: Callable[[], T], what: str, page: Page | None = None, timeout: float = TIMEOUT_S
) -> T:
    """Re-run `check` until it returns something truthy; fail after `timeout` seconds.

    With a `page`, the pauses go through Playwright so that its route handlers and event
    listeners keep running meanwhile (the sync API only dispatches them inside its calls).
    """
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        if page is not None:
            page.wait_for_timeout(50)
        else:
            time.sleep(0.05)


def render_page(template: str, lp: Lp, query: dict[str, str]) -> str:
    """Fill a test page: `{{SRC}}` where t.js is loaded from, `{{KEY}}` the write key,
    `{{ATTRS}}` data attributes from `d.NAME=value` query parameters, `{{FLICKER_MS}}` the
    anti-flicker fallback of the page's own snippet."""
    attrs = " ".join(
        f'data-{html.escape(k[2:])}="{html.escape(v)}"' for k, v in query.items() if k[:2] == "d."
    )
    return (
        template.replace("{{SRC}}", html.escape(query.get("src", lp.url)))
        .replace("{{KEY}}", html.escape(lp.write_key))
        .replace("{{ATTRS}}", attrs)
        .replace("{{FLICKER_MS}}", str(int(query.get("flicker", "1000"))))
    )


@dataclass
class Lp:
    """Leadpulse under test: its pipeline and database, its URL, the site's write key, and
    the base URL of the site's pages (another origin)."""

    pipeline: Pipeline
    url: str
    write_key: str
    pages_base: str = ""

    def page_url(self, name: str = "shop.html", **params: str | int) -> str:
        """A test page; `ping=200` becomes `data-ping="200"` on the script tag, except
        `src` (where t.js comes from) and `flicker` (the page's anti-flicker fallback, ms)."""
        query = {(k if k in ("src", "flicker") else f"d.{k}"): str(v) for k, v in params.items()}
        return f"{self.pages_base}/{name}" + (f"?{urlencode(query)}" if query else "")

    def events(self, type_: str | None = None) -> list[Row]:
        query = sa.select(events).order_by(events.c.id)
        if type_ is not None:
            query = query.where(events.c.type == type_)
        with self.pipeline.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def visitors(self) -> list[Row]:
        with self.pipeline.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(sa.select(visitors))]

    def leads(self) -> list[Row]:
        with self.pipeline.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(sa.select(leads))]

    def wait_events(
        self,
        page: Page,
        type_: str,
        count: int = 1,
        where: Callable[[Row], bool] = lambda _: True,
    ) -> list[Row]:
        """At least `count` stored events of `type_` matching `where`; polls up to 10 s."""

        def check() -> list[Row]:
            found = [e for e in self.events(type_) if where(e)]
            return found if len(found) >= count else []

        return wait_until(check, f"{count} {type_} event(s) in the database", page)

    def all_text(self) -> str:
        """Every stored event, every column, as one text (to search for what must be absent)."""
        return json.dumps(self.events(), default=str, ensure_ascii=False)


@dataclass
class PageLog:
    """A page and what it reported: uncaught errors, console messages, tracker requests."""

    page: Page
    errors: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    warnings_expected: bool = False

    def __post_init__(self) -> None:
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("console", self._console)
        self.page.on("request", self._request)

    def _console(self, message: ConsoleMessage) -> None:
        self.console.append(message.text)

    def _request(self, request: Request) -> None:
        if "/v1/" in request.url:
            self.requests.append(request)

    def tracker_requests(self, path: str = "/v1/collect") -> list[Request]:
        return [r for r in self.requests if r.url.split("?", 1)[0].endswith(path)]


def request_body(request: Request) -> dict[str, Any]:
    """The JSON a tracker request sent."""
    body = request.post_data_json
    assert isinstance(body, dict), request.post_data
    return body


def wait_tracker(page: Page) -> None:
    """Until t.js has loaded and replaced the snippet's stub."""
    page.wait_for_function("() => window.leadpulse && window.leadpulse.loaded === true")


def anonymous_id(page: Page) -> str:
    value = page.evaluate("() => window.leadpulse.anonymousId()")
    assert isinstance(value, str)
    return value
