"""Settings are one table: name, default, type and help.

Values come from, in order of precedence: `LEADPULSE_<NAME>` environment variables, a TOML
config file named by `LEADPULSE_CONFIG` (keys are the lowercase names), then the defaults here.
docs/configuration.md documents every row; a test fails when one is missing there.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from leadpulse.core.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    default: Any
    help: str
    parse: Callable[[str], Any] = str


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected true or false, got {text!r}")


def _at_least_one(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(f"expected a whole number of at least 1, got {text!r}")
    return value


def _optional(text: str) -> str | None:
    return text or None


TABLE: tuple[Setting, ...] = (
    Setting(
        "database_url",
        "sqlite:///leadpulse.db",
        "SQLAlchemy URL of the database: a SQLite file (default, in the working directory) "
        "or postgresql://user@host/db.",
    ),
    Setting("host", "127.0.0.1", "Address `leadpulse serve` listens on."),
    Setting("port", 8000, "Port `leadpulse serve` listens on.", int),
    Setting("max_body_bytes", 262_144, "Largest accepted collect request body, in bytes.", int),
    Setting("max_events_per_batch", 100, "Most events one collect request may carry.", int),
    Setting(
        "max_properties_bytes",
        8_192,
        "Largest `properties` object of one event, in bytes of JSON.",
        int,
    ),
    Setting(
        "rate_limit_per_minute",
        600,
        "Collect and identify requests one client IP may make per minute; 0 turns the limit off.",
        int,
    ),
    Setting(
        "commit_max_units", 500, "Group commit: most requests written in one transaction.", int
    ),
    Setting(
        "gc_threshold",
        10_000,
        "Server: objects made and not yet freed before a young garbage collection (Python's "
        "own default is 700).",
        _at_least_one,
    ),
    Setting(
        "writer_connections",
        4,
        "PostgreSQL: connections each server process writes on at once (SQLite has one writer).",
        int,
    ),
    Setting(
        "trust_proxy_headers",
        False,
        "Take the client IP from X-Forwarded-For (only behind your own reverse proxy).",
        _bool,
    ),
    Setting(
        "region_database",
        None,
        "Path to a MaxMind-format .mmdb city database (DB-IP Lite or GeoLite2 City) for "
        "region and city; country works without it.",
        _optional,
    ),
    Setting(
        "default_phone_region",
        None,
        "Two-letter country used to read phone numbers written without a country code "
        "(e.g. PL, GB, RU).",
        _optional,
    ),
    Setting("log_level", "info", "Server log level: debug, info, warning or error."),
    Setting(
        "webhook_retry_seconds",
        10.0,
        "Wait before the first retry of a failed webhook; each further retry waits twice as "
        "long (at most 6 hours).",
        float,
    ),
    Setting(
        "smtp_host",
        None,
        "SMTP server for automation emails; without it email actions are logged as dead.",
        _optional,
    ),
    Setting("smtp_port", 25, "Port of the SMTP server (587 with STARTTLS, usually).", int),
    Setting("smtp_user", None, "SMTP login, when the server wants one.", _optional),
    Setting("smtp_password", None, "SMTP password.", _optional),
    Setting("smtp_from", "leadpulse@localhost", "The From address of automation emails."),
    Setting("smtp_starttls", False, "Upgrade the SMTP connection with STARTTLS.", _bool),
    Setting(
        "webhook_max_attempts",
        10,
        "Attempts before a webhook delivery is given up as dead (it can be replayed).",
        int,
    ),
)

_BY_NAME = {s.name: s for s in TABLE}


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = "sqlite:///leadpulse.db"
    host: str = "127.0.0.1"
    port: int = 8000
    max_body_bytes: int = 262_144
    max_events_per_batch: int = 100
    max_properties_bytes: int = 8_192
    rate_limit_per_minute: int = 600
    commit_max_units: int = 500
    gc_threshold: int = 10_000
    writer_connections: int = 4
    trust_proxy_headers: bool = False
    region_database: str | None = None
    default_phone_region: str | None = None
    log_level: str = "info"
    webhook_retry_seconds: float = 10.0
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "leadpulse@localhost"
    smtp_starttls: bool = False
    webhook_max_attempts: int = 10

    def replace(self, **changes: Any) -> Settings:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return Settings(**values)


def load(env: Mapping[str, str] | None = None) -> Settings:
    """Read settings from the environment and the optional config file."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    config_path = env.get("LEADPULSE_CONFIG")
    if config_path:
        values.update(_read_config(Path(config_path)))
    for setting in TABLE:
        raw = env.get("LEADPULSE_" + setting.name.upper())
        if raw is not None:
            values[setting.name] = _parse(setting, raw, f"LEADPULSE_{setting.name.upper()}")
    return Settings(**values)


def _read_config(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    out: dict[str, Any] = {}
    for key, value in data.items():
        setting = _BY_NAME.get(key)
        if setting is None:
            raise ConfigError(f"{path}: unknown setting {key!r}", field=key)
        out[key] = _parse(setting, value, f"{path}: {key}") if isinstance(value, str) else value
    return out


def _parse(setting: Setting, raw: str, where: str) -> Any:
    try:
        return setting.parse(raw)
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}", field=setting.name) from None
