"""Evaluating conditions: comparisons, field lookups and globs. Pure functions."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from leadpulse.scoring.model import Compare, FieldCond

_MISSING = object()


def lookup(values: Mapping[str, Any], name: str) -> Any:
    """`company.revenue` reaches into nested objects; a missing name gives `_MISSING`."""
    if name in values:
        return values[name]
    current: Any = values
    for part in name.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return _MISSING
        current = current[part]
    return current


@lru_cache(maxsize=1024)
def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile(fnmatch.translate(pattern), re.IGNORECASE)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _same(a: Any, b: Any) -> bool:
    """Equality that treats '5' and 5, and 'UK' and 'uk', as the same (CSV and form values)."""
    if isinstance(a, str) and isinstance(b, str):
        return a.casefold() == b.casefold()
    na, nb = _number(a), _number(b)
    if na is not None and nb is not None:
        return na == nb
    return bool(a == b)


def compare(value: Any, cmp: Compare, operand: Any | None = None) -> bool:
    """Apply `cmp` to `value`; `operand` overrides the written operand (site averages)."""
    op = cmp.op
    target = cmp.operand if operand is None else operand
    if op == "exists":
        return (value is not _MISSING and value is not None) == bool(target)
    if value is _MISSING or value is None:
        return op in {"ne", "not_in"}
    if op == "eq":
        return _same(value, target)
    if op == "ne":
        return not _same(value, target)
    if op == "in":
        return any(_same(value, t) for t in target)
    if op == "not_in":
        return not any(_same(value, t) for t in target)
    if op == "contains":
        if isinstance(value, str):
            return str(target).casefold() in value.casefold()
        if isinstance(value, (list, tuple)):
            return any(_same(v, target) for v in value)
        return False
    if op == "matches":
        return isinstance(value, str) and bool(_glob(str(target)).match(value))
    number = _number(value)
    if number is None:
        return False
    if op == "between":
        low, high = target
        return float(low) <= number <= float(high)
    bound = float(target)
    return {
        "gt": number > bound,
        "gte": number >= bound,
        "lt": number < bound,
        "lte": number <= bound,
    }[op]


def fields_match(
    values: Mapping[str, Any], where: tuple[FieldCond, ...], event_type: str | None = None
) -> bool:
    """Every field condition holds; a name not found among the fields is looked up in
    `properties` too (so `sku` and `properties.sku` both work). `type` is the event type."""
    props = values.get("properties")
    for cond in where:
        value = event_type if cond.field == "type" and event_type else lookup(values, cond.field)
        if value is _MISSING and isinstance(props, Mapping):
            value = lookup(props, cond.field)
        if not compare(value, cond.compare):
            return False
    return True
