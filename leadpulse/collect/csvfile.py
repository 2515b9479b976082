"""Reading CRM exports: CSV rows → traits, with identity columns recognised by name.

Rows that cannot be used are reported with their line number and skipped; the rest go on.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from leadpulse.core.errors import InvalidInput
from leadpulse.core.naming import trait_key

EMPTY_MARKERS = frozenset({"", "select", "null", "none", "n/a", "na", "-", "nan"})
"""Cell values that mean "not answered" (X Education's export writes `Select`)."""

_RECOGNISED = {
    "email": {"email", "e_mail", "email_address", "mail", "work_email"},
    "phone": {"phone", "phone_number", "mobile", "mobile_phone", "telephone", "tel", "cell"},
    "external_id": {"id", "external_id", "crm_id", "contact_id", "lead_id", "record_id"},
    "name": {"name", "full_name", "contact_name"},
    "first_name": {"first_name", "firstname", "given_name"},
    "last_name": {"last_name", "lastname", "surname", "family_name"},
    "company": {"company", "company_name", "organization", "organisation", "account"},
}
_NUMBER = re.compile(r"^-?(0|[1-9]\d*)(\.\d+)?$")


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    traits: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    message: str


@dataclass(frozen=True, slots=True)
class ColumnPlan:
    """Which trait each column of the file becomes."""

    targets: tuple[str, ...]

    @property
    def has_identity(self) -> bool:
        return any(t in {"email", "phone", "external_id"} for t in self.targets)


def plan_columns(
    headers: list[str], *, id_column: str | None = None, mapping: dict[str, str] | None = None
) -> ColumnPlan:
    mapping = mapping or {}
    missing = [c for c in [*mapping, *([id_column] if id_column else [])] if c not in headers]
    if missing:
        raise InvalidInput(
            f"no column {missing[0]!r} in the file; its columns are: {', '.join(headers)}",
            field="columns",
        )
    targets: list[str] = []
    for header in headers:
        if header in mapping:
            targets.append(mapping[header])
        elif header == id_column:
            targets.append("external_id")
        else:
            key = trait_key(header)
            recognised = next((t for t, names in _RECOGNISED.items() if key in names), None)
            targets.append(recognised if recognised and recognised not in targets else key)
    seen: set[str] = set()
    for i, target in enumerate(targets):
        if target in seen:
            targets[i] = f"{target}_{i}"
        seen.add(target)
    return ColumnPlan(tuple(targets))


def cell_value(cell: str, target: str) -> Any:
    """A cell as a trait value: empty markers → None, numbers → numbers (no leading zeros)."""
    text = cell.strip()
    if text.lower() in EMPTY_MARKERS:
        return None
    if target in {"phone", "external_id", "email"} or not _NUMBER.match(text):
        return text
    if "." in text:
        return float(text)
    if len(text) > 1 and text.startswith("0"):
        return text
    return int(text)


def row_traits(headers: list[str], keys: list[str], cells: list[str]) -> dict[str, Any]:
    """A row as the traits a model reads: each filled cell by its header as written and by its
    snake_case name (`keys`, from `trait_key`), so `Lead Source` and `lead_source` both work."""
    traits: dict[str, Any] = {}
    for header, key, cell in zip(headers, keys, cells, strict=False):
        value = cell_value(cell, key)
        if value is not None:
            traits[header] = value
            traits.setdefault(key, value)
    return traits


def open_csv(path: Path) -> TextIO:
    try:
        return path.open(newline="", encoding="utf-8-sig")
    except FileNotFoundError:
        raise InvalidInput(f"no such file: {path}", field="file") from None
    except IsADirectoryError:
        raise InvalidInput(f"{path} is a folder, not a CSV file", field="file") from None


def dialect_for(header_line: str, delimiter: str | None) -> type[csv.Dialect]:
    """The given delimiter, else the most frequent of `, ; tab |` in the header line.

    csv.Sniffer guesses from the whole sample and is easily fooled by ragged rows; a header of
    an export is regular, so counting in it is both simpler and more reliable.
    """
    chosen = delimiter or max(",;\t|", key=lambda d: (header_line.count(d), d == ","))

    class Dialect(csv.excel):
        pass

    Dialect.delimiter = chosen
    return Dialect


def read_rows(
    handle: TextIO,
    *,
    id_column: str | None = None,
    mapping: dict[str, str] | None = None,
    delimiter: str | None = None,
) -> tuple[ColumnPlan, Iterator[Row | RowError]]:
    """Read the header and plan the columns; rows are read lazily."""
    header_line = handle.readline()
    handle.seek(0)
    reader = csv.reader(handle, dialect_for(header_line, delimiter))
    try:
        headers = next(reader)
    except StopIteration:
        raise InvalidInput("the file is empty: no header row", field="file") from None
    except csv.Error as exc:
        raise InvalidInput(f"line 1: {exc}", field="file") from None
    plan = plan_columns(headers, id_column=id_column, mapping=mapping)
    if not plan.has_identity:
        raise InvalidInput(
            "no email, phone or id column found; name one with --id-column or --map COL=email",
            field="columns",
        )
    return plan, _rows(reader, plan)


def _rows(reader: Any, plan: ColumnPlan) -> Iterator[Row | RowError]:
    width = len(plan.targets)
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield RowError(reader.line_num, f"unreadable CSV: {exc}")
            continue
        line = reader.line_num
        if not cells or all(not c.strip() for c in cells):
            continue
        if len(cells) != width:
            yield RowError(line, f"{len(cells)} cells where the header has {width}")
            continue
        traits: dict[str, Any] = {}
        for target, cell in zip(plan.targets, cells, strict=True):
            value = cell_value(cell, target)
            if value is not None:
                traits[target] = value
        if not any(traits.get(k) for k in ("email", "phone", "external_id")):
            yield RowError(line, "no email, phone or id: cannot tell this lead apart")
            continue
        yield Row(line, traits)
