"""Segments: saved conditions on a lead — its values (country, traits, scores, bands, owner,
tags) and counts of its events — kept up to date as the lead changes (docs/automations.md).

Pure: `parse_segment` reads the document; `holds` decides membership from the lead's values
and a `count` callback the pipeline answers from the lead's stored events.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from leadpulse.automate.model import Match
from leadpulse.automate.parse import AutomationError, read_matches
from leadpulse.core import document as doc
from leadpulse.core.compare import compare, lookup
from leadpulse.core.document import Invalid


@dataclass(frozen=True, slots=True)
class Count:
    """How many of the lead's events of `type` match `where`, in [since, until) (epoch ms)."""

    type: str
    where: tuple[Match, ...]
    op: str
    operand: float
    since: int | None = None
    until: int | None = None
    within_days: float | None = None


@dataclass(frozen=True, slots=True)
class Values:
    match: tuple[Match, ...]


@dataclass(frozen=True, slots=True)
class Group:
    kind: str  # all | any | not
    members: tuple[Condition, ...]


Condition = Count | Values | Group


@dataclass(frozen=True, slots=True)
class Segment:
    key: str
    name: str
    when: Condition

    @property
    def site(self) -> str | None:
        """Segments are about leads, across every site."""
        return None


CountFn = Callable[[Count], int]


def holds(condition: Condition, lead: Mapping[str, Any], count: CountFn) -> bool:
    if isinstance(condition, Values):
        return all(compare(lookup(lead, m.field), m.op, m.operand) for m in condition.match)
    if isinstance(condition, Count):
        return compare(count(condition), condition.op, condition.operand)
    results = (holds(c, lead, count) for c in condition.members)
    if condition.kind == "all":
        return all(results)
    if condition.kind == "any":
        return any(results)
    return not any(results)


class SegmentError(AutomationError):
    code = "invalid_segment"


def parse_segment(source_text: str | bytes | dict[str, Any], source: str = "segment") -> Segment:
    return doc.read(source_text, source, SegmentError, _segment)


def _segment(data: dict[str, Any]) -> Segment:
    doc.check_keys(data, ("key", "name", "description", "when"), "")
    key = doc.key(doc.required(data, "key", ""), "key")
    return Segment(
        key=key,
        name=doc.optional(data, "name", "", doc.name) or key,
        when=_condition(doc.required(data, "when", ""), "when"),
    )


_KINDS = ("match", "count", "all", "any", "not")
_COUNT_KEYS = ("type", "where", "since", "until", "within_days", "gt", "gte", "lt", "lte", "eq")


def _condition(raw: Any, path: str) -> Condition:
    data = doc.mapping(raw, path)
    doc.check_keys(data, _KINDS, path)
    if len(data) != 1:
        raise Invalid(path, f"needs exactly one of: {', '.join(_KINDS)}")
    kind, value = next(iter(data.items()))
    at = doc.at(path, kind)
    if kind == "match":
        return Values(read_matches(value, at))
    if kind == "count":
        return _count(value, at)
    if kind == "not":
        return Group("not", (_condition(value, at),))
    items = doc.list_of(value, at, "conditions")
    return Group(kind, tuple(_condition(c, doc.item(at, i)) for i, c in enumerate(items)))


def _count(raw: Any, path: str) -> Count:
    data = doc.mapping(raw, path)
    doc.check_keys(data, _COUNT_KEYS, path)
    ops = [k for k in ("gt", "gte", "lt", "lte", "eq") if k in data]
    if len(ops) != 1:
        raise Invalid(path, "needs one comparison: gt, gte, lt, lte or eq")
    op = ops[0]
    return Count(
        type=doc.name(doc.required(data, "type", path), doc.at(path, "type")),
        where=read_matches(data["where"], doc.at(path, "where")) if "where" in data else (),
        op=op,
        operand=doc.number(data[op], doc.at(path, op)),
        since=doc.optional(data, "since", path, _day),
        until=doc.optional(data, "until", path, _day),
        within_days=doc.optional(data, "within_days", path, doc.positive),
    )


def _day(value: Any, path: str) -> int:
    """A date (`2026-11-20`, the start of that day in UTC) or a timestamp, as epoch ms."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    elif isinstance(value, date):
        moment = datetime.combine(value, time(), tzinfo=UTC)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise Invalid(path, f"must be a date such as 2026-11-20, got {value!r}") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    else:
        raise Invalid(path, f"must be a date such as 2026-11-20, got {doc.describe(value)}")
    return int(moment.timestamp() * 1000)
