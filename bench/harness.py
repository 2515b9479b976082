"""Shared benchmark plumbing: wrk, free ports, servers started as real processes."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
import sqlalchemy as sa

from leadpulse.core.settings import Settings
from leadpulse.pipeline import Pipeline
from leadpulse.store import migrate
from leadpulse.store.engine import create_engine

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def ensure_tool(name: str) -> str:
    """A command the benchmarks drive (wrk, valgrind), installed from Debian's package of the
    same name when missing."""
    found = shutil.which(name)
    if found:
        return found
    print(f"{name} is missing; installing it with apt-get", file=sys.stderr)
    subprocess.run(["apt-get", "update", "-q"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["apt-get", "install", "-y", "-q", name], check=True, stdout=subprocess.DEVNULL)
    found = shutil.which(name)
    if not found:
        raise SystemExit(f"could not install {name}")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"server at {url} did not start")


@contextmanager
def server(
    cmd: list[str], port: int, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    # The server's stderr goes to a file: a pipe nobody reads would block it once full.
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            cmd, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=log
        )
        try:
            try:
                wait_ready(f"http://127.0.0.1:{port}/health")
            except SystemExit:
                log.seek(0)
                sys.stderr.write(log.read().decode(errors="replace")[-4000:])
                raise
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def uvicorn_cmd(app: str, port: int, *, factory: bool = False, workers: int = 1) -> list[str]:
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--port",
        str(port),
        "--host",
        "127.0.0.1",
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    if workers > 1:
        cmd += ["--workers", str(workers)]
    return [*cmd, "--factory"] if factory else cmd


@dataclass(frozen=True)
class WrkResult:
    requests: int
    non2xx: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def run_wrk(
    port: int, *, batch: int, write_key: str, seconds: int, connections: int, visitors: int = 5000
) -> WrkResult:
    """wrk with collect.lua: `batch` events a request, from `visitors` visitors in turn."""
    out = subprocess.run(
        [
            ensure_tool("wrk"),
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(HERE / "collect.lua"),
            f"http://127.0.0.1:{port}",
        ],
        env={
            **os.environ,
            "LP_BATCH": str(batch),
            "LP_WRITE_KEY": write_key,
            "LP_RUN": uuid.uuid4().hex[:8],
            "LP_VISITORS": str(visitors),
        },
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    m = re.search(
        r"RESULT requests=(\d+) non2xx=(\d+) errors=(\d+) duration_us=(\d+) p50_us=(\d+) "
        r"p99_us=(\d+)",
        out,
    )
    if not m:
        raise SystemExit(f"could not read wrk's output:\n{out}")
    req, non2xx, errors, dur, p50, p99 = (int(g) for g in m.groups())
    return WrkResult(req, non2xx, errors, dur / 1e6, p50 / 1000, p99 / 1000)


def fresh_database(setup: Callable[[Pipeline], None]) -> tuple[str, str]:
    """A migrated SQLite file with one site, prepared by `setup(pipeline)`; (url, write key)."""
    url = f"sqlite:///{tempfile.mkdtemp(prefix='lp-bench-')}/bench.db"
    engine = create_engine(url)
    migrate.upgrade(engine)
    pipeline = Pipeline(Settings(database_url=url), engine)
    pipeline.start()
    write_key = pipeline.add_site("Bench", []).write_key
    setup(pipeline)
    pipeline.stop()
    engine.dispose()
    return url, write_key


def collector_rate(setup: Callable[[Pipeline], None], seconds: int) -> WrkResult:
    """The collector (`leadpulse serve`, SQLite) under wrk at batch 1, after `setup` has
    prepared a fresh database (published models, offers …) through the pipeline."""
    url, write_key = fresh_database(setup)
    port = free_port()
    env = {"LEADPULSE_DATABASE_URL": url, "LEADPULSE_RATE_LIMIT_PER_MINUTE": "0",
           "LEADPULSE_LOG_LEVEL": "warning"}  # fmt: skip
    cmd = [sys.executable, "-m", "leadpulse", "serve", "--port", str(port)]
    with server(cmd, port, env):
        return run_wrk(port, batch=1, write_key=write_key, seconds=seconds, connections=32)


def collector_rates(
    setups: list[Callable[[Pipeline], None]], seconds: int, rounds: int
) -> list[list[float]]:
    """`collector_rate` for several set-ups compared with each other: a server for each, all
    started first, then wrk runs of `seconds` on each in turn, `rounds` times. This machine's
    speed swings by ±20 % within a minute, so two figures are compared run by run, a few
    seconds apart, never minutes apart. Requests per second: a list per set-up, by round."""
    env = {"LEADPULSE_RATE_LIMIT_PER_MINUTE": "0", "LEADPULSE_LOG_LEVEL": "warning"}
    with ExitStack() as stack:
        running = []
        for setup in setups:
            url, write_key = fresh_database(setup)
            port = free_port()
            cmd = [sys.executable, "-m", "leadpulse", "serve", "--port", str(port)]
            stack.enter_context(server(cmd, port, {**env, "LEADPULSE_DATABASE_URL": url}))
            running.append((port, write_key))
        rates: list[list[float]] = [[] for _ in setups]
        for _ in range(rounds):
            for (port, write_key), measured in zip(running, rates, strict=True):
                result = run_wrk(port, batch=1, write_key=write_key, seconds=seconds,
                                 connections=32)  # fmt: skip
                measured.append(result.rps)
    return rates


@dataclass(frozen=True)
class Figure:
    """One row of `make bench`'s table: the measure, its figure (formatted, and as a number
    in `unit` for machines), the ceiling measured in the same run, the goal and whether it is
    met (None: no goal)."""

    measure: str
    figure: str
    value: float
    unit: str
    ceiling: str = "—"
    goal: str = "—"
    met: bool | None = None


def number(value: float, digits: int = 0) -> str:
    return "—" if math.isnan(value) else f"{value:,.{digits}f}"


def write_figures(path: str | None, figures: list[Figure]) -> None:
    """`--json PATH`: the script's figures as a list of objects, for bench/all.py."""
    if path:
        Path(path).write_text(json.dumps([asdict(f) for f in figures], indent=1) + "\n")


def read_figures(path: Path) -> list[Figure]:
    return [Figure(**row) for row in json.loads(path.read_text())]


def markdown(figures: list[Figure]) -> str:
    lines = ["| measure | figure | ceiling (same run) | goal | met |", "|---|---:|---|---|---|"]
    for f in figures:
        met = "—" if f.met is None else ("met" if f.met else "**not met**")
        lines.append(f"| {f.measure} | {f.figure} | {f.ceiling} | {f.goal} | {met} |")
    return "\n".join(lines)


def load_average() -> str:
    return " / ".join(f"{v:.1f}" for v in os.getloadavg())


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of a process, from /proc, in KiB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(rest.split()[0])
    return found


@contextmanager
def postgres_database(name: str, host: str = "127.0.0.1") -> Iterator[str]:
    """A fresh PostgreSQL database `name` (dropped first if left over, and afterwards)."""
    if not name.startswith("lpbench"):
        raise SystemExit("benchmark databases are named lpbench…")
    admin = sa.create_engine(f"postgresql+psycopg://postgres@{host}/postgres",
                             isolation_level="AUTOCOMMIT")  # fmt: skip

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    drop()
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql://postgres@{host}/{name}"
    finally:
        drop()
        admin.dispose()
