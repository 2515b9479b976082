"""Engine factory: one place that knows the dialects' quirks."""

from __future__ import annotations

from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from leadpulse.core.errors import ConfigError
from leadpulse.store.decoded import KeepingConnection


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def create_engine(url: str) -> Engine:
    """Create an engine for a SQLite file or a PostgreSQL server.

    SQLite runs in WAL mode with `synchronous=NORMAL`: a committed transaction survives a crash
    of the process (the WAL is written before commit returns); only a power loss can drop the
    last commits. Readers never block the single writer.
    """
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise ConfigError(f"not a database URL: {url!r}", field="database_url") from None
    backend = parsed.get_backend_name()
    kwargs: dict[str, Any] = {"json_serializer": _json_dumps, "json_deserializer": orjson.loads}
    if backend == "sqlite":
        # connections that keep decoded scoring states for the writer (store.decoded)
        engine = sa.create_engine(parsed, connect_args={"factory": KeepingConnection}, **kwargs)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if backend == "postgresql":
        return sa.create_engine(
            parsed,
            pool_size=10,
            max_overflow=10,
            pool_pre_ping=True,
            connect_args={"connect_timeout": 5},  # an unreachable server fails fast: a 503
            **kwargs,
        )
    raise ConfigError(
        f"unsupported database {backend!r}: use sqlite:///FILE or postgresql://…",
        field="database_url",
    )


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"
