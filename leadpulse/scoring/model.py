"""A scoring model as typed values: what a model file says, after validation.

The file format (YAML or JSON) is documented in docs/scoring.md; `scoring.parse` turns a file
into these values or fails with the file, the rule and the path inside it. Rules are data in a
small closed vocabulary: no expressions, no eval.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from leadpulse.scoring.learned import Learned

Operator = Literal[
    "eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "between", "contains", "matches", "exists"
]  # fmt: skip
OPERATORS: tuple[str, ...] = (
    "eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "between", "contains", "matches", "exists"
)  # fmt: skip

METRICS: tuple[str, ...] = (
    "pages_viewed",  # page_view events
    "engaged_seconds",  # sum of page_ping engaged_ms / 1000
    "session_seconds",  # last event time - first event time
    "max_scroll",  # deepest scroll depth, 0-100
    "mouse_intensity",  # sum of mouse_activity intensity
    "form_interactions",  # form_start + form_submit + form_abandon
    "events",  # every event
    "sessions",  # distinct sessions (lifetime only)
    "days_since_last_seen",  # whole days between the previous event and this one (lifetime)
)
"""Aggregates a `metric` condition can read, per session or over the lifetime."""


@dataclass(frozen=True, slots=True)
class Compare:
    """`<value> <op> <operand>`; `operand` may be `SiteAverage` for gt/gte/lt/lte."""

    op: Operator
    operand: Any


@dataclass(frozen=True, slots=True)
class SiteAverage:
    """Compare with the site's own average of a metric (per session)."""

    metric: str


@dataclass(frozen=True, slots=True)
class TraitCond:
    """A lead's trait or enrichment value (dotted names reach into objects)."""

    trait: str
    compare: Compare


@dataclass(frozen=True, slots=True)
class FieldCond:
    """A field of an event (`url`, `path`, `title`, `referrer`, `channel` …) or a property."""

    field: str
    compare: Compare


@dataclass(frozen=True, slots=True)
class EventCond:
    """An event of a type (or `*`), optionally with conditions on its fields."""

    event: str
    where: tuple[FieldCond, ...] = ()


@dataclass(frozen=True, slots=True)
class CountMetric:
    """How many events of a type (matching `where`) — a metric of its own."""

    event: str
    where: tuple[FieldCond, ...] = ()


@dataclass(frozen=True, slots=True)
class MetricCond:
    """A per-session or lifetime aggregate crossing a threshold, or every N after M."""

    metric: str | CountMetric
    per: Literal["session", "lifetime"]
    compare: Compare | None
    every: float | None = None
    after: float = 0.0
    within_days: float | None = None


@dataclass(frozen=True, slots=True)
class ModelCond:
    """Another model's total (or a learned model's probability)."""

    model: str
    compare: Compare


@dataclass(frozen=True, slots=True)
class AllCond:
    conditions: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class AnyCond:
    conditions: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class NotCond:
    condition: Condition


Condition = TraitCond | EventCond | MetricCond | ModelCond | AllCond | AnyCond | NotCond


@dataclass(frozen=True, slots=True)
class Limit:
    times: int | None = None
    per: Literal["lead", "session", "day"] = "lead"
    points: float | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    key: str
    when: Condition
    points: float
    limit: Limit | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Scope:
    site: str | None = None
    channel: str | None = None
    source: str | None = None
    scenario: str | None = None


@dataclass(frozen=True, slots=True)
class Model:
    key: str
    name: str
    kind: Literal["fit", "engagement", "mixed"]
    rules: tuple[Rule, ...]
    scope: Scope = field(default_factory=Scope)
    half_life_days: float | None = None
    cap_min: float | None = None
    cap_max: float | None = None
    bands: tuple[tuple[str, float], ...] = ()
    """(name, lower bound) in ascending order of bound."""
    stages: tuple[tuple[str, float], ...] = ()
    description: str | None = None
    learned: Learned | None = None
    """A lookalike learned from outcomes instead of rules: its total is the lead's
    probability of converting, in percent (`scoring.learned`)."""
