"""Fixtures of the browser suite: the tracker in a real headless Chromium, on a test page served
from another origin than the collector, exactly as on a customer's site.

- `collector`: Leadpulse itself (`create_app`) under uvicorn on a free port, with a site whose
  domain is 127.0.0.1; it uses the `pipeline` fixture, so every test runs on SQLite and on
  PostgreSQL.
- `pages`: a small stdlib HTTP server on another port serving `tests/browser/pages/`; it fills
  the collector's URL, the write key and the tracker's data attributes into each page.
- `browser` (one per session) and `page` (a fresh context per test). Playwright drives the
  Debian chromium; it never downloads a browser.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from leadpulse.pipeline import Pipeline
from leadpulse.web.app import create_app
from tests.browser.support import Lp, PageLog, free_port, render_page, wait_until

NO_CHROMIUM = (
    "no Chromium found: install the Debian package chromium (make test does) "
    "or set LEADPULSE_CHROMIUM"
)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAGES = Path(__file__).parent / "pages"
ARTIFACTS = Path(__file__).parent / "artifacts"


def chromium_path() -> str | None:
    """`LEADPULSE_CHROMIUM`, else the Debian package's `chromium`."""
    configured = os.environ.get("LEADPULSE_CHROMIUM")
    if configured:
        return configured if Path(configured).is_file() else shutil.which(configured)
    found = shutil.which("chromium")
    if found:
        return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").is_file() else None


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One browser per test module: Playwright's sync API keeps an event loop running in this
    thread while it is open, and later suites (asyncio.run) must not find it there."""
    path = chromium_path()
    if path is None:
        pytest.skip(NO_CHROMIUM)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def user_agent(browser: Browser) -> str:
    """The browser's user agent without "Headless": Leadpulse files headless browsers as bots,
    whose events never make leads, and these tests play a person."""
    major = browser.version.split(".", 1)[0]
    return (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/{major}.0.0.0 Safari/537.36"
    )


@pytest.fixture
def context(browser: Browser, user_agent: str) -> Iterator[BrowserContext]:
    ctx = browser.new_context(user_agent=user_agent, viewport={"width": 1280, "height": 800})
    yield ctx
    ctx.close()


@pytest.fixture
def page_log(context: BrowserContext) -> Iterator[PageLog]:
    """A page with its uncaught errors and console output recorded.

    After the test: no uncaught error, and no `leadpulse:` warning (the tracker warns when the
    server refuses a request, which would mean it sent something malformed) unless the test
    said it expects one.
    """
    log = PageLog(context.new_page())
    yield log
    # A route handler may still be busy with a request the test no longer cares about.
    log.page.unroute_all(behavior="ignoreErrors")
    assert log.errors == [], f"uncaught errors on the page: {log.errors}"
    if not log.warnings_expected:
        warnings = [m for m in log.console if m.startswith("leadpulse:")]
        assert warnings == [], f"tracker warnings: {warnings}"


@pytest.fixture
def page(page_log: PageLog) -> Page:
    return page_log.page


@pytest.fixture
def collector(pipeline: Pipeline) -> Iterator[Lp]:
    """Leadpulse over real HTTP, in a background thread, with a site for 127.0.0.1."""
    site = pipeline.add_site("Test shop", ["127.0.0.1"])
    port = free_port()
    config = uvicorn.Config(
        create_app(pipeline=pipeline),
        host="127.0.0.1",
        port=port,
        lifespan="on",
        log_level="warning",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="leadpulse-uvicorn", daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started or not thread.is_alive(), "uvicorn to start")
        assert server.started, "uvicorn did not start"
        yield Lp(pipeline, f"http://127.0.0.1:{port}", site.write_key)
    finally:
        server.should_exit = True
        thread.join(10)


class _PageHandler(BaseHTTPRequestHandler):
    lp: Lp

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        name = parts.path.strip("/") or "shop.html"
        file = PAGES / name
        if "/" in name or not file.is_file():
            self.send_error(404)
            return
        body = render_page(file.read_text(), self.lp, dict(parse_qsl(parts.query)))
        self._send(200, body.encode())

    def do_POST(self) -> None:
        """A form post: what a site's server would do, answer with a thank-you page."""
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        self.send_response(303)
        self.send_header("location", "/thanks.html")
        self.send_header("content-length", "0")
        self.end_headers()

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("content-type", "text/html; charset=utf-8")
        self.send_header("content-length", str(len(body)))
        self.send_header("cache-control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test output is for failures."""


@pytest.fixture
def lp(collector: Lp) -> Iterator[Lp]:
    """The collector plus the site's test pages on their own port (another origin)."""
    handler = type("PageHandler", (_PageHandler,), {"lp": collector})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(
        target=httpd.serve_forever, args=(0.05,), name="test-pages", daemon=True
    )
    thread.start()
    collector.pages_base = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield collector
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(10)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
