"""Saved documents of one process (offers, personalisations, automations), reloaded when they
change — also when another process (the CLI) saved them — and grouped by site."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Generic, Protocol, TypeVar

from sqlalchemy.engine import Connection, Engine

from leadpulse.core.errors import LeadpulseError

log = logging.getLogger(__name__)

RELOAD_SECONDS = 2.0
"""How often a server looks for documents saved by another process."""


class _Sited(Protocol):
    @property
    def site(self) -> str | None: ...


D = TypeVar("D", bound=_Sited)
Rows = Sequence[tuple[str, str, int, str]]
"""(kind, key, version, source) of every active document."""


class Saved(Generic[D]):
    def __init__(
        self,
        engine: Engine,
        load: Callable[[Connection], Rows],
        parse: Callable[[str, str, str], D],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._load = load
        self._parse = parse
        self._clock = clock
        self._loaded_at = -RELOAD_SECONDS
        self._signature: tuple[tuple[str, str, int], ...] = ()
        self._state: tuple[list[D], dict[str, list[D]]] = ([], {})
        """All documents and a by-site cache of them, replaced together (other threads save)."""

    def refresh(self, force: bool = False) -> None:
        now = self._clock()
        if not (force or now - self._loaded_at >= RELOAD_SECONDS):
            return
        self._loaded_at = now
        with self._engine.connect() as conn:
            rows = self._load(conn)
        signature = tuple((kind, key, version) for kind, key, version, _ in rows)
        if signature == self._signature:
            return
        self._signature = signature
        self._state = (self._readable(rows), {})

    @property
    def all(self) -> list[D]:
        return self._state[0]

    def for_site(self, site_key: str) -> list[D]:
        everything, by_site = self._state
        found = by_site.get(site_key)
        if found is None:
            found = [d for d in everything if d.site in (None, site_key)]
            by_site[site_key] = found
        return found

    def _readable(self, rows: Rows) -> list[D]:
        """Parse the stored documents; one that no longer parses is logged and left out."""
        out: list[D] = []
        for kind, key, version, source in rows:
            try:
                out.append(self._parse(kind, source, f"{kind} {key}@{version}"))
            except LeadpulseError as err:
                log.error("skipping %s %s@%s: %s", kind, key, version, err.message)
        return out
