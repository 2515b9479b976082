"""A CSV of past leads and their outcomes → columns ready for learning.

Cells are read exactly as `leadpulse score` reads them (`collect.csvfile.cell_value`): the same
empty markers (X Education's `Select`), the same numbers, text compared case-insensitively. So
a learned rule matches in scoring precisely the rows it was learned from.
"""

from __future__ import annotations

import csv
import fnmatch
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

import numpy as np
import numpy.typing as npt

from leadpulse.collect.csvfile import cell_value, dialect_for, open_csv
from leadpulse.core.errors import InvalidInput
from leadpulse.core.naming import as_number, category_key, trait_key

Kind = Literal["numeric", "categorical"]
_T = TypeVar("_T")
Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

POSITIVE_WORDS = frozenset(
    {"1", "yes", "y", "true", "t", "converted", "won", "win", "positive", "customer", "paid"}
)
TARGET_NAMES = ("converted", "revenue", "target", "outcome", "won", "label", "purchased", "churn")
CATEGORY_LIMIT = 20
"""Integer columns with at most this many distinct values are codes (OS, region, 0/1 flags):
each value is a category of its own rather than a point on a scale."""
NUMERIC_SHARE = 0.9
"""A column is numeric when at least this share of its filled cells are numbers; the rest of
its cells are then junk and the file is refused."""
NEGATIVE_SHARE = 0.01
"""A column that is never negative except in fewer than this share of its filled cells uses
the negative values as error codes (-1 durations): those rows cannot be used."""


def category_value(key: str, shown: str) -> str | int | float:
    """What a model file compares with: a number for numeric keys, else the text as seen."""
    if key.startswith("n:"):
        number = float(key[2:])
        return int(number) if number.is_integer() else number
    return shown


@dataclass(frozen=True, slots=True)
class Column:
    """One feature column. Numeric: floats, NaN where empty. Categorical: `category_key`s,
    "" where empty, with `shown` giving each key the text first seen for it."""

    name: str
    kind: Kind
    values: npt.NDArray[Any]
    shown: dict[str, str] = field(default_factory=dict)

    def take(self, rows: Ints) -> Column:
        return replace(self, values=self.values[rows])

    @property
    def missing(self) -> npt.NDArray[np.bool_]:
        if self.kind == "numeric":
            return np.isnan(self.values.astype(np.float64))
        return np.asarray(self.values == "", dtype=np.bool_)

    @property
    def is_action(self) -> bool:
        """A 0/1 column: did the lead do it?"""
        return self.kind == "categorical" and set(self.shown) <= {"n:0.0", "n:1.0"}


@dataclass(frozen=True, slots=True)
class Frame:
    """The feature columns of some rows (the `X` of the estimators)."""

    columns: tuple[Column, ...]

    def take(self, rows: Ints) -> Frame:
        return Frame(tuple(c.take(rows) for c in self.columns))

    @property
    def n_rows(self) -> int:
        return len(self.columns[0].values) if self.columns else 0

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise InvalidInput(f"no column {name!r} in the data", field="columns")


@dataclass(frozen=True, slots=True)
class Skipped:
    """Rows that could not be used, grouped by reason, with their file line numbers."""

    reason: str
    lines: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Dataset:
    """Usable rows: features, outcome (1 = converted), weights, and where they came from."""

    frame: Frame
    y: Ints
    weight: Floats
    rows: Ints
    """Each usable row's index among the file's data rows (0 = the first after the header)."""
    time: npt.NDArray[Any] | None
    target: str
    positive: str
    source: str
    skipped: tuple[Skipped, ...] = ()
    excluded: tuple[str, ...] = ()

    def take(self, rows: Ints) -> Dataset:
        return replace(
            self,
            frame=self.frame.take(rows),
            y=self.y[rows],
            weight=self.weight[rows],
            rows=self.rows[rows],
            time=None if self.time is None else self.time[rows],
        )

    @property
    def n_skipped(self) -> int:
        return sum(len(s.lines) for s in self.skipped)


def read_table(
    path: Path,
    *,
    target: str | None = None,
    positive: str | None = None,
    delimiter: str | None = None,
    weight: str | None = None,
    exclude: tuple[str, ...] = (),
    time: str | None = None,
) -> Dataset:
    """Read `path`; every problem with the file as a whole is one `InvalidInput` line."""
    with open_csv(path) as handle:
        try:
            first = handle.readline()
            handle.seek(0)
            reader = csv.reader(handle, dialect_for(first, delimiter))
            headers = next(reader)
            records = [(reader.line_num, cells) for cells in reader]
        except StopIteration:
            raise InvalidInput(f"{path.name}: the file is empty: no header row") from None
        except csv.Error as exc:
            raise InvalidInput(f"{path.name}: unreadable CSV: {exc}") from None
        except UnicodeDecodeError:
            raise InvalidInput(f"{path.name}: not UTF-8 text; save the file as UTF-8") from None
    return parse_rows(
        headers,
        records,
        source=path.name,
        target=target,
        positive=positive,
        weight=weight,
        exclude=exclude,
        time=time,
    )


def parse_rows(
    headers: list[str],
    records: list[tuple[int, list[str]]],
    *,
    source: str,
    target: str | None,
    positive: str | None,
    weight: str | None,
    exclude: tuple[str, ...],
    time: str | None,
) -> Dataset:
    headers = [h.strip() for h in headers]
    target = target or _detect_target(headers, source)
    exclude = _expand(exclude, headers, source)
    for role, name in (("target", target), ("weight", weight), ("time", time)):
        if name is not None and name not in headers:
            raise InvalidInput(
                f"{source}: no {role} column {name!r}; its columns are: {', '.join(headers)}",
                field=role,
            )
    problems: dict[str, list[int]] = {}
    usable = _well_formed(records, len(headers), problems)
    if not usable:
        raise InvalidInput(f"{source}: the file has a header but no rows")
    index = {h: i for i, h in enumerate(headers)}
    lines = [records[i][0] for i in usable]

    def cells_of(name: str) -> list[Any]:
        at, key = index[name], trait_key(name)
        return _each(lambda cell: cell_value(cell, key), [records[i][1][at] for i in usable])

    outcome = cells_of(target)
    y, positive_shown = _outcome(outcome, target, positive, source)
    keep = np.array([v is not None for v in outcome], dtype=np.bool_)
    _note(problems, f"no value in the target column {target!r}", lines, ~keep)
    weights = np.ones(len(usable))
    if weight is not None:
        raw = _each(as_number, cells_of(weight))
        weights = np.array([math.nan if v is None else v for v in raw], dtype=np.float64)
        bad = ~(np.isfinite(weights) & (weights >= 0))
        _note(problems, f"no usable (non-negative number) weight in {weight!r}", lines, bad & keep)
        keep &= ~bad
    roles = {target, weight, time, *exclude}
    columns: list[Column] = []
    for name in dict.fromkeys(h for h in headers if h and h not in roles):
        column, negative = _column(name, cells_of(name), lines, source)
        if negative is not None:
            reason = f"a negative value in {name!r}, a column that is otherwise never negative"
            _note(problems, reason, lines, negative & keep)
            keep &= ~negative
        if column is not None:
            columns.append(column)
    if not columns:
        raise InvalidInput(f"{source}: no columns left to learn from besides the target")
    rows = np.flatnonzero(keep).astype(np.int64)
    _check_classes(y[rows], target, positive_shown, source)
    dataset = Dataset(
        frame=Frame(tuple(columns)),
        y=y,
        weight=weights,
        rows=np.array(usable, dtype=np.int64),
        time=None if time is None else _times(cells_of(time)),
        target=target,
        positive=positive_shown,
        source=source,
        skipped=tuple(Skipped(r, tuple(sorted(found))) for r, found in problems.items() if found),
        excluded=tuple(exclude),
    )
    return dataset.take(rows)


def _expand(patterns: tuple[str, ...], headers: list[str], source: str) -> tuple[str, ...]:
    """Excluded columns by name or glob (`Asymmetrique*`); a pattern matching none is an error."""
    found: dict[str, None] = {}
    for pattern in patterns:
        matched = [h for h in headers if h == pattern or fnmatch.fnmatchcase(h, pattern)]
        if not matched:
            raise InvalidInput(
                f"{source}: no column {pattern!r} to exclude; its columns are: "
                f"{', '.join(headers)}",
                field="exclude",
            )
        found.update(dict.fromkeys(matched))
    return tuple(found)


def _each(function: Callable[[Any], _T], items: list[Any]) -> list[_T]:
    """`function` of every item, computed once per distinct item: columns repeat values."""
    done = {item: function(item) for item in set(items)}
    return [done[item] for item in items]


def _check_classes(y: Ints, target: str, positive: str, source: str) -> None:
    if len(y) == 0:
        raise InvalidInput(f"{source}: no usable rows")
    converted = int(y.sum())
    if converted in {0, len(y)}:
        only = positive if converted else f"not {positive}"
        raise InvalidInput(
            f"{source}: the target {target!r} has one class only ({only}) in {len(y)} usable "
            "rows: nothing to learn from"
        )


def _well_formed(
    records: list[tuple[int, list[str]]], width: int, problems: dict[str, list[int]]
) -> list[int]:
    """Indexes of the records with as many cells as the header; the others go to `problems`
    (blank lines are passed over silently)."""
    usable: list[int] = []
    for i, (line, cells) in enumerate(records):
        if len(cells) == width:
            usable.append(i)
        elif any(c.strip() for c in cells):
            reason = f"{len(cells)} cells where the header has {width}"
            problems.setdefault(reason, []).append(line)
    return usable


def _detect_target(headers: list[str], source: str) -> str:
    for name in TARGET_NAMES:
        for header in headers:
            if trait_key(header) == name:
                return header
    raise InvalidInput(f"{source}: which column is the outcome? name it with --target")


def _outcome(values: list[Any], target: str, positive: str | None, source: str) -> tuple[Ints, str]:
    keys = [None if v is None else category_key(v) for v in values]
    shown: dict[str, str] = {}
    for key, value in zip(keys, values, strict=True):
        if key is not None:
            shown.setdefault(key, str(value))
    if positive is not None:
        wanted = category_key(cell_value(positive, "target") or positive)
        if wanted not in shown:
            listed = ", ".join(sorted(shown.values())[:10])
            raise InvalidInput(
                f"{source}: the target {target!r} never has the value {positive!r} "
                f"(its values: {listed})",
                field="positive",
            )
    elif len(shown) == 1:
        (only,) = shown.values()
        raise InvalidInput(
            f"{source}: the target {target!r} has one class only ({only!r}): nothing to learn from"
        )
    elif len(shown) > 2:
        listed = ", ".join(sorted(shown.values())[:10])
        raise InvalidInput(
            f"{source}: the target {target!r} has {len(shown)} values ({listed}); name the "
            "positive one with --positive",
            field="positive",
        )
    else:
        found = [k for k, text in shown.items() if text.strip().casefold() in POSITIVE_WORDS]
        if len(found) != 1:
            listed = ", ".join(sorted(shown.values()))
            raise InvalidInput(
                f"{source}: which value of {target!r} means converted ({listed})? "
                "name it with --positive",
                field="positive",
            )
        wanted = found[0]
    y = np.array([1 if k == wanted else 0 for k in keys], dtype=np.int64)
    return y, shown[wanted]


def _note(problems: dict[str, list[int]], reason: str, lines: list[int], bad: Any) -> None:
    for i in np.flatnonzero(bad):
        problems.setdefault(reason, []).append(lines[int(i)])


def _column(
    name: str, values: list[Any], lines: list[int], source: str
) -> tuple[Column | None, npt.NDArray[np.bool_] | None]:
    """The column and, for a numeric one, which rows hold an impossible negative value."""
    numbers = _each(as_number, values)
    filled = sum(v is not None for v in values)
    if not filled:
        return None, None
    junk = [
        i
        for i, (v, n) in enumerate(zip(values, numbers, strict=True))
        if n is None and v is not None
    ]
    if len(junk) <= (1 - NUMERIC_SHARE) * filled and len(junk) < filled:
        if junk:
            more = f" (and {len(junk) - 1} more)" if len(junk) > 1 else ""
            raise InvalidInput(
                f"{source}: column {name!r} holds numbers, but line {lines[junk[0]]} has "
                f"{str(values[junk[0]])!r}{more}; fix the file or leave the column out with "
                f"--exclude {name!r}",
                field=name,
            )
        array = np.array([math.nan if n is None else n for n in numbers], dtype=np.float64)
        distinct = np.unique(array[~np.isnan(array)])
        if len(distinct) > CATEGORY_LIMIT or not np.all(distinct == np.round(distinct)):
            return Column(name, "numeric", array), _negative(array)
    keys = np.array(_each(lambda v: "" if v is None else category_key(v), values), dtype=object)
    shown: dict[str, str] = {}
    for key, value in zip(keys, values, strict=True):
        if value is not None:
            shown.setdefault(str(key), str(value).strip())
    return Column(name, "categorical", keys, shown), None


def _negative(array: Floats) -> npt.NDArray[np.bool_] | None:
    negative = np.nan_to_num(array, nan=0.0) < 0
    filled = int((~np.isnan(array)).sum())
    count = int(negative.sum())
    if 0 < count < NEGATIVE_SHARE * filled:
        return negative
    return None


def _times(values: list[Any]) -> npt.NDArray[np.float64]:
    """Sortable times: numbers as they are, ISO dates as timestamps; unknown times sort last."""
    out = np.full(len(values), math.inf)
    for i, value in enumerate(values):
        number = as_number(value)
        if number is not None:
            out[i] = number
        elif isinstance(value, str):
            try:
                out[i] = datetime.fromisoformat(value).timestamp()
            except ValueError:
                continue
    return out
