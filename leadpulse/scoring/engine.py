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

import hashlib
import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

import orjson

from leadpulse.core.compare import lookup
from leadpulse.scoring.conditions import (
    FieldsTest,
    compare,
    compiled_fields,
    field_value,
    pattern_field,
)
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
    Stats,
    decayed,
    merge_states,
    metric_value,
    new_stats,
    observe,
)

DAY_MS = 86_400_000
SESSION_KEPT_MS = DAY_MS
"""How long after its last event a session's own aggregates and limits are kept: its events
may arrive late (a tracker queue flushed on the next visit), but not a day late."""
_SIGNATURES_KEPT = 4096
"""Traits signatures remembered by their encoding."""
_PAGES_KNOWN = 4_096
"""Page values each model and event type remembers the page-pattern rules left to run for:
a site's pages repeat; unique URLs (tracking parameters) fill it and are looked at anew."""
_MAX_TIMES = 10_000
"""Times kept per counted event kind and scope when some condition counts it without a window
(the others keep their widest window's, `_Counted`)."""


class Happening:
    """An event as scoring sees it: fields include url, path, referrer, title, channel,
    source, keyword, country, browser, device and `properties`. One is made for every event
    scored or replayed: a plain class, which compiled (scoring/native.py) is built by a direct
    call and read without a lookup; a named tuple's constructor runs as Python code, and a
    frozen dataclass costs more still."""

    __slots__ = ("fields", "session_id", "site", "ts", "type", "uid")

    def __init__(
        self,
        uid: str,
        type: str,
        ts: int,
        session_id: str | None,
        fields: dict[str, Any],
        site: str | None = None,
    ) -> None:
        self.uid = uid
        self.type = type
        self.ts = ts
        self.session_id = session_id
        self.fields = fields
        self.site = site


class Entry(NamedTuple):
    """One ledger row: a point change, and why. A named tuple: a rescore makes millions, and
    tuples are the cheapest to make and to read."""

    model: str
    version: int
    rule: str
    occurrence: str
    points: float
    at: int
    event: str | None
    decays: bool


class Score:
    """A model's total, band and stage at one moment: every collect answer has one per model,
    so it is a plain class, as `Happening` is."""

    __slots__ = ("band", "model", "stage", "total", "version")

    def __init__(
        self, model: str, version: int, total: float, band: str | None, stage: str | None
    ) -> None:
        self.model = model
        self.version = version
        self.total = total
        self.band = band
        self.stage = stage

    def to_dict(self) -> dict[str, Any]:
        return {"total": self.total, "band": self.band, "stage": self.stage}

    def __repr__(self) -> str:
        return (f"Score(model={self.model!r}, version={self.version!r}, total={self.total!r}, "
                f"band={self.band!r}, stage={self.stage!r})")  # fmt: skip


def as_dicts(scores: dict[str, Score]) -> dict[str, dict[str, Any]]:
    """Scores by model as answers and automations show them (compiled: every collect answer
    has them)."""
    return {key: score.to_dict() for key, score in scores.items()}


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


def shown(total: float) -> float:
    """`round(total, 2)`, as answers show a total, without its cost: it goes through the
    number's decimal text, which was a fifth of the time `Scorer.score` took. Scaled by 100
    and rounded to a whole number, the result is the same unless the scaled value is exactly
    a half (the multiplication may have rounded onto it) or too large to scale exactly; those
    few go the slow way. The rounding is done by hand (truncated, and the exact remainder
    compared with a half), as compiled code calls no function for it."""
    scaled = total * 100
    if -1e15 < scaled < 1e15:
        cents = float(int(scaled))
        rest = scaled - cents
        if rest > 0.5:
            return (cents + 1) / 100
        if rest < -0.5:
            return (cents - 1) / 100
        if abs(rest) != 0.5:
            return cents / 100
    return round(total, 2)


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
        self._plans = [_Plan(p) for p in self.models]
        self._has_state_rules = any(plan.state or plan.learned for plan in self._plans)
        self._reads_totals = any(plan.reads_totals for plan in self._plans)
        self._counted = _Counted(self.models)
        self._seen: tuple[Mapping[str, Any], int] | None = None
        self._signatures: dict[bytes, int] = {}

    # -- reading ---------------------------------------------------------------------------

    def score(self, state: State, now: int) -> dict[str, Score]:
        """Every model's total, band and stage at `now` (decay is exact at read time)."""
        models: dict[str, Any] = state["models"]
        pins: dict[str, str] | None = state.get("pins")
        scores: dict[str, Score] = {}
        for plan in self._plans:
            key = plan.key
            ms = models.get(key)
            total = plan.clamped(0.0 if ms is None else total_of(ms, now, plan.half_life))
            stage = None
            if pins:  # a stage held by hand, if the model still has it
                pinned = pins.get(key)
                stage = pinned if pinned is not None and pinned in plan.stage_names else None
            if stage is None and plan.stages:
                stage = band_of(plan.stages, total)
            scores[key] = Score(key, plan.version, shown(total), band_of(plan.bands, total), stage)
        return scores

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

    def apply_event(
        self,
        state: State,
        event: Happening,
        traits: Mapping[str, Any],
        same_traits: bool = False,
    ) -> list[Entry]:
        """Fold one event into `state` and return the ledger entries it causes.

        `same_traits`: the caller knows `traits` are the ones `state` was last scored with (a
        visitor's next event, nothing enriched anew), so models scored before need neither
        their state rules looked at nor the traits' digest made."""
        self._observe(state, event)
        return self._evaluate(state, event, traits, event.ts, same_traits)

    def apply_traits(self, state: State, traits: Mapping[str, Any], now: int) -> list[Entry]:
        """Re-evaluate state rules after traits changed (identify, an upsert, an edit)."""
        return self._evaluate(state, None, traits, now)

    def merge(self, into: State, other: State, now: int) -> tuple[State, list[Entry]]:
        """Join two subjects' states; a state rule that was on for both gave its points twice,
        so an entry takes one of them back and the ledger still adds up."""
        merged = merge_states(into, other, {plan.key: plan.half_life for plan in self._plans})
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
        lifetime: Stats = state["lifetime"]
        prev = lifetime.get("last_ts", 0.0)
        state["prev_ts"] = prev
        sessions: dict[str, Stats] = state["sessions"]
        if sid not in sessions:
            self._forget_sessions(state, event.ts - SESSION_KEPT_MS)
            sessions[sid] = new_stats()
            state["sessions_seen"] = state.get("sessions_seen", 0) + 1
        observe(event.type, event.ts, fields, sessions[sid], lifetime)
        for key, matches, kept_ms in self._counted.of(event.type):
            if matches(fields, event.type):
                seen = state.setdefault("counts", {}).setdefault(key, {})
                for scope in ("*", sid):
                    times = seen.setdefault(scope, [])
                    times.append(event.ts)
                    if kept_ms is not None and times[0] < event.ts - kept_ms:
                        since = event.ts - kept_ms
                        times[:] = [t for t in times if t >= since]
                    del times[:-_MAX_TIMES]

    def _forget_sessions(self, state: State, before: int) -> None:
        """Drop what is kept per session — its aggregates, the uses of per-session limits, the
        per-session thresholds reached, per-session counts — for sessions whose last event is
        older than `before`. Without this a regular visitor's state grows by every session it
        ever had, and every event decodes and encodes all of it."""
        sessions = state["sessions"]
        old = [sid for sid, stats in sessions.items() if stats.get("last_ts", 0) < before]
        if not old:
            return
        for sid in old:
            del sessions[sid]
        for scopes in state.get("counts", {}).values():
            for sid in old:
                scopes.pop(sid, None)
        models = state["models"]
        for plan in self._plans:
            ms = models.get(plan.key)
            if not ms:
                continue
            for name, prefixes in (("times", plan.session_limits), ("fired", plan.session_metrics)):
                kept = ms.get(name)
                if kept and prefixes:
                    for sid in old:
                        for prefix in prefixes:
                            kept.pop(prefix + sid, None)

    def _evaluate(
        self,
        state: State,
        event: Happening | None,
        traits: Mapping[str, Any],
        now: int,
        same_traits: bool = False,
    ) -> list[Entry]:
        entries: list[Entry] = []
        totals: dict[str, float] = {}
        signature: int | None = None if self._has_state_rules else 0  # made when first needed
        averages = self.site_averages.get(event.site or "", {}) if event else {}
        ctx = _Context(state, event, traits, totals, averages)
        models: dict[str, Any] = state["models"]
        reads_totals = self._reads_totals
        for plan in self._plans:
            key = plan.key
            half_life = plan.half_life
            ms: dict[str, Any] | None = models.get(key)
            if ms is None:
                ms = models[key] = {}
            local = plan.scenario
            if local is not None and not _in_scenario(state, local, event, now):
                if reads_totals:
                    totals[key] = plan.clamped(total_of(ms, now, half_life))
                continue  # its trait rules are looked at when a run starts
            if same_traits and "traits" in ms:
                traits_changed = False
            else:
                if signature is None:
                    signature = self._signature(traits)
                traits_changed = ms.get("traits") != signature
                if traits_changed:
                    ms["traits"] = signature
            learned = plan.learned
            if learned is not None:
                if traits_changed:
                    new = _learned_entries(plan.published, learned, ms, traits, now)
                    for entry in new:
                        _book(ms, entry, half_life)
                    entries += new
                if reads_totals:
                    totals[key] = float(ms.get("fixed", 0.0))
                continue
            if event is not None and (not plan.scoped or _in_scope(plan.model, event, traits)):
                for run in plan.runs(event):
                    run.run(ms, event, ctx, entries)
            for turn in plan.state if traits_changed or event is None else plan.state_on_models:
                turn(ms, ctx, now, entries)
            if reads_totals:
                totals[key] = plan.clamped(total_of(ms, now, half_life))
        return entries

    def _signature(self, traits: Mapping[str, Any]) -> int:
        """What state rules compare to know whether the traits changed: a digest, the same in
        every process (Python's own hash of bytes is not), since the state keeps it and other
        processes score the lead next. The last mapping seen is remembered by identity
        (callers hand a new mapping when traits change), so a replay of many events with the
        same traits encodes them once."""
        seen = self._seen
        if seen is not None and seen[0] is traits:
            return seen[1]
        encoded = orjson.dumps(traits, option=orjson.OPT_SORT_KEYS, default=str)
        known = self._signatures
        signature = known.get(encoded)
        if signature is None:  # visitors share their traits: a digest is made once for many
            if len(known) >= _SIGNATURES_KEPT:
                known.clear()
            digest = hashlib.blake2b(encoded, digest_size=8).digest()
            signature = known[encoded] = int.from_bytes(digest, signed=True)
        self._seen = (traits, signature)
        return signature


_METRIC_TRIGGERS = {
    "pages_viewed": ("page_view",),
    "engaged_seconds": ("page_ping",),
    "max_scroll": ("scroll",),
    "mouse_intensity": ("mouse_activity",),
    "form_interactions": ("form_start", "form_submit", "form_abandon"),
}
"""Event types that can change a metric; any other metric may change with any event."""

_TypeRuns = tuple[tuple["EventRun", ...], str | None, dict[Any, tuple["EventRun", ...]]]
"""An event type's rules, the field its page-pattern rules read, and the rules left by value."""

StateRun = Callable[[dict[str, Any], "_Context", int, list[Entry]], None]
"""A state rule ready to run: (model state, context, now, entries to add to)."""


class _Plan:
    """Which rules an event can possibly fire, worked out once per published model.

    An event rule is looked at only for its own event types, a metric rule only for events
    that move its metric, a state rule only when the traits changed (or when it reads another
    model's score). Each rule becomes one closure with its condition, limit and ledger
    bookkeeping specialised to it, so scoring an event does no dispatch on rule kinds.
    """

    def __init__(self, published: Published) -> None:
        model = published.model
        self.published = published
        self.model = model
        self.key = model.key
        self.version = published.version
        self.half_life = _half_life_ms(model)
        self.learned = model.learned
        self.scenario = model.scope.scenario
        self.stage_names = frozenset(name for name, _ in model.stages)
        self.bands = model.bands
        self.stages = model.stages
        self.cap_min = model.cap_min
        self.cap_max = model.cap_max
        scope = model.scope
        self.scoped = any(v is not None for v in (scope.site, scope.channel, scope.source))
        self.session_limits = tuple(
            f"{r.key}|s|" for r in model.rules if r.limit is not None and r.limit.per == "session"
        )
        """Prefixes of the uses of per-session limits (`_limit_scoper`), to forget sessions."""
        self.session_metrics = tuple(
            f"{r.key}|" for r in model.rules
            if rule_kind(r) == "metric" and (m := _top_metric(r.when)) and m.per == "session"
        )  # fmt: skip
        """Prefixes of per-session thresholds reached (`_MetricRule`'s scopes)."""
        self.reads_totals = any(
            isinstance(n, ModelCond) for r in model.rules for n in _walk(r.when)
        )
        by_type: dict[str, list[tuple[int, EventRun]]] = {}
        state: list[StateRun] = []
        state_on_models: list[StateRun] = []
        for index, rule in enumerate(model.rules):
            kind = rule_kind(rule)
            if kind == "state":
                turn = _state_run(published, rule)
                state.append(turn)
                if any(isinstance(n, ModelCond) for n in _walk(rule.when)):
                    state_on_models.append(turn)
                continue
            run = (_EventRule if kind == "event" else _MetricRule)(published, rule)
            for event_type in _triggers(rule, kind):
                by_type.setdefault(event_type, []).append((index, run))
        every_type = by_type.pop("*", [])
        self.any_type = tuple(run for _, run in every_type)
        """The rules an event of a type not in `by_type` can fire."""
        self.by_type: dict[str, _TypeRuns] = {}
        """By event type: its rules; when its page-pattern rules all read one field, that
        field and, by its value, the rules left to run (`runs`)."""
        for event_type, pairs in by_type.items():
            runs = _in_rule_order(pairs + every_type)
            fields = {r.pattern for r in runs if isinstance(r, _EventRule) and r.pattern}
            self.by_type[event_type] = (runs, fields.pop() if len(fields) == 1 else None, {})
        self.state: tuple[StateRun, ...] = tuple(state)
        self.state_on_models = tuple(state_on_models)

    def clamped(self, total: float) -> float:
        return clamp(total, self.cap_min, self.cap_max)

    def runs(self, event: Happening) -> tuple[EventRun, ...]:
        """The event and metric rules `event` can fire. Page-pattern rules whose pattern does
        not match are left out by one lookup of the page's value: a site has many such rules
        (a page, a price list, a blog post …) and most pages match none of them."""
        planned = self.by_type.get(event.type)
        if planned is None:
            return self.any_type
        runs, name, known = planned
        if name is None:
            return runs
        value = event.fields.get(name)
        if value is None:  # or not there: then it may be a property
            value = field_value(event.fields, name)
        try:
            left = known.get(value)
        except TypeError:  # not hashable (a list or an object): each rule tests it
            return runs
        if left is None:
            left = tuple(
                r for r in runs if not isinstance(r, _EventRule) or r.pattern is None
                or r.may_match(event)
            )  # fmt: skip
            if len(known) < _PAGES_KNOWN:
                known[value] = left
        return left


def _in_rule_order(runs: list[tuple[int, EventRun]]) -> tuple[EventRun, ...]:
    """The rules in file order, each once (a rule triggered both by its own type and by `*`,
    or by two conditions on one type, is still looked at once per event)."""
    return tuple(dict(sorted(runs, key=lambda pair: pair[0])).values())


class EventRun:
    """An event or metric rule ready to run on an event: it books what it gives in the model
    state and appends the entries. A compiled class rather than a closure: the engine calls
    one for every rule an event can fire, and a method of a compiled class is a direct call,
    where calling a closure goes through Python's calling convention (and its arguments are
    checked again on the way in)."""

    def run(self, ms: dict[str, Any], event: Happening, ctx: _Context, out: list[Entry]) -> None:
        raise NotImplementedError


class _EventRule(EventRun):
    """An event rule: its points once per matching event, within its limit. The event's
    fields are tested first (most events match no rule, and page patterns remember their
    answers), then the limit, so an exhausted rule costs no other condition test."""

    def __init__(self, published: Published, rule: Rule) -> None:
        self.model_key, self.version, self.key = published.model.key, published.version, rule.key
        self.half_life = _half_life_ms(published.model)
        limit = rule.limit
        self.times = limit.times if limit is not None else None
        self.cap = limit.points if limit is not None and rule.points > 0 else None
        self.scope_of = _limit_scoper(rule)
        cond = rule.when
        # a lone event condition is planned only for its own type (or `*`): only `where` is left
        self.fields = (
            compiled_fields(cond.where) if isinstance(cond, EventCond) and cond.where else None
        )
        self.test = None if isinstance(cond, EventCond) else _compiled(cond, False)
        self.pattern = (
            pattern_field(cond.where) if isinstance(cond, EventCond) and cond.where else None
        )
        """The field this rule only matches a page pattern against (`_Plan.runs`)."""
        self.give = _giver(rule)

    def may_match(self, event: Happening) -> bool:
        """Whether the event's fields pass this rule's own test."""
        fields = self.fields
        return fields is None or fields(event.fields, event.type)

    def run(self, ms: dict[str, Any], event: Happening, ctx: _Context, out: list[Entry]) -> None:
        fields = self.fields
        if fields is not None and not fields(event.fields, event.type):
            return  # first: most events match no rule's fields, and the answer is remembered
        scope = self.scope_of(event.session_id, event.ts)
        times = self.times
        if times is not None:
            used = ms.get("times")
            if used is not None and times <= used.get(scope, 0):
                return
        cap = self.cap
        if cap is not None:
            given = ms.get("points")
            if given is not None and cap <= given.get(self.key, 0.0):
                return
        test = self.test
        if test is not None and not test(ctx):
            return
        points = self.give(ms, scope)
        if points == 0:
            return
        uid = event.uid
        entry = Entry(self.model_key, self.version, self.key, "e:" + uid, points, event.ts, uid,
                      True)  # fmt: skip
        _book(ms, entry, self.half_life)
        out.append(entry)


def _limit_scoper(rule: Rule) -> Callable[[str | None, int], str]:
    """Where a rule's limit counts its uses: per lead (the rule's key), per session or per
    day; the prefix worked out once."""
    per = rule.limit.per if rule.limit else "lead"
    key = rule.key
    if per == "session":
        prefix = f"{key}|s|"
        return lambda session, _ts: prefix + (session or "-")
    if per == "day":
        prefix = f"{key}|d|"
        return lambda _session, ts: f"{prefix}{ts // DAY_MS}"
    return lambda _session, _ts: key


class _MetricRule(EventRun):
    """A metric rule: its points when the aggregate reaches the threshold (once per scope) or
    once per step of `every`. The threshold is tested first: most events leave most metric
    rules below theirs, and the test is cheaper than finding the scope's record."""

    def __init__(self, published: Published, rule: Rule) -> None:
        self.model_key, self.version, self.key = published.model.key, published.version, rule.key
        self.half_life = _half_life_ms(published.model)
        metric = _top_metric(rule.when)
        assert metric is not None  # a metric rule has a metric condition
        self.per_session = metric.per == "session"
        self.prefix = rule.key + "|"
        self.every, self.after = metric.every, metric.after
        self.test = _compiled(rule.when, bool(metric.every))
        self.value = _reader(metric)
        self.scope_of = _limit_scoper(rule)
        self.give = _giver(rule)

    def run(self, ms: dict[str, Any], event: Happening, ctx: _Context, out: list[Entry]) -> None:
        if not self.test(ctx):
            return
        session = event.session_id
        scope = self.prefix + (session or "-") if self.per_session else self.key
        fired: dict[str, int] | None = ms.get("fired")
        if fired is None:
            fired = ms["fired"] = {}
        done = fired.get(scope, 0)
        every = self.every
        if every:
            steps = math.floor((self.value(ctx) - self.after) / every)
        elif done >= 1:
            return  # a threshold fires once per scope
        else:
            steps = 1
        while done < steps:
            done += 1
            fired[scope] = done
            points = self.give(ms, self.scope_of(session, event.ts))
            if points == 0:
                break
            entry = Entry(self.model_key, self.version, self.key, f"m:{scope}:{done}", points,
                          event.ts, event.uid, True)  # fmt: skip
            _book(ms, entry, self.half_life)
            out.append(entry)


def _state_run(published: Published, rule: Rule) -> StateRun:
    """A state rule: its points while the condition holds; an entry takes them back when it
    stops holding (`on` counts the turns: odd means on)."""
    model_key, version, key, points = published.model.key, published.version, rule.key, rule.points
    test = _compiled(rule.when, False)

    def turn(ms: dict[str, Any], ctx: _Context, now: int, out: list[Entry]) -> None:
        on: dict[str, int] | None = ms.get("on")
        holds = test(ctx)
        turns = on.get(key, 0) if on is not None else 0
        if holds == bool(turns % 2):
            return
        if on is None:
            on = ms["on"] = {}
        on[key] = turns + 1
        entry = Entry(model_key, version, key, f"s:{turns + 1}", points if holds else -points,
                      now, None, False)  # fmt: skip
        _book(ms, entry, None)  # fit points: they never decay
        out.append(entry)

    return turn


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


Counted = tuple[str, FieldsTest, float | None]
"""A counted event kind: its key, its `where` compiled, and how long its times are kept (ms;
None: for ever, up to `_MAX_TIMES`)."""


class _Counted:
    """The counted event kinds (`{count: …}` metrics) of a set of models, by the event type
    that can add to each, with their `where` compiled once. A kind every condition counts
    within a window keeps only the times of its widest window: a regular's state would
    otherwise carry thousands of times that no rule reads again."""

    def __init__(self, models: list[Published]) -> None:
        found: dict[str, CountMetric] = {}
        windows: dict[str, list[float | None]] = {}
        for p in models:
            for r in p.model.rules:
                for n in _walk(r.when):
                    if isinstance(n, MetricCond) and isinstance(n.metric, CountMetric):
                        key = count_key(n.metric)
                        found[key] = n.metric
                        windows.setdefault(key, []).append(n.within_days)
        kinds = [
            (key, m.event, compiled_fields(m.where), _widest(windows[key]))
            for key, m in found.items()
        ]
        self._any = tuple((key, test, keep) for key, kind, test, keep in kinds if kind == "*")
        self._by_type = {
            kind: tuple(
                (key, test, keep) for key, other, test, keep in kinds if other in ("*", kind)
            )
            for _, kind, _, _ in kinds
            if kind != "*"
        }

    def of(self, event_type: str) -> tuple[Counted, ...]:
        return self._by_type.get(event_type, self._any)


def _widest(windows: list[float | None]) -> float | None:
    """How long a counted kind's times are needed (ms): its widest window, or for ever when
    some condition counts it without one."""
    if any(days is None for days in windows):
        return None
    return max(days for days in windows if days is not None) * DAY_MS


class _Context:
    """What conditions can see while one event (or a trait change) is being scored."""

    __slots__ = ("averages", "event", "session", "state", "totals", "traits")

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
        sid = (event.session_id if event else None) or "-"
        sessions: dict[str, Stats] = state["sessions"]
        self.session: Stats = sessions.get(sid) or new_stats()
        """The event's session aggregates (after the event was observed)."""

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
        stats = self.session if cond.per == "session" else self.state["lifetime"]
        return metric_value(stats, cond.metric)


Test = Callable[["_Context"], bool]


def _reader(cond: MetricCond) -> Callable[[_Context], float]:
    """`_Context.metric` for one condition: a plain session or lifetime aggregate is read
    straight from its stats; the others go the general way."""
    name = cond.metric
    session = cond.per == "session"
    if name == "engaged_seconds":
        if session:
            return lambda ctx: ctx.session.get("engaged_ms", 0.0) / 1000
        return lambda ctx: ctx.state["lifetime"].get("engaged_ms", 0.0) / 1000
    if name not in _PLAIN_STATS:
        return lambda ctx: ctx.metric(cond)
    if session:
        return lambda ctx: float(ctx.session.get(name, 0.0))
    return lambda ctx: float(ctx.state["lifetime"].get(name, 0.0))


_PLAIN_STATS = frozenset(
    {"pages_viewed", "max_scroll", "mouse_intensity", "form_interactions", "events"}
)
"""Metrics that are a stat as kept (`metric_value` reads them with no arithmetic)."""


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
    value = _reader(cond)
    if cond.every:
        if steps_only:
            return lambda ctx: True
        first_step = cond.after + cond.every
        return lambda ctx: value(ctx) >= first_step
    metric_cmp = cond.compare
    assert metric_cmp is not None
    operand = metric_cmp.operand
    if isinstance(operand, SiteAverage):
        average_of = operand.metric

        def against_average(ctx: _Context) -> bool:
            average = ctx.averages.get(average_of)
            # no average known yet: nothing to be longer than
            return average is not None and compare(value(ctx), metric_cmp, average)

        return against_average
    bound_test = _NUMERIC.get(metric_cmp.op)
    if bound_test is not None and isinstance(operand, (int, float)):
        bound = float(operand)  # metrics are always numbers: compare them directly
        name = cond.metric
        if cond.per == "session" and name in _PLAIN_STATS:  # the commonest metric rule
            return _session_test(name, metric_cmp.op, bound)
        return lambda ctx: bound_test(value(ctx), bound)
    return lambda ctx: compare(value(ctx), metric_cmp)


def _session_test(name: str, op: str, bound: float) -> Test:
    """A session aggregate against a number, with the comparison written out: compiled, it is
    one instruction, where a call to an `operator` function costs more than the rest."""
    if op == "gt":
        return lambda ctx: ctx.session.get(name, 0.0) > bound
    if op == "gte":
        return lambda ctx: ctx.session.get(name, 0.0) >= bound
    if op == "lt":
        return lambda ctx: ctx.session.get(name, 0.0) < bound
    return lambda ctx: ctx.session.get(name, 0.0) <= bound


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


def total_of(ms: dict[str, Any], now: int, half_life_ms: float | None) -> float:
    """The model's raw total at `now`: fixed points plus the decaying sum brought to `now`."""
    total = float(ms.get("fixed", 0.0))
    decaying: list[float] | None = ms.get("decaying")
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


def _giver(rule: Rule) -> Callable[[dict[str, Any], str], float]:
    """For one rule: the points it may still give now in a limit's scope (`_limit_scoper`),
    counted as given — 0 when its limit is reached (`times` in the scope, or `points` in all)."""
    limit = rule.limit
    key, points = rule.key, rule.points
    if limit is None:  # nothing to count: a rule without a limit gives its points each time
        return lambda _ms, _scope: points
    times, cap = limit.times, (limit.points if points > 0 else None)

    def give(ms: dict[str, Any], scope: str) -> float:
        used = ms.get("times")
        if used is None:
            used = ms["times"] = {}
        n = used.get(scope, 0)
        if points == 0 or (times is not None and n >= times):
            return 0.0
        given = ms.get("points")
        if given is None:
            given = ms["points"] = {}
        so_far = given.get(key, 0.0)
        allowed = points if cap is None else min(points, cap - so_far)
        if allowed <= 0 and cap is not None:
            return 0.0
        used[scope] = n + 1
        given[key] = so_far + allowed
        return allowed

    return give


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
