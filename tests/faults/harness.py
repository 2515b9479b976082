"""What the fault tests share: `leadpulse serve` as a real process group, the load generator as a
process of its own, a fresh PostgreSQL database, PostgreSQL stopped and always started again, a
webhook receiver that can be switched off, and the checks made on the database afterwards.

Everything here stops by itself: every wait has a deadline, every process is killed in the end.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from leadpulse.store.engine import create_engine
from tests.cli_runner import leadpulse

HERE = Path(__file__).resolve().parent
BROWSER = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
"""A browser's user agent (without one a visitor is taken for a bot and not scored)."""
PG_URL = os.environ.get("LEADPULSE_TEST_DATABASE_URL")
PG_SKIP = "PostgreSQL tests need LEADPULSE_TEST_DATABASE_URL (.ci/run sets it)"
ON_POSTGRES = [pytest.mark.postgres, pytest.mark.skipif(not PG_URL, reason=PG_SKIP)]
"""The marks of a test that needs PostgreSQL, as in tests/conftest.py."""
PG_CLUSTER = ["pg_ctlcluster", "--skip-systemctl-redirect"]

MODEL = """key: load
name: Load test
rules:
  - {key: view, when: {event: page_view}, points: 1}
  - {key: deep, when: {event: scroll, where: {depth: {gte: 75}}}, points: 2}
  - {key: buy_click, when: {event: click}, points: 3, limit: {times: 5}}
  - {key: pages, when: {metric: pages_viewed, per: session, gt: 3}, points: 4}
"""
"""Event rules (each event counts once), a limited rule and a metric rule: a lost update or an
event scored twice shows as a total that differs from the replay's."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(check: Callable[[], object], what: str, timeout: float, pause: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(pause)


# -- the server ------------------------------------------------------------------------------


class Server:
    """`leadpulse serve` in a session of its own, so that the uvicorn parent and its workers
    are one process group: killed together, with SIGKILL when asked."""

    def __init__(self, db_url: str, log: Path, *, workers: int = 1, **env: str) -> None:
        self.db_url = db_url
        self.log = log
        self.workers = workers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "LEADPULSE_DATABASE_URL": db_url,
            "LEADPULSE_RATE_LIMIT_PER_MINUTE": "0",
            "LEADPULSE_LOG_LEVEL": "warning",
            **env,
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> None:
        cmd = [sys.executable, "-m", "leadpulse", "serve", "--port", str(self.port)]
        if self.workers > 1:
            cmd += ["--workers", str(self.workers)]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                cmd, env=self.env, stdout=log, stderr=log, start_new_session=True
            )
        wait_until(self._ready, f"the server on port {self.port} ({self.log})", timeout)

    def _ready(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"the server exited: {self.log.read_text()[-3000:]}")
        try:
            return httpx.get(self.base + "/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        """SIGKILL to the whole group: the uvicorn parent and every worker at once."""
        if self.proc is None:
            return
        self._signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        wait_until(self._group_gone, "the killed server's processes to exit", 30)
        self.proc = None

    def stop(self) -> None:
        """SIGTERM to the group, SIGKILL after 30 s and for anything left behind."""
        if self.proc is None:
            return
        self._signal(signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=30)
        self._signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.proc = None

    def _signal(self, sig: signal.Signals) -> None:
        assert self.proc is not None
        with suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)  # the group's id is the parent's pid

    def _group_gone(self) -> bool:
        assert self.proc is not None
        try:
            os.killpg(self.proc.pid, 0)
        except ProcessLookupError:
            return True
        return False

    def cli(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        return leadpulse(self.db_url, *args, ok=ok)


@contextmanager
def running(server: Server) -> Iterator[Server]:
    try:
        server.start()
        yield server
    finally:
        server.stop()


# -- the load --------------------------------------------------------------------------------


@dataclass
class LoadResult:
    run: str
    acked: set[str]
    summary: dict[str, Any]

    @property
    def statuses(self) -> Counter[str]:
        return Counter(self.summary["statuses"])

    def non_2xx(self) -> dict[str, int]:
        return {s: n for s, n in self.statuses.items() if not s.startswith("2")}


class LoadProcess:
    """The load generator (tests/faults/loadgen.py) as a process of its own."""

    def __init__(self, tmp: Path, port: int, write_key: str, run: str, **options: object) -> None:
        self.run = run
        self.acked_file = tmp / f"acked-{self.run}.txt"
        self.summary_file = tmp / f"summary-{self.run}.json"
        self.max_seconds = float(options["max_seconds"])  # type: ignore[arg-type]
        args = [f"--{name.replace('_', '-')}={value}" for name, value in options.items()]
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "loadgen.py"), f"--port={port}",
             f"--write-key={write_key}", f"--run={self.run}", f"--acked={self.acked_file}",
             f"--summary={self.summary_file}", *args],
            stderr=(tmp / f"loadgen-{self.run}.log").open("wb"),
        )  # fmt: skip
        self.started = time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def wait(self) -> LoadResult:
        """Wait for it to end by itself (its own deadline and request timeouts, plus a margin);
        killed if it does not."""
        try:
            self.proc.wait(timeout=self.max_seconds + 60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            raise AssertionError("the load generator did not stop by itself") from None
        assert self.proc.returncode == 0, f"the load generator failed (exit {self.proc.returncode})"
        acked = set(self.acked_file.read_text().split())
        return LoadResult(self.run, acked, json.loads(self.summary_file.read_text()))

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@contextmanager
def load(
    tmp: Path, port: int, write_key: str, run: str, **options: object
) -> Iterator[LoadProcess]:
    """The load generator running; killed on the way out if it has not stopped by itself."""
    proc = LoadProcess(tmp, port, write_key, run, **options)
    try:
        yield proc
    finally:
        proc.kill()


# -- PostgreSQL ------------------------------------------------------------------------------


def _admin_url(pg_url: str) -> str:
    return pg_url.replace("postgresql://", "postgresql+psycopg://", 1)


@contextmanager
def fresh_database(pg_url: str) -> Iterator[str]:
    """A database of its own (lpfault_…), dropped afterwards even when connections remain."""
    name = "lpfault_" + uuid.uuid4().hex[:10]
    # No pool: a connection from before a PostgreSQL restart would be dead.
    admin = sa.create_engine(_admin_url(pg_url), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f"CREATE DATABASE {name}"))
        yield make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    finally:
        pg_wait_ready(120)
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def _cluster_version() -> str:
    return sorted(os.listdir("/etc/postgresql"))[-1]


def pg_ready() -> bool:
    return (
        subprocess.run(
            ["pg_isready", "-h", "127.0.0.1", "-p", "5432", "-q"], check=False, timeout=10
        ).returncode
        == 0
    )


def pg_wait_ready(timeout: float) -> None:
    wait_until(pg_ready, "PostgreSQL to accept connections", timeout, pause=0.5)


def pg_control(action: str) -> None:
    subprocess.run(
        [*PG_CLUSTER, _cluster_version(), "main", action, *(["-m", "fast"] if action == "stop"
                                                           else [])],
        check=False, capture_output=True, timeout=120,
    )  # fmt: skip


@contextmanager
def postgres_stopped() -> Iterator[None]:
    """PostgreSQL down inside the block, and always up again after it, even when the test
    fails (started again and waited for with pg_isready)."""
    pg_control("stop")
    try:
        yield
    finally:
        for _ in range(3):
            pg_control("start")
            try:
                pg_wait_ready(60)
                break
            except AssertionError:
                continue
        pg_wait_ready(60)


# -- a webhook receiver that can be switched off --------------------------------------------


@dataclass
class Receiver:
    """A real HTTP server on a fixed loopback port; `up()` and `down()` switch it."""

    port: int = field(default_factory=free_port)
    received: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/crm"

    def ids(self) -> Counter[str]:
        with self.lock:
            return Counter(message_id for message_id, _, _ in self.received)

    def up(self) -> None:
        state = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with state.lock:
                    state.received.append((headers.get("webhook-id", ""), headers, body))
                self.send_response(200)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: object) -> None:
                """Quiet."""

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()

    def down(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None


@contextmanager
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    try:
        yield r
    finally:
        r.down()


# -- checks on the database ------------------------------------------------------------------


def stored_uids(db_url: str) -> set[str]:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return {r[0] for r in conn.execute(sa.text("SELECT uid FROM events"))}
    finally:
        engine.dispose()


def missing(acked: set[str], stored: set[str]) -> str:
    lost = sorted(acked - stored)
    return f"{len(lost)} acknowledged events are not in the database, e.g. {lost[:5]}"


def duplicate_ledger_rows(db_url: str) -> list[tuple[Any, ...]]:
    """Ledger rows booked twice for one subject, model, rule and event."""
    engine = create_engine(db_url)
    sql = (
        "SELECT visitor_id, lead_id, model_key, rule_key, occurrence, event_uid, COUNT(*) "
        "FROM score_ledger WHERE event_uid IS NOT NULL "
        "GROUP BY visitor_id, lead_id, model_key, rule_key, occurrence, event_uid "
        "HAVING COUNT(*) > 1 LIMIT 10"
    )
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql))]
    finally:
        engine.dispose()


@dataclass(frozen=True)
class Scores:
    """Per subject ("v12" / "l3"): the state's event count and model totals, and the ledger's."""

    events: dict[str, float]
    totals: dict[str, float]
    ledger: dict[str, float]
    stored_events: dict[str, int]


def scores(db_url: str, model: str = "load") -> Scores:
    engine = create_engine(db_url)
    events: dict[str, float] = {}
    totals: dict[str, float] = {}
    ledger: dict[str, float] = {}
    stored: dict[str, int] = {}

    def subject(lead: int | None, visitor: int | None) -> str:
        return f"l{lead}" if lead is not None else f"v{visitor}"

    try:
        with engine.connect() as conn:
            for lead, visitor, state in conn.execute(
                sa.text(
                    "SELECT id, NULL, score_state FROM leads WHERE score_state IS NOT NULL "
                    "UNION ALL SELECT NULL, id, score_state FROM visitors "
                    "WHERE score_state IS NOT NULL"
                )
            ):
                st = orjson.loads(state) if isinstance(state, str | bytes) else state
                key = subject(lead, visitor)
                events[key] = st["lifetime"]["events"]
                ms = st["models"].get(model, {})
                total = float(ms.get("fixed", 0.0)) + float((ms.get("decaying") or [0.0])[0])
                totals[key] = round(total, 6)  # the model has no decay: its sum as booked
            for lead, visitor, points in conn.execute(
                sa.text(
                    "SELECT lead_id, visitor_id, SUM(points) FROM score_ledger "
                    "WHERE model_key = :m GROUP BY lead_id, visitor_id"
                ),
                {"m": model},
            ):
                key = subject(lead, visitor)  # a lead's rows include its visitors' earlier ones
                ledger[key] = round(ledger.get(key, 0.0) + float(points), 6)
            for lead, visitor, n in conn.execute(
                sa.text(
                    "SELECT lead_id, visitor_id, COUNT(*) FROM events GROUP BY lead_id, visitor_id"
                )
            ):
                key = subject(lead, visitor)
                stored[key] = stored.get(key, 0) + int(n)
    finally:
        engine.dispose()
    return Scores(events, totals, ledger, stored)


def differences(a: dict[str, float], b: dict[str, float], limit: int = 8) -> list[str]:
    keys = sorted(set(a) | set(b))
    out = [f"{k}: {a.get(k)} vs {b.get(k)}" for k in keys if a.get(k, 0) != b.get(k, 0)]
    return [*out[:limit], f"({len(out)} in all)"] if out else []


# -- setting a database up -------------------------------------------------------------------


def prepare(db_url: str, tmp: Path) -> str:
    """Migrate, add a site, publish the scoring model; returns the site's write key."""
    leadpulse(db_url, "migrate")
    write_key = leadpulse(db_url, "site", "add", "Shop", "--domain", "shop.example").stdout
    model = tmp / "load-model.yaml"
    model.write_text(MODEL)
    leadpulse(db_url, "model", "apply", str(model))
    return write_key.strip()


def new_run() -> str:
    """A prefix for one load's event and visitor ids."""
    return "r" + uuid.uuid4().hex[:8]


def identify(base: str, write_key: str, anonymous_id: str, email: str | None = None) -> int:
    """Make a visitor a lead through the collector, as the tracker's identify does; visitors
    given the same `email` become one lead (one person's devices)."""
    answer = httpx.post(
        base + "/v1/identify",
        json={
            "write_key": write_key,
            "anonymous_id": anonymous_id,
            "traits": {"email": email or f"{anonymous_id}@example.com"},
        },
        headers={"user-agent": BROWSER},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    lead = answer.json()["lead"]
    assert isinstance(lead, int)
    return lead


def check_scoring(db_url: str, *, replay: bool) -> None:
    """Nothing scored twice, no update lost: no ledger row twice for one event and rule; each
    subject's state counts every stored event once and its total is its ledger's sum; with
    `replay`, a replay of every stored event (`leadpulse rescore`) gives the same totals."""
    doubled = duplicate_ledger_rows(db_url)
    assert not doubled, f"ledger rows booked twice (subject, model, rule, event, n): {doubled}"
    live = scores(db_url)
    assert live.totals, "nothing was scored"
    assert not differences(live.totals, live.ledger), (
        f"state totals vs ledger sums: {differences(live.totals, live.ledger)}"
    )
    assert not differences(live.events, live.stored_events), (
        f"events counted in the state vs stored: {differences(live.events, live.stored_events)}"
    )
    if not replay:
        return
    leadpulse(db_url, "rescore")
    again = scores(db_url)
    assert not differences(live.totals, again.totals), (
        f"totals as scored live vs after `leadpulse rescore`: "
        f"{differences(live.totals, again.totals)}"
    )


# -- automations firing while the webhook receiver is down -----------------------------------

SECRET = "whsec_" + "ZmF1bHQtdGVzdHMtc2VjcmV0LWtleQ=="  # base64 of "fault-tests-secret-key"


def hot_lead_automation(url: str) -> str:
    """A webhook to `url` when a lead's `load` score crosses 5 (six page views)."""
    return (
        "key: hot-to-crm\nwhen: {score: {model: load, above: 5}}\ncooldown_minutes: 0\n"
        f"actions:\n  - webhook: {{url: '{url}', secret: '{SECRET}'}}\n"
    )


def make_hot(base: str, write_key: str, anonymous_id: str) -> None:
    """Identify a visitor, then six page views in one batch: its lead crosses the threshold."""
    identify(base, write_key, anonymous_id)
    events = [
        {"id": f"{anonymous_id}-{i}", "type": "page_view", "url": f"https://shop.example/{i}"}
        for i in range(6)
    ]
    answer = httpx.post(
        base + "/v1/collect",
        json={"write_key": write_key, "anonymous_id": anonymous_id, "events": events},
        headers={"user-agent": BROWSER},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["scores"]["load"]["total"] >= 5, answer.text


def outbox_rows(db_url: str) -> list[dict[str, Any]]:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT message_id, status, attempts FROM outbox"))
            return [dict(r._mapping) for r in rows]
    finally:
        engine.dispose()


def webhook_outage(
    db_url: str, tmp: Path, *, workers: int, leads: int, down_seconds: float, retry_seconds: float
) -> None:
    """Automations fire for `leads` leads (half at once, half midway) while the receiver is
    down for `down_seconds`; once it is up, every delivery arrives, exactly once per message
    id, signed. The retry backoff starts at `retry_seconds` and doubles, so the first retry
    after the receiver returns comes within about `down_seconds`."""
    from leadpulse.automate.webhooks import verify

    write_key = prepare(db_url, tmp)
    with receiver() as crm:
        automation = tmp / "hot-to-crm.yaml"
        automation.write_text(hot_lead_automation(crm.url))
        leadpulse(db_url, "automation", "apply", str(automation))
        server = Server(
            db_url, tmp / "server.log", workers=workers,
            LEADPULSE_WEBHOOK_RETRY_SECONDS=str(retry_seconds),
            LEADPULSE_WEBHOOK_MAX_ATTEMPTS="40",
        )  # fmt: skip
        with running(server):
            run = new_run()
            down_since = time.monotonic()
            for n in range(leads // 2):
                make_hot(server.base, write_key, f"{run}-lead{n}")
            time.sleep(max(0.0, down_since + down_seconds / 2 - time.monotonic()))
            for n in range(leads // 2, leads):
                make_hot(server.base, write_key, f"{run}-lead{n}")
            wait_until(lambda: len(outbox_rows(db_url)) >= leads, "every crossing queued", 30)
            time.sleep(max(0.0, down_since + down_seconds - time.monotonic()))
            crm.up()
            expected = {row["message_id"] for row in outbox_rows(db_url)}
            wait_until(
                lambda: set(crm.ids()) >= expected,
                f"all {len(expected)} deliveries after the receiver came back "
                f"(received {len(crm.ids())})",
                down_seconds + 30,
            )
            wait_until(
                lambda: {row["status"] for row in outbox_rows(db_url)} == {"delivered"},
                "the outbox to mark every delivery delivered",
                30,
            )
            time.sleep(3)  # a second copy of any message would come now
            received = crm.ids()
            with crm.lock:
                signed = all(verify(SECRET, headers, body) for _, headers, body in crm.received)
    assert len(expected) == leads, f"{len(expected)} outbox rows for {leads} crossings"
    assert set(received) == expected
    doubled = {message_id: n for message_id, n in received.items() if n > 1}
    assert not doubled, f"delivered more than once (message id: times): {doubled}"
    assert signed, "a delivery's signature does not verify"


def check_identity(db_url: str) -> None:
    """Identified visitors' events all belong to their lead, and their scoring state is the
    lead's (no visitor state left beside it) — also for visitors identified mid-load, whose
    earlier anonymous visits every worker may still remember."""
    engine = create_engine(db_url)
    astray = (
        "SELECT COUNT(*) FROM events e JOIN visitors v ON v.id = e.visitor_id "
        "WHERE v.lead_id IS NOT NULL AND (e.lead_id IS NULL OR e.lead_id <> v.lead_id)"
    )
    beside = "SELECT COUNT(*) FROM visitors WHERE score_state IS NOT NULL AND lead_id IS NOT NULL"
    try:
        with engine.connect() as conn:
            events = conn.execute(sa.text(astray)).scalar()
            states = conn.execute(sa.text(beside)).scalar()
    finally:
        engine.dispose()
    assert events == 0, f"{events} events of identified visitors are not their lead's"
    assert states == 0, f"{states} identified visitors still have a scoring state of their own"
