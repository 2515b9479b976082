"""Evaluating conditions: comparisons, field lookups and globs. Pure functions."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from leadpulse.core.compare import MISSING as _MISSING
from leadpulse.core.compare import compare as compare_values
from leadpulse.core.compare import glob, lookup
from leadpulse.scoring.model import Compare, FieldCond


def compare(value: Any, cmp: Compare, operand: Any | None = None) -> bool:
    """Apply `cmp` to `value`; `operand` overrides the written operand (site averages)."""
    return compare_values(value, cmp.op, cmp.operand if operand is None else operand)


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


FieldsTest = Callable[[dict[str, Any], str], bool]


def compiled_fields(where: tuple[FieldCond, ...]) -> FieldsTest:
    """`fields_match` for one `where`, worked out once: a page-pattern condition on a plain
    field (`url: {matches: "*/pricing*"}`, the commonest rule) becomes a direct regex test."""
    if len(where) == 1 and (fast := _matches_test(where[0])) is not None:
        return fast
    return lambda values, event_type: fields_match(values, where, event_type)


def pattern_field(where: tuple[FieldCond, ...]) -> str | None:
    """The field whose value alone decides `where`, when `compiled_fields` makes a page-pattern
    test of it (`url: {matches: …}`); None for any other `where`."""
    if len(where) == 1 and _is_pattern(where[0]):
        return where[0].field
    return None


def field_value(values: dict[str, Any], name: str) -> Any:
    """A plain field as a page-pattern test reads it: the event's own, else the property of
    that name."""
    value = values.get(name, _MISSING)
    if value is _MISSING:
        props = values.get("properties")
        value = props.get(name) if isinstance(props, Mapping) else None
    return value


def _is_pattern(cond: FieldCond) -> bool:
    name = cond.field
    return cond.compare.op == "matches" and "." not in name and name != "type"


def _matches_test(cond: FieldCond) -> FieldsTest | None:
    if not _is_pattern(cond):
        return None
    name, cmp = cond.field, cond.compare
    operand = cmp.operand
    tests = tuple(
        _pattern_test(str(p)) for p in (operand if isinstance(operand, tuple) else (operand,))
    )
    known: dict[Any, bool] = {}

    def test(values: dict[str, Any], _event_type: str) -> bool:
        value = field_value(values, name)
        try:
            return known[value]
        except KeyError:
            found = isinstance(value, str) and any(t(value) is not None for t in tests)
            if len(known) < _KNOWN:
                known[value] = found
            return found
        except TypeError:  # not hashable (a list or an object): not text either
            return False

    return test


_KNOWN = 1_024
"""Values a page-pattern test remembers its answer for: a site's pages repeat, so most tests
are a dictionary lookup; unique URLs (with tracking parameters) fill it and are tested anew."""


def _pattern_test(pattern: str) -> Callable[[str], re.Match[str] | None]:
    """A glob as its cheapest exact test. `*text*` (the commonest page pattern) is a
    case-insensitive search for the text — what the glob's regex `.*text.*` means, without
    its backtracking; any other pattern is the glob's regex."""
    inner = pattern.strip("*")
    if pattern[:1] == "*" and pattern[-1:] == "*" and inner and not _WILD.intersection(inner):
        return re.compile(re.escape(inner), re.IGNORECASE).search
    return glob(pattern).match


_WILD = frozenset("*?[")
"""Characters with a meaning in a glob besides a leading or trailing `*`."""
