"""Model files to `Model` values: check everything, fail with the file, the rule and the path.

A model arrives as YAML or JSON text (JSON is YAML) or as an already-decoded dict (the API).
Every key is checked against a closed list, so a typo fails loudly, with a suggestion, instead
of silently turning a rule off. The format is documented in docs/scoring.md.
"""

from __future__ import annotations

import difflib
import math
import pathlib
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, TypeVar, get_args

import yaml

from leadpulse.core.errors import InvalidInput
from leadpulse.scoring.model import (
    METRICS,
    OPERATORS,
    AllCond,
    AnyCond,
    Compare,
    Condition,
    CountMetric,
    EventCond,
    FieldCond,
    Limit,
    MetricCond,
    Model,
    ModelCond,
    NotCond,
    Operator,
    Rule,
    Scope,
    SiteAverage,
    TraitCond,
)

__all__ = ["ModelError", "load_model_file", "parse_model"]

_T = TypeVar("_T")
_C = TypeVar("_C", bound=str)

_KEY = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_MODEL_KEYS = (
    "key", "name", "kind", "description", "scope", "decay", "cap", "bands", "stages", "rules"
)  # fmt: skip
_MODEL_KINDS: tuple[Literal["fit", "engagement", "mixed"], ...] = ("fit", "engagement", "mixed")
_SCOPE_KEYS = ("site", "channel", "source", "scenario")
_RULE_KEYS = ("key", "description", "when", "points", "limit")
_LIMIT_KEYS = ("times", "per", "points")
_LIMIT_PERIODS: tuple[Literal["lead", "session", "day"], ...] = ("lead", "session", "day")
_CONDITION_KINDS = ("event", "metric", "trait", "model", "all", "any", "not")
_METRIC_KEYS = ("metric", "per", "every", "after", "within_days")
_METRIC_PERIODS: tuple[Literal["session", "lifetime"], ...] = ("session", "lifetime")
_METRIC_OPERATORS = ("gt", "gte", "lt", "lte", "eq", "ne", "between")
_BOUNDS = ("gt", "gte", "lt", "lte")
_LIFETIME_ONLY = ("sessions", "days_since_last_seen")
_OPERATOR_NAMES: tuple[Operator, ...] = get_args(Operator)

_SPELLINGS = {
    ">": "gt", ">=": "gte", "=>": "gte", "gt=": "gte",
    "<": "lt", "<=": "lte", "=<": "lte", "lt=": "lte",
    "=": "eq", "==": "eq", "!=": "ne", "<>": "ne",
}  # fmt: skip
"""Comparison spellings from other languages, which difflib cannot relate to our names."""


class ModelError(InvalidInput):
    """A model is not valid: `message` is `{source}: {path}: {reason}`, `field` the path."""

    code = "invalid_model"


class _Invalid(Exception):
    """A problem at `path`; `parse_model` adds the source and turns it into a `ModelError`.

    `shown` is the path as printed: the same, plus the rule key once the rule is known.
    """

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(reason)
        self.path = path
        self.reason = reason
        self.shown = path

    def in_rule(self, prefix: str, key: str) -> _Invalid:
        """Name the rule: `rules[3].when` is shown as `rules[3] (active_40s).when`."""
        if self.path.startswith(prefix):
            self.shown = f"{prefix} ({key}){self.path[len(prefix) :]}"
        return self


# -- public API -----------------------------------------------------------------------------


def parse_model(source_text: str | bytes | dict[str, Any], source: str = "model") -> Model:
    """A checked `Model` from YAML/JSON text or a decoded dict; `source` prefixes errors."""
    # not `isinstance(source_text, dict)`: a decoded JSON body may be a list, reported below
    data: Any = source_text
    if isinstance(source_text, str | bytes):
        data = _load_yaml(source_text, source)
    try:
        return _model(data)
    except _Invalid as err:
        where = f"{err.shown}: " if err.path else ""
        field = err.path or None
        raise ModelError(f"{source}: {where}{err.reason}", field=field) from None


def load_model_file(path: str | pathlib.Path) -> Model:
    """Read and parse a model file; errors name the file."""
    file = pathlib.Path(path)
    try:
        text = file.read_bytes()
    except FileNotFoundError:
        raise ModelError(f"{file}: no such file") from None
    except OSError as err:
        raise ModelError(f"{file}: cannot read ({err.strerror or err})") from None
    return parse_model(text, file.name)


def _load_yaml(text: str | bytes, source: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = err.problem or err.context or "syntax error"
        raise ModelError(f"{source}: {where}invalid YAML: {problem}") from err
    except yaml.YAMLError as err:
        raise ModelError(f"{source}: invalid YAML: {' '.join(str(err).split())}") from err


# -- the model ------------------------------------------------------------------------------


def _model(raw: Any) -> Model:
    if raw is None:
        raise _Invalid("", "the model is empty")
    if not isinstance(raw, Mapping):
        raise _Invalid("", f"the top level must be a mapping (key, rules, …), got {_describe(raw)}")
    data = _mapping(raw, "")
    _check_keys(data, _MODEL_KEYS, "")
    key = _key(_required(data, "key", ""), "key")
    name = _optional(data, "name", "", _name) or key
    kind = _choice(data.get("kind", "mixed"), _MODEL_KINDS, "kind", "kind")
    description = _optional(data, "description", "", _string)
    scope = _optional(data, "scope", "", _scope) or Scope()
    half_life = _optional(data, "decay", "", _decay)
    cap_min, cap_max = _optional(data, "cap", "", _cap) or (None, None)
    bands = _optional(data, "bands", "", _ladder) or ()
    stages = _optional(data, "stages", "", _ladder) or ()
    rules = _rules(_required(data, "rules", ""), "rules")
    return Model(
        key=key,
        name=name,
        kind=kind,
        rules=rules,
        scope=scope,
        half_life_days=half_life,
        cap_min=cap_min,
        cap_max=cap_max,
        bands=bands,
        stages=stages,
        description=description,
    )


def _scope(raw: Any, path: str) -> Scope:
    data = _mapping(raw, path)
    _check_keys(data, _SCOPE_KEYS, path)
    return Scope(**{k: _name(v, _at(path, k)) for k, v in data.items()})


def _decay(raw: Any, path: str) -> float:
    data = _mapping(raw, path)
    _check_keys(data, ("half_life_days",), path)
    return _positive(_required(data, "half_life_days", path), _at(path, "half_life_days"))


def _cap(raw: Any, path: str) -> tuple[float | None, float | None]:
    data = _mapping(raw, path)
    _check_keys(data, ("min", "max"), path)
    low = _optional(data, "min", path, _number)
    high = _optional(data, "max", path, _number)
    if low is None and high is None:
        raise _Invalid(path, "a cap needs min, max or both")
    if low is not None and high is not None and low >= high:
        raise _Invalid(path, f"min ({_show(low)}) must be below max ({_show(high)})")
    return low, high


def _ladder(raw: Any, path: str) -> tuple[tuple[str, float], ...]:
    """Bands or stages: name → lower bound, written in strictly ascending order."""
    steps: list[tuple[str, float]] = []
    for name, bound in _mapping(raw, path).items():
        at = _at(path, name)
        value = _number(bound, at)
        if steps and value <= steps[-1][1]:
            below, low = steps[-1]
            raise _Invalid(
                at,
                f"bounds must ascend in file order: {_show(value)} is not above "
                f"{below} ({_show(low)})",
            )
        steps.append((name, value))
    return tuple(steps)


# -- rules ----------------------------------------------------------------------------------


def _rules(raw: Any, path: str) -> tuple[Rule, ...]:
    items = _list(raw, path, "rules")
    first: dict[str, int] = {}
    rules: list[Rule] = []
    for i, item in enumerate(items):
        at = _item(path, i)
        rule = _rule(item, at)
        if rule.key in first:
            earlier = _item(path, first[rule.key])
            reason = f"duplicate rule key {rule.key!r} (first used by {earlier})"
            raise _Invalid(_at(at, "key"), reason).in_rule(at, rule.key)
        first[rule.key] = i
        rules.append(rule)
    return tuple(rules)


def _rule(raw: Any, path: str) -> Rule:
    data = _mapping(raw, path)
    key = data.get("key")
    try:
        return _rule_fields(data, path)
    except _Invalid as err:
        if isinstance(key, str) and _KEY.fullmatch(key):
            err.in_rule(path, key)
        raise


def _rule_fields(data: dict[str, Any], path: str) -> Rule:
    _check_keys(data, _RULE_KEYS, path)
    key = _key(_required(data, "key", path), _at(path, "key"))
    when = _condition(_required(data, "when", path), _at(path, "when"))
    points = _number(_required(data, "points", path), _at(path, "points"))
    if points == 0:
        raise _Invalid(_at(path, "points"), "must not be 0 (the rule would do nothing)")
    return Rule(
        key=key,
        when=when,
        points=points,
        limit=_optional(data, "limit", path, _limit),
        description=_optional(data, "description", path, _string),
    )


def _limit(raw: Any, path: str) -> Limit:
    data = _mapping(raw, path)
    _check_keys(data, _LIMIT_KEYS, path)
    times = _optional(data, "times", path, _times)
    points = _optional(data, "points", path, _positive)
    if times is None and points is None:
        raise _Invalid(path, "a limit needs times, points or both")
    per = _choice(data.get("per", "lead"), _LIMIT_PERIODS, _at(path, "per"), "period")
    return Limit(times=times, per=per, points=points)


# -- conditions -----------------------------------------------------------------------------


def _condition(raw: Any, path: str) -> Condition:
    data = _mapping(raw, path)
    kinds = [k for k in _CONDITION_KINDS if k in data]
    if len(kinds) > 1:
        found = " and ".join(repr(k) for k in kinds)
        raise _Invalid(path, f"a condition has one kind key, found {found} (combine with all)")
    if not kinds:
        for key in data:
            guess = _guess(key, _CONDITION_KINDS)
            if guess is not None:
                raise _Invalid(_at(path, key), f"unknown key {key!r} (did you mean {guess!r}?)")
        raise _Invalid(path, f"a condition needs one of: {', '.join(_CONDITION_KINDS)}")
    return _CONDITIONS[kinds[0]](data, path)


def _event(data: dict[str, Any], path: str) -> EventCond:
    _check_keys(data, ("event", "where"), path)
    event = _name(data["event"], _at(path, "event"))
    return EventCond(event, _optional(data, "where", path, _where) or ())


def _where(raw: Any, path: str) -> tuple[FieldCond, ...]:
    """`{url: {matches: …}, depth: {gte: 75}, plan: pro, country: [de, at]}`.

    A plain value is shorthand for `eq`, a list for `in`; several operators must all hold.
    """
    conditions: list[FieldCond] = []
    for name, spec in _mapping(raw, path).items():
        at = _at(path, name)
        if not name:
            raise _Invalid(at, "a field name must not be empty")
        if isinstance(spec, Mapping):
            operators = _mapping(spec, at)
            if not operators:
                raise _Invalid(at, f"needs an operator: {', '.join(OPERATORS)}")
            compares = [_compare(op, value, _at(at, op)) for op, value in operators.items()]
        else:
            compares = [_compare("in" if isinstance(spec, list) else "eq", spec, at)]
        conditions.extend(FieldCond(name, c) for c in compares)
    return tuple(conditions)


def _trait(data: dict[str, Any], path: str) -> TraitCond:
    _check_keys(data, ("trait", *OPERATORS), path)
    trait = _name(data["trait"], _at(path, "trait"))
    return TraitCond(trait, _single_compare(data, path, "a trait condition"))


def _model_cond(data: dict[str, Any], path: str) -> ModelCond:
    _check_keys(data, ("model", *OPERATORS), path)
    model = _key(data["model"], _at(path, "model"))
    return ModelCond(model, _single_compare(data, path, "a model condition"))


def _single_compare(data: dict[str, Any], path: str, what: str) -> Compare:
    operators = [k for k in data if k in OPERATORS]
    if len(operators) != 1:
        raise _Invalid(path, _operator_count(what, operators, OPERATORS))
    op = operators[0]
    return _compare(op, data[op], _at(path, op))


def _operator_count(what: str, found: Sequence[str], allowed: Sequence[str]) -> str:
    if not found:
        return f"{what} needs one operator: {', '.join(allowed)}"
    listed = " and ".join(repr(op) for op in found)
    return f"{what} takes one operator, found {listed} (use between, or combine with all)"


def _metric(data: dict[str, Any], path: str) -> MetricCond:
    """`{metric: NAME | {count: TYPE, where}, per, <comparison> | every [after], within_days}`."""
    for key in data:
        if key in OPERATORS and key not in _METRIC_OPERATORS:
            allowed = ", ".join(_METRIC_OPERATORS)
            raise _Invalid(_at(path, key), f"{key!r} does not apply to a metric; use {allowed}")
    _check_keys(data, (*_METRIC_KEYS, *_METRIC_OPERATORS), path)
    metric = _metric_name(data["metric"], _at(path, "metric"))
    per = _choice(data.get("per", "lifetime"), _METRIC_PERIODS, _at(path, "per"), "period")
    if per == "session" and metric in _LIFETIME_ONLY:
        raise _Invalid(
            _at(path, "per"), f"{metric!r} is a lifetime metric; per: session does not apply"
        )
    within = _optional(data, "within_days", path, _positive)
    if within is not None and not isinstance(metric, CountMetric):
        raise _Invalid(_at(path, "within_days"), "needs a count metric (metric: {count: TYPE})")
    operators = [k for k in data if k in _METRIC_OPERATORS]
    if "every" in data:
        if operators:
            found = f"every and {operators[0]!r}"
            raise _Invalid(path, f"a metric condition takes every or a comparison, not {found}")
        every = _positive(data["every"], _at(path, "every"))
        after = _at_least_zero(data.get("after", 0), _at(path, "after"))
        return MetricCond(metric, per, None, every=every, after=after, within_days=within)
    if "after" in data:
        raise _Invalid(_at(path, "after"), "after goes with every")
    if len(operators) != 1:
        raise _Invalid(path, _operator_count("a metric condition", operators, _METRIC_OPERATORS))
    op = operators[0]
    compare = _metric_compare(op, data[op], _at(path, op), per)
    return MetricCond(metric, per, compare, within_days=within)


def _metric_name(raw: Any, path: str) -> str | CountMetric:
    if not isinstance(raw, Mapping):
        return _choice(raw, METRICS, path, "metric")
    data = _mapping(raw, path)
    _check_keys(data, ("count", "where"), path)
    event = _name(_required(data, "count", path), _at(path, "count"))
    return CountMetric(event, _optional(data, "where", path, _where) or ())


def _metric_compare(op: str, operand: Any, path: str, per: str) -> Compare:
    """A comparison, where a bound may be `{site_average: METRIC}` for per-session metrics."""
    if op not in _BOUNDS or not isinstance(operand, Mapping):
        return _compare(op, operand, path)
    data = _mapping(operand, path)
    _check_keys(data, ("site_average",), path)
    at = _at(path, "site_average")
    metric = _choice(_required(data, "site_average", path), METRICS, at, "metric")
    if metric in _LIFETIME_ONLY:
        raise _Invalid(at, f"{metric!r} is a lifetime metric and has no per-session average")
    if per != "session":
        raise _Invalid(at, "a site average compares sessions; it needs per: session")
    return Compare(_choice(op, _OPERATOR_NAMES, path, "operator"), SiteAverage(metric))


def _all(data: dict[str, Any], path: str) -> AllCond:
    return AllCond(_members(data, "all", path))


def _any(data: dict[str, Any], path: str) -> AnyCond:
    return AnyCond(_members(data, "any", path))


def _members(data: dict[str, Any], kind: str, path: str) -> tuple[Condition, ...]:
    _check_keys(data, (kind,), path)
    at = _at(path, kind)
    items = _list(data[kind], at, "conditions")
    return tuple(_condition(item, _item(at, i)) for i, item in enumerate(items))


def _not(data: dict[str, Any], path: str) -> NotCond:
    _check_keys(data, ("not",), path)
    return NotCond(_condition(data["not"], _at(path, "not")))


_CONDITIONS: dict[str, Callable[[dict[str, Any], str], Condition]] = {
    "event": _event,
    "metric": _metric,
    "trait": _trait,
    "model": _model_cond,
    "all": _all,
    "any": _any,
    "not": _not,
}


# -- values ---------------------------------------------------------------------------------


def _mapping(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise _Invalid(path, f"must be a mapping, got {_describe(value)}")
    for key in value:
        if not isinstance(key, str):
            raise _Invalid(_at(path, str(key)), f"key {key!r} must be a string (quote it)")
    return dict(value)


def _list(value: Any, path: str, of: str) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise _Invalid(path, f"must be a non-empty list of {of}, got {_describe(value)}")
    return value


def _check_keys(data: Mapping[str, Any], allowed: Sequence[str], path: str) -> None:
    for key in data:
        if key not in allowed:
            raise _Invalid(_at(path, key), _unknown(key, allowed, "key"))


def _required(data: Mapping[str, Any], key: str, path: str) -> Any:
    if key not in data:
        raise _Invalid(_at(path, key), "is required")
    return data[key]


def _optional(
    data: Mapping[str, Any], key: str, path: str, parse: Callable[[Any, str], _T]
) -> _T | None:
    return parse(data[key], _at(path, key)) if key in data else None


def _choice(value: Any, choices: Sequence[_C], path: str, noun: str) -> _C:
    for choice in choices:
        if value == choice:
            return choice
    if isinstance(value, str):
        raise _Invalid(path, _unknown(value, choices, noun))
    raise _Invalid(path, f"must be one of: {', '.join(choices)}; got {_describe(value)}")


def _key(value: Any, path: str) -> str:
    if not isinstance(value, str) or not _KEY.fullmatch(value):
        raise _Invalid(
            path,
            f"{_describe(value)} is not a valid key: use 1-64 lowercase letters, digits, '_' "
            "or '-', starting with a letter or digit",
        )
    return value


def _name(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Invalid(path, f"must be a non-empty string, got {_describe(value)}")
    return value


def _string(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise _Invalid(path, f"must be a string, got {_describe(value)}")
    return value


def _number(value: Any, path: str) -> float:
    """An int or a finite float; `true` is not 1 here, and a string is never a number."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if math.isfinite(number):
            return number
    raise _Invalid(path, f"must be a number, got {_describe(value)}")


def _positive(value: Any, path: str) -> float:
    number = _number(value, path)
    if number <= 0:
        raise _Invalid(path, f"must be greater than 0, got {_show(number)}")
    return number


def _at_least_zero(value: Any, path: str) -> float:
    number = _number(value, path)
    if number < 0:
        raise _Invalid(path, f"must be 0 or more, got {_show(number)}")
    return number


def _times(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _Invalid(path, f"must be a whole number of at least 1, got {_describe(value)}")
    return value


# -- operators and operands -----------------------------------------------------------------


def _compare(op: str, operand: Any, path: str) -> Compare:
    """`op` checked against the operators, `operand` against what `op` needs."""
    operator = _choice(op, _OPERATOR_NAMES, path, "operator")
    return Compare(operator, _OPERANDS[operator](operand, path))


def _scalar(value: Any, path: str) -> str | int | float | bool:
    if isinstance(value, str | bool | int) or (isinstance(value, float) and math.isfinite(value)):
        return value
    hint = " (to test for a missing value use exists: false)" if value is None else ""
    raise _Invalid(path, f"must be a string, number or boolean, got {_describe(value)}{hint}")


def _scalars(value: Any, path: str) -> tuple[str | int | float | bool, ...]:
    items = _list(value, path, "values")
    return tuple(_scalar(item, _item(path, i)) for i, item in enumerate(items))


def _pair(value: Any, path: str) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) != 2:
        raise _Invalid(path, f"must be a list of two numbers [low, high], got {_describe(value)}")
    low, high = (_number(item, _item(path, i)) for i, item in enumerate(value))
    if low > high:
        raise _Invalid(path, f"low ({_show(low)}) must not be above high ({_show(high)})")
    return low, high


def _glob(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise _Invalid(path, f"must be a glob pattern such as '*/pricing*', got {_describe(value)}")
    return value


def _flag(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(path, f"must be true or false, got {_describe(value)}")
    return value


_OPERANDS: dict[str, Callable[[Any, str], Any]] = {
    "eq": _scalar,
    "ne": _scalar,
    "in": _scalars,
    "not_in": _scalars,
    "gt": _number,
    "gte": _number,
    "lt": _number,
    "lte": _number,
    "between": _pair,
    "contains": _scalar,
    "matches": _glob,
    "exists": _flag,
}


# -- messages -------------------------------------------------------------------------------


def _at(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _item(path: str, index: int) -> str:
    return f"{path}[{index}]"


def _guess(word: str, allowed: Sequence[str]) -> str | None:
    spelled = _SPELLINGS.get(word.strip().lower())
    if spelled is not None and spelled in allowed:
        return spelled
    found = difflib.get_close_matches(word.lower(), allowed, n=1)
    return found[0] if found else None


def _unknown(word: str, allowed: Sequence[str], noun: str) -> str:
    """`unknown metric 'page_veiws' (did you mean 'pages_viewed'?)`; an operator is named so."""
    guess = _guess(word, allowed)
    if guess is None:
        return f"unknown {noun} {word!r} (expected one of: {', '.join(allowed)})"
    if guess in OPERATORS:
        noun = "operator"
    return f"unknown {noun} {word!r} (did you mean {guess!r}?)"


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        count = len(value)
        return f"a list of {count} item{'' if count == 1 else 's'}" if value else "an empty list"
    if isinstance(value, Mapping):
        return "a mapping" if value else "an empty mapping"
    return f"a {type(value).__name__}"


def _show(number: float) -> str:
    return str(int(number)) if number.is_integer() else repr(number)
