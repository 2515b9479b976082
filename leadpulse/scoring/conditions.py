"""Evaluating conditions: comparisons, field lookups and globs. Pure functions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from leadpulse.core.compare import MISSING as _MISSING
from leadpulse.core.compare import compare as compare_values
from leadpulse.core.compare import lookup
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
