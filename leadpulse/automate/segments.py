"""Segments: saved conditions on a lead — its values (country, traits, scores, bands, owner,
tags), counts of its events and its visit metrics — kept up to date as the lead changes
(docs/automations.md). Conditions may also be written as in a scoring model's rules (`trait`,
`model`, `event`, `metric`).

Pure: `parse_segment` reads the document; `holds` decides membership from the lead's values,
a `count` callback the pipeline answers from the lead's stored events and a `metric` callback
it answers from the lead's scoring state.
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


METRICS = (
    "pages_viewed", "engaged_seconds", "session_seconds", "max_scroll", "mouse_intensity",
    "form_interactions", "events", "sessions",
)  # fmt: skip
"""The visit aggregates of scoring models (docs/scoring.md); `sessions` only per lifetime."""


@dataclass(frozen=True, slots=True)
class Metric:
    """A visit aggregate compared with a number: in any one of the lead's sessions
    (`per: session`) or over its whole history (`per: lifetime`)."""

    name: str
    per: str
    op: str
    operand: float


@dataclass(frozen=True, slots=True)
class Values:
    match: tuple[Match, ...]


@dataclass(frozen=True, slots=True)
class Group:
    kind: str  # all | any | not
    members: tuple[Condition, ...]


Condition = Count | Metric | Values | Group


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
MetricFn = Callable[[Metric], list[float]]
"""A metric's value in each of the lead's sessions, or its one lifetime value."""


def holds(condition: Condition, lead: Mapping[str, Any], count: CountFn, metric: MetricFn) -> bool:
    if isinstance(condition, Values):
        return all(compare(lookup(lead, m.field), m.op, m.operand) for m in condition.match)
    if isinstance(condition, Count):
        return compare(count(condition), condition.op, condition.operand)
    if isinstance(condition, Metric):
        return any(compare(v, condition.op, condition.operand) for v in metric(condition))
    results = (holds(c, lead, count, metric) for c in condition.members)
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
_COMPARISONS = ("gt", "gte", "lt", "lte", "eq")
_COUNT_KEYS = ("type", "where", "since", "until", "within_days", *_COMPARISONS)
_RULE_HEADS = ("metric", "model", "trait", "event")
"""Conditions written as in a scoring model's rules: `{metric: pages_viewed, per: session,
gt: 3}`, `{model: website, gte: 30}`, `{trait: plan, eq: pro}`, `{event: demo_request}`."""


def _condition(raw: Any, path: str) -> Condition:
    data = doc.mapping(raw, path)
    head = next((h for h in _RULE_HEADS if h in data), None)
    if head is not None:
        return _rule_style(head, data, path)
    doc.check_keys(data, (*_KINDS, *_RULE_HEADS), path)
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


def _rule_style(head: str, data: dict[str, Any], path: str) -> Condition:
    if head == "event":
        doc.check_keys(data, ("event", "where", "within_days"), path)
        counted = {"type": data["event"], "gte": 1}
        counted |= {k: data[k] for k in ("where", "within_days") if k in data}
        return _count(counted, path)
    if head == "metric":
        doc.check_keys(data, ("metric", "per", *_COMPARISONS), path)
        name = doc.choice(data["metric"], METRICS, doc.at(path, "metric"), "metric")
        per = doc.choice(data.get("per", "lifetime"), ("session", "lifetime"),
                         doc.at(path, "per"), "per")  # fmt: skip
        if name == "sessions" and per == "session":
            raise Invalid(doc.at(path, "per"), "sessions is counted over the lifetime only")
        op = _comparison(data, path)
        return Metric(name, per, op, doc.number(data[op], doc.at(path, op)))
    ops = [k for k in data if k != head]
    if len(ops) != 1:
        raise Invalid(path, f"{head} needs one operator, e.g. {{{head}: …, gte: 30}}")
    name = doc.name(data[head], doc.at(path, head))
    field = f"score.{name}" if head == "model" else f"traits.{name}"
    return Values(read_matches({field: {ops[0]: data[ops[0]]}}, path))


def _comparison(data: dict[str, Any], path: str) -> str:
    ops = [k for k in _COMPARISONS if k in data]
    if len(ops) != 1:
        raise Invalid(path, "needs one comparison: gt, gte, lt, lte or eq")
    return ops[0]


def _count(raw: Any, path: str) -> Count:
    data = doc.mapping(raw, path)
    doc.check_keys(data, _COUNT_KEYS, path)
    op = _comparison(data, path)
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
