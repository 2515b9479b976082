"""The scoring engine: events and traits in, ledger entries out. Pure and deterministic.

Three kinds of rule, told apart by what their condition contains:
- **event rules** (an `event` condition anywhere): fire once per matching event;
- **metric rules** (a `metric` condition, no `event`): fire when an aggregate reaches its
  threshold — once per session or once per lifetime — or once per step of `every`;
- **state rules** (only `trait` and `model` conditions): give their points while the condition
  holds; when it stops holding an entry takes them back, so the ledger still adds up.
Event and metric points are behavioural and decay with the model's half-life; state points are
fit points and never decay.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson

from leadpulse.core.compare import lookup
from leadpulse.scoring.conditions import compare, compiled_fields, fields_match
from leadpulse.scoring.learned import Learned
from leadpulse.scoring.model import (
    AllCond,
    AnyCond,
    Condition,
    CountMetric,
    EventCond,
    MetricCond,
    Model,
    ModelCond,
    NotCond,
    Rule,
    SiteAverage,
    TraitCond,
)
from leadpulse.scoring.state import (
    State,
    decayed,
    merge_states,
    metric_value,
    new_stats,
    observe,
)

DAY_MS = 86_400_000
_MAX_TIMES = 10_000
"""Times kept per counted event kind and scope: enough for any window a model may ask."""


@dataclass(frozen=True, slots=True)
class Happening:
    """An event as scoring sees it: fields include url, path, referrer, title, channel,
    source, keyword, country, browser, device and `properties`."""

    uid: str
    type: str
    ts: int
    session_id: str | None
    fields: Mapping[str, Any]
    site: str | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    """One ledger row: a point change, and why."""

    model: str
    version: int
    rule: str
    occurrence: str
    points: float
    at: int
    event: str | None
    decays: bool


@dataclass(frozen=True, slots=True)
class Score:
    model: str
    version: int
    total: float
    band: str | None
    stage: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"total": self.total, "band": self.band, "stage": self.stage}


@dataclass(frozen=True, slots=True)
class Published:
    """A model as the engine runs it: its definition and its version number."""

    model: Model
    version: int


def _walk(cond: Condition) -> list[Condition]:
    if isinstance(cond, (AllCond, AnyCond)):
        return [cond, *(c for sub in cond.conditions for c in _walk(sub))]
    if isinstance(cond, NotCond):
        return [cond, *_walk(cond.condition)]
    return [cond]


def rule_kind(rule: Rule) -> str:
    nodes = _walk(rule.when)
    if any(isinstance(n, EventCond) for n in nodes):
        return "event"
    if any(isinstance(n, MetricCond) for n in nodes):
        return "metric"
    return "state"


def dependencies(model: Model) -> set[str]:
    return {n.model for r in model.rules for n in _walk(r.when) if isinstance(n, ModelCond)}


def held_stage(model: Model, state: State) -> str | None:
    """The stage the lead is held at by hand in `model`, if it is still one of its stages (a
    new version of the model may have dropped it)."""
    pinned = state.get("pins", {}).get(model.key)
    return pinned if pinned is not None and any(n == pinned for n, _ in model.stages) else None


def band_of(bounds: tuple[tuple[str, float], ...], total: float) -> str | None:
    found = None
    for name, lower in bounds:
        if total >= lower:
            found = name
    return found


class Scorer:
    """Applies a set of published models to subjects' states."""

    def __init__(
        self,
        models: list[Published],
        site_averages: Mapping[str, Mapping[str, float]] | None = None,
    ) -> None:
        """`site_averages`: per site key, the average of per-session metrics (what
        `{site_average: session_seconds}` compares with)."""
        self.models = _in_dependency_order(models)
        self.site_averages = dict(site_averages or {})
        self._plans = {p.model.key: _Plan(p.model) for p in self.models}
        self._has_state_rules = any(plan.state or plan.learned for plan in self._plans.values())
        self._reads_totals = any(plan.reads_totals for plan in self._plans.values())
        self._counted = {
            count_key(n.metric): n.metric
            for p in self.models
            for r in p.model.rules
            for n in _walk(r.when)
            if isinstance(n, MetricCond) and isinstance(n.metric, CountMetric)
        }

    # -- reading ---------------------------------------------------------------------------

    def score(self, state: State, now: int) -> dict[str, Score]:
        """Every model's total, band and stage at `now` (decay is exact at read time)."""
        return {p.model.key: self._score(p, state, now) for p in self.models}

    def _score(self, published: Published, state: State, now: int) -> Score:
        model = published.model
        ms = state["models"].get(model.key)
        total = 0.0 if ms is None else total_of(ms, now, _half_life_ms(model))
        total = clamp(total, model.cap_min, model.cap_max)
        return Score(
            model.key,
            published.version,
            round(total, 2),
            band_of(model.bands, total),
            held_stage(model, state) or band_of(model.stages, total),
        )

    # -- held by hand or by automations ----------------------------------------------------

    @staticmethod
    def pin_stage(state: State, model: str, stage: str | None) -> None:
        """Hold the lead at `stage` of `model` whatever its points say (a salesperson
        qualifying a lead by hand); `None` lets the points decide again."""
        pins = state.setdefault("pins", {})
        if stage is None:
            pins.pop(model, None)
        else:
            pins[model] = stage

    def enter_scenario(self, state: State, scenario: str, now: int) -> list[Entry]:
        """A lead starts a scenario run: its local models (`scope: {scenario: KEY}`) start
        again from zero — entries take back what an earlier run left, so the ledger still
        adds up — and count the lead's events from `now` until it leaves."""
        state.setdefault("scenarios", {})[scenario] = [now, None]
        entries: list[Entry] = []
        for published in self.models:
            model = published.model
            if model.scope.scenario != scenario:
                continue
            ms = state["models"].get(model.key)
            if not ms:
                continue
            half_life = _half_life_ms(model)
            fixed = ms.get("fixed", 0.0)
            for points, decays in ((fixed, False), (total_of(ms, now, half_life) - fixed, True)):
                if round(points, 9):
                    entries.append(Entry(model.key, published.version, "scenario_start",
                                         f"x:{scenario}:{now}:{decays}", -points, now, None,
                                         decays))  # fmt: skip
            state["models"][model.key] = {"version": published.version}
        return entries

    @staticmethod
    def leave_scenario(state: State, scenario: str, now: int) -> None:
        """The run ended: local models keep their score but count nothing more. The run's
        window stays, so a rescore counts the same events again."""
        window = state.get("scenarios", {}).get(scenario)
        if window and window[1] is None:
            window[1] = now

    # -- writing ---------------------------------------------------------------------------

    def apply_event(self, state: State, event: Happening, traits: Mapping[str, Any]) -> list[Entry]:
        """Fold one event into `state` and return the ledger entries it causes."""
        self._observe(state, event)
        return self._evaluate(state, event, traits, event.ts)

    def apply_traits(self, state: State, traits: Mapping[str, Any], now: int) -> list[Entry]:
        """Re-evaluate state rules after traits changed (identify, an upsert, an edit)."""
        return self._evaluate(state, None, traits, now)

    def merge(self, into: State, other: State, now: int) -> tuple[State, list[Entry]]:
        """Join two subjects' states; a state rule that was on for both gave its points twice,
        so an entry takes one of them back and the ledger still adds up."""
        merged = merge_states(into, other)
        entries: list[Entry] = []
        for published in self.models:
            key = published.model.key
            if published.model.learned is not None:
                # a lookalike's total is the probability, not a sum: the other side's goes back
                theirs_total = other["models"].get(key, {}).get("fixed", 0.0)
                if theirs_total and key in into["models"]:
                    entry = Entry(key, published.version, "lookalike", f"l:merge:{now}",
                                  -theirs_total, now, None, False)  # fmt: skip
                    _book(merged["models"][key], entry, None)
                    entries.append(entry)
                continue
            mine = into["models"].get(key, {}).get("on", {})
            theirs = other["models"].get(key, {}).get("on", {})
            for rule in published.model.rules:
                if mine.get(rule.key, 0) % 2 and theirs.get(rule.key, 0) % 2:
                    occurrence = f"s:merge:{now}"
                    entry = _entry(published, rule, occurrence, -rule.points, now, None, False)
                    _book(merged["models"][key], entry, _half_life_ms(published.model))
                    entries.append(entry)
        return merged, entries

    def _observe(self, state: State, event: Happening) -> None:
        sid = event.session_id or "-"
        fields = event.fields
        lifetime = state["lifetime"]
        prev = lifetime["last_ts"]
        state["prev_ts"] = prev
        sessions = state["sessions"]
        if sid not in sessions:
            sessions[sid] = new_stats()
            state["sessions_seen"] = state.get("sessions_seen", 0) + 1
        observe(sessions[sid], event.type, event.ts, fields)
        observe(lifetime, event.type, event.ts, fields)
        counts = state.setdefault("counts", {})
        for key, counted in self._counted.items():
            if counted.event in {"*", event.type} and fields_match(
                fields, counted.where, event.type
            ):
                seen = counts.setdefault(key, {})
                for scope in ("*", sid):
                    times = seen.setdefault(scope, [])
                    times.append(event.ts)
                    del times[:-_MAX_TIMES]

    def _evaluate(
        self, state: State, event: Happening | None, traits: Mapping[str, Any], now: int
    ) -> list[Entry]:
        entries: list[Entry] = []
        totals: dict[str, float] = {}
        signature = (
            hash(orjson.dumps(traits, option=orjson.OPT_SORT_KEYS, default=str))
            if self._has_state_rules
            else 0
        )
        averages = self.site_averages.get(event.site or "", {}) if event else {}
        ctx = _Context(state, event, traits, totals, averages)
        models = state["models"]
        for published in self.models:
            model = published.model
            plan = self._plans[model.key]
            half_life = plan.half_life
            ms = models.get(model.key)
            if ms is None:
                ms = models[model.key] = {"version": published.version}
            if ms.get("half_life", 0) != half_life:  # merges read it (a new version may change it)
                ms["half_life"] = half_life
            local = model.scope.scenario
            if local is not None and not _in_scenario(state, local, event, now):
                if self._reads_totals:
                    totals[model.key] = clamp(total_of(ms, now, half_life), model.cap_min,
                                              model.cap_max)  # fmt: skip
                continue  # its trait rules are looked at when a run starts
            traits_changed = ms.get("traits") != signature
            ms["traits"] = signature
            in_scope = not plan.scoped or _in_scope(model, event, traits)
            if plan.learned is not None:
                if traits_changed:
                    new = _learned_entries(published, plan.learned, ms, traits, now)
                    for entry in new:
                        _book(ms, entry, half_life)
                    entries += new
                if self._reads_totals:
                    totals[model.key] = float(ms.get("fixed", 0.0))
                continue
            for item in plan.rules_for(event, traits_changed):
                if item.kind == "state":
                    new = self._state_rule(published, item, ms, ctx, now)
                elif not in_scope:
                    continue
                elif item.kind == "event":
                    new = self._event_rule(published, item, ms, ctx)
                else:
                    new = self._metric_rule(published, item, ms, ctx)
                for entry in new:
                    _book(ms, entry, half_life)
                entries += new
            if self._reads_totals:
                totals[model.key] = clamp(total_of(ms, now, half_life), model.cap_min,
                                          model.cap_max)  # fmt: skip
        return entries

    def _event_rule(
        self, published: Published, item: _Planned, ms: dict[str, Any], ctx: _Context
    ) -> list[Entry]:
        event, rule = ctx.event, item.rule
        if event is None or not item.test(ctx):
            return []
        points = _allowed(rule, ms, event.session_id, event.ts)
        if points == 0:
            return []
        entry = _entry(published, rule, f"e:{event.uid}", points, event.ts, event.uid, True)
        _count(rule, ms, entry, event.session_id)
        return [entry]

    def _metric_rule(
        self, published: Published, item: _Planned, ms: dict[str, Any], ctx: _Context
    ) -> list[Entry]:
        event, rule, metric = ctx.event, item.rule, item.metric
        assert event is not None
        per_session = metric is not None and metric.per == "session"
        scope = f"{rule.key}|{event.session_id or '-'}" if per_session else rule.key
        fired: dict[str, int] = ms.setdefault("fired", {})
        every = metric is not None and metric.every
        if not every and fired.get(scope, 0) >= 1:
            return []  # a threshold fires once per scope: nothing left to look at
        if metric is not None and metric.every:
            if not item.steps(ctx):
                return []
            steps = math.floor((ctx.metric(metric) - metric.after) / metric.every)
        else:
            steps = 1 if item.test(ctx) else 0
        out: list[Entry] = []
        while fired.get(scope, 0) < steps:
            fired[scope] = fired.get(scope, 0) + 1
            points = _allowed(rule, ms, event.session_id, event.ts)
            if points == 0:
                break
            occurrence = f"m:{scope}:{fired[scope]}"
            entry = _entry(published, rule, occurrence, points, event.ts, event.uid, True)
            _count(rule, ms, entry, event.session_id)
            out.append(entry)
        return out

    def _state_rule(
        self, published: Published, item: _Planned, ms: dict[str, Any], ctx: _Context, now: int
    ) -> list[Entry]:
        rule = item.rule
        on: dict[str, int] = ms.setdefault("on", {})
        holds = item.test(ctx)
        turns = on.get(rule.key, 0)  # odd: on
        if holds == bool(turns % 2):
            return []
        on[rule.key] = turns + 1
        points = rule.points if holds else -rule.points
        occurrence = f"s:{turns + 1}"
        return [_entry(published, rule, occurrence, points, now, None, False)]


_METRIC_TRIGGERS = {
    "pages_viewed": ("page_view",),
    "engaged_seconds": ("page_ping",),
    "max_scroll": ("scroll",),
    "mouse_intensity": ("mouse_activity",),
    "form_interactions": ("form_start", "form_submit", "form_abandon"),
}
"""Event types that can change a metric; any other metric may change with any event."""


@dataclass(frozen=True, slots=True)
class _Planned:
    """A rule ready to run: its kind, its compiled condition, its scoping metric."""

    index: int
    rule: Rule
    kind: str
    test: Test
    steps: Test
    metric: MetricCond | None


class _Plan:
    """Which rules an event can possibly fire, worked out once per model.

    An event rule is looked at only for its own event types, a metric rule only for events
    that move its metric, a state rule only when the traits changed (or when it reads another
    model's score). Conditions are compiled to closures here, once.
    """

    def __init__(self, model: Model) -> None:
        self.half_life = _half_life_ms(model)
        self.learned = model.learned
        scope = model.scope
        self.scoped = any(v is not None for v in (scope.site, scope.channel, scope.source))
        self.reads_totals = any(
            isinstance(n, ModelCond) for r in model.rules for n in _walk(r.when)
        )
        by_type: dict[str, list[_Planned]] = {}
        self.state: list[_Planned] = []
        self.state_on_models: list[_Planned] = []
        for index, rule in enumerate(model.rules):
            kind = rule_kind(rule)
            item = _Planned(
                index, rule, kind, _compiled(rule.when, False), _compiled(rule.when, True),
                _top_metric(rule.when),
            )  # fmt: skip
            if kind == "state":
                self.state.append(item)
                if any(isinstance(n, ModelCond) for n in _walk(rule.when)):
                    self.state_on_models.append(item)
                continue
            for event_type in _triggers(rule, kind):
                by_type.setdefault(event_type, []).append(item)
        self._any = by_type.pop("*", [])
        self._by_type = {
            t: sorted(v + self._any, key=lambda p: p.index) for t, v in by_type.items()
        }

    def rules_for(self, event: Happening | None, traits_changed: bool) -> list[_Planned]:
        found = [] if event is None else self._by_type.get(event.type, self._any)
        state = self.state if traits_changed or event is None else self.state_on_models
        return [*found, *state] if state else found


def _triggers(rule: Rule, kind: str) -> set[str]:
    nodes = _walk(rule.when)
    if kind == "event":
        return {n.event for n in nodes if isinstance(n, EventCond)}
    types: set[str] = set()
    for n in nodes:
        if not isinstance(n, MetricCond):
            continue
        if isinstance(n.metric, CountMetric):
            types.add(n.metric.event)
        else:
            types.update(_METRIC_TRIGGERS.get(n.metric, ("*",)))
    return types


class _Context:
    """What conditions can see while one event (or a trait change) is being scored."""

    def __init__(
        self,
        state: State,
        event: Happening | None,
        traits: Mapping[str, Any],
        totals: Mapping[str, float],
        averages: Mapping[str, float],
    ) -> None:
        self.state = state
        self.event = event
        self.traits = traits
        self.totals = totals
        self.averages = averages

    def metric(self, cond: MetricCond) -> float:
        event = self.event
        sid = (event.session_id if event else None) or "-"
        if isinstance(cond.metric, CountMetric):
            scope = sid if cond.per == "session" else "*"
            times = self.state.get("counts", {}).get(count_key(cond.metric), {}).get(scope, [])
            if cond.within_days and event is not None:
                since = event.ts - cond.within_days * DAY_MS
                return float(sum(1 for t in times if t >= since))
            return float(len(times))
        if cond.metric == "sessions":
            return float(self.state.get("sessions_seen", 0))
        if cond.metric == "days_since_last_seen":
            prev = self.state.get("prev_ts") or 0
            return (event.ts - prev) / DAY_MS if event and prev else 0.0
        if cond.per == "session":
            stats = self.state["sessions"].get(sid) or new_stats()
        else:
            stats = self.state["lifetime"]
        return metric_value(stats, cond.metric)


Test = Callable[["_Context"], bool]


@lru_cache(maxsize=4096)
def _compiled(cond: Condition, steps_only: bool) -> Test:
    """A condition turned into a closure once, so scoring an event does no type dispatch.

    Conditions are frozen and hashable, so each is compiled once per process.
    """
    if isinstance(cond, (AllCond, AnyCond)):
        parts = tuple(_compiled(c, steps_only) for c in cond.conditions)
        if isinstance(cond, AllCond):
            return lambda ctx: all(part(ctx) for part in parts)
        return lambda ctx: any(part(ctx) for part in parts)
    if isinstance(cond, NotCond):
        inner = _compiled(cond.condition, False)
        return lambda ctx: not inner(ctx)
    if isinstance(cond, TraitCond):
        name, trait_cmp = cond.trait, cond.compare
        return lambda ctx: compare(lookup(ctx.traits, name), trait_cmp)
    if isinstance(cond, ModelCond):
        key, model_cmp = cond.model, cond.compare
        return lambda ctx: compare(ctx.totals.get(key), model_cmp)
    if isinstance(cond, EventCond):
        return _compiled_event(cond)
    return _compiled_metric(cond, steps_only)


def _compiled_event(cond: EventCond) -> Test:
    wanted, where = cond.event, cond.where
    fields = compiled_fields(where)

    def test(ctx: _Context) -> bool:
        ev = ctx.event
        if ev is None or wanted not in ("*", ev.type):
            return False
        return not where or fields(ev.fields, ev.type)

    return test


def _compiled_metric(cond: MetricCond, steps_only: bool) -> Test:
    if cond.every:
        if steps_only:
            return lambda ctx: True
        first_step = cond.after + cond.every
        return lambda ctx: ctx.metric(cond) >= first_step
    metric_cmp = cond.compare
    assert metric_cmp is not None
    operand = metric_cmp.operand
    if isinstance(operand, SiteAverage):
        average_of = operand.metric

        def against_average(ctx: _Context) -> bool:
            average = ctx.averages.get(average_of)
            # no average known yet: nothing to be longer than
            return average is not None and compare(ctx.metric(cond), metric_cmp, average)

        return against_average
    bound_test = _NUMERIC.get(metric_cmp.op)
    if bound_test is not None and isinstance(operand, (int, float)):
        bound = float(operand)  # metrics are always numbers: compare them directly
        return lambda ctx: bound_test(ctx.metric(cond), bound)
    return lambda ctx: compare(ctx.metric(cond), metric_cmp)


_NUMERIC: dict[str, Callable[[float, float], bool]] = {
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}


def count_key(metric: CountMetric) -> str:
    """A stable name for a counted event kind (the same count in two rules is kept once)."""
    return repr(metric)


def _top_metric(cond: Condition) -> MetricCond | None:
    """The metric condition that sets a rule's scope (per session or lifetime)."""
    return next((n for n in _walk(cond) if isinstance(n, MetricCond)), None)


def _in_scope(model: Model, event: Happening | None, traits: Mapping[str, Any]) -> bool:
    scope = model.scope
    if scope.site is not None and (event is None or event.site != scope.site):
        return False
    for name in ("channel", "source"):
        wanted = getattr(scope, name)
        if wanted is not None and str(traits.get(name, "")).casefold() != wanted.casefold():
            return False
    return True


def _in_scenario(state: State, scenario: str, event: Happening | None, now: int) -> bool:
    """Whether a local model counts now: within the window of the lead's latest run of its
    scenario. An event counts after the run's start (the one that started it was scored
    before) and up to its end; a trait change from the start on."""
    window = state.get("scenarios", {}).get(scenario)
    if not window:
        return False
    start, end = window
    if event is None:
        return bool(start <= now and (end is None or now <= end))
    return bool(start < event.ts and (end is None or event.ts <= end))


def _half_life_ms(model: Model) -> float | None:
    return model.half_life_days * DAY_MS if model.half_life_days else None


def clamp(total: float, low: float | None, high: float | None) -> float:
    if low is not None:
        total = max(total, low)
    if high is not None:
        total = min(total, high)
    return total


def total_of(ms: Mapping[str, Any], now: int, half_life_ms: float | None) -> float:
    """The model's raw total at `now`: fixed points plus the decaying sum brought to `now`."""
    total = float(ms.get("fixed", 0.0))
    decaying = ms.get("decaying")
    if decaying:
        total += decayed(decaying[0], decaying[1], now, half_life_ms)
    return total


def _book(ms: dict[str, Any], entry: Entry, half_life_ms: float | None) -> None:
    """Add an entry to the model's running totals (the decaying sum is kept as of its last
    entry, so reading it later is one multiplication)."""
    if not entry.decays:
        ms["fixed"] = ms.get("fixed", 0.0) + entry.points
        return
    current = ms.get("decaying")
    if not current:
        ms["decaying"] = [entry.points, entry.at]
        return
    value, at = current
    now = max(at, entry.at)
    ms["decaying"] = [
        decayed(value, at, now, half_life_ms) + decayed(entry.points, entry.at, now, half_life_ms),
        now,
    ]


def _allowed(rule: Rule, ms: dict[str, Any], session: str | None, ts: int) -> float:
    """The points this rule may still give now, under its limit (0: the limit is reached)."""
    limit = rule.limit
    points = rule.points
    if limit is None:
        return points
    if limit.times is not None:
        used = ms.get("times", {}).get(_limit_scope(rule, session, ts), 0)
        if used >= limit.times:
            return 0.0
    if limit.points is not None and points > 0:
        given = ms.get("points", {}).get(rule.key, 0.0)
        points = min(points, limit.points - given)
        if points <= 0:
            return 0.0
    return points


def _limit_scope(rule: Rule, session: str | None, ts: int) -> str:
    per = rule.limit.per if rule.limit else "lead"
    if per == "session":
        return f"{rule.key}|s|{session or '-'}"
    if per == "day":
        return f"{rule.key}|d|{ts // DAY_MS}"
    return rule.key


def _count(rule: Rule, ms: dict[str, Any], entry: Entry, session: str | None) -> None:
    times = ms.setdefault("times", {})
    scope = _limit_scope(rule, session, entry.at)
    times[scope] = times.get(scope, 0) + 1
    given = ms.setdefault("points", {})
    given[rule.key] = given.get(rule.key, 0.0) + entry.points


def _entry(
    published: Published,
    rule: Rule,
    occurrence: str,
    points: float,
    at: int,
    event: str | None,
    decays: bool,
) -> Entry:
    return Entry(published.model.key, published.version, rule.key, occurrence, points, at,
                 event, decays)  # fmt: skip


def _learned_entries(
    published: Published, learned: Learned, ms: dict[str, Any], traits: Mapping[str, Any],
    now: int,
) -> list[Entry]:  # fmt: skip
    """A lookalike's total follows the lead's traits: one entry moves it from what it was to
    the probability now (in percent), so the ledger still adds up."""
    percent = round(100 * learned.probability(traits), 4)
    change = round(percent - ms.get("fixed", 0.0), 4)
    if not change:
        return []
    ms["changes"] = ms.get("changes", 0) + 1
    model = published.model
    return [Entry(model.key, published.version, "lookalike", f"l:{ms['changes']}", change, now,
                  None, False)]  # fmt: skip


def _in_dependency_order(models: list[Published]) -> list[Published]:
    """Models that read another model's score come after it (cycles keep file order)."""
    by_key = {p.model.key: p for p in models}
    ordered: list[Published] = []
    visiting: set[str] = set()

    def visit(p: Published) -> None:
        if p in ordered or p.model.key in visiting:
            return
        visiting.add(p.model.key)
        for dep in sorted(dependencies(p.model)):
            if dep in by_key:
                visit(by_key[dep])
        ordered.append(p)

    for p in models:
        visit(p)
    return ordered
