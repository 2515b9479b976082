"""Comparing a value with an operand, the same way in every document: scoring models, offers
and personalisations. Strings compare case-insensitively, and '5' equals 5 (CSV and form values)."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

MISSING = object()


def lookup(values: Mapping[str, Any], name: str) -> Any:
    """`company.revenue` reaches into nested objects — and finds a flat `"company.revenue"`
    key at any level too (a form field named so); a missing name gives `MISSING`."""
    if name in values:
        return values[name]
    head, _, rest = name.partition(".")
    inner = values.get(head) if rest else None
    return lookup(inner, rest) if isinstance(inner, Mapping) else MISSING


@lru_cache(maxsize=1024)
def glob(pattern: str) -> re.Pattern[str]:
    """A shell-style pattern (`*/pricing*`) as a case-insensitive regex."""
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


def compare(value: Any, op: str, target: Any) -> bool:
    """`value op target`; a missing value passes only `ne`, `not_in` and `exists: false`."""
    if op == "exists":
        return (value is not MISSING and value is not None) == bool(target)
    if value is MISSING or value is None:
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
        patterns = target if isinstance(target, tuple) else (target,)
        return isinstance(value, str) and any(glob(str(p)).match(value) for p in patterns)
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
