"""Reading an ad-spend CSV export: one row per day and channel, source or campaign.

Columns (header names, any order, case-insensitive): `date` (YYYY-MM-DD), `cost`, and at
least one of `channel`, `source`, `campaign`; optionally `currency`. A row that cannot be read
stops the import with its line number, before anything is stored.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from datetime import date
from typing import Any

from leadpulse.core import clock
from leadpulse.core.errors import InvalidInput
from leadpulse.store import spend as spend_store
from leadpulse.store.writer import Writer

MAX_ROWS = 1_000_000


def read_spend(text: str) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(text))
    header = {(name or "").strip().lower(): name for name in reader.fieldnames or []}
    missing = [c for c in ("date", "cost") if c not in header]
    if missing:
        raise InvalidInput(f"the file has no {' or '.join(missing)} column", field="header")
    splits = [c for c in spend_store.SPLITS if c in header]
    if not splits:
        raise InvalidInput("the file needs a channel, source or campaign column", field="header")
    rows: list[dict[str, Any]] = []
    for line, raw in enumerate(reader, start=2):
        if len(rows) >= MAX_ROWS:
            raise InvalidInput(f"more than {MAX_ROWS:,} rows; split the file", field="rows")
        cell = _cells(raw, header)

        try:
            day = date.fromisoformat(cell("date")).isoformat()
        except ValueError:
            raise InvalidInput(f"line {line}: date {cell('date')!r} is not like 2026-03-31",
                               field="date") from None  # fmt: skip
        try:
            cost = float(cell("cost").replace(",", ""))
        except ValueError:
            cost = math.nan
        if not math.isfinite(cost) or cost < 0:
            raise InvalidInput(f"line {line}: cost {cell('cost')!r} is not an amount",
                               field="cost")  # fmt: skip
        currency = cell("currency").upper() or None
        if currency is not None and (len(currency) != 3 or not currency.isalpha()):
            raise InvalidInput(f"line {line}: currency {currency!r} is not three letters",
                               field="currency")  # fmt: skip
        values = {"day": day, "cost": cost, "currency": currency}
        limits = {"channel": 32, "source": 200, "campaign": 300}
        for name in spend_store.SPLITS:
            value = cell(name)
            if len(value) > limits[name]:
                raise InvalidInput(f"line {line}: {name} is longer than {limits[name]}",
                                   field=name)  # fmt: skip
            values[name] = value
        rows.append(values)
    return rows


def _cells(raw: dict[Any, Any], header: dict[str, str]) -> Callable[[str], str]:
    """A reader of one row's cells by lower-case column name ("" when absent)."""

    def cell(name: str) -> str:
        return str(raw.get(header[name]) or "").strip() if name in header else ""

    return cell


def save_spend(writer: Writer, rows: list[dict[str, Any]]) -> int:
    """Store read rows in one transaction; returns how many."""
    at = clock.now_ms()
    return writer.run_sync(lambda conn: spend_store.put(conn, rows, at))
