"""Model files to `Model` values: check everything, fail with the file, the rule and the path.

A model arrives as YAML or JSON text (JSON is YAML) or as an already-decoded dict (the API).
Every key is checked against a closed list, so a typo fails loudly, with a suggestion, instead
of silently turning a rule off. The format is documented in docs/scoring.md.
"""

from __future__ import annotations

import pathlib
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, TypeVar, get_args

from leadpulse.core.document import (
    DocumentError,
    load_yaml,
)
from leadpulse.core.document import (
    Invalid as _Invalid,
)
from leadpulse.core.document import (
    at as _at,
)
from leadpulse.core.document import (
    at_least_zero as _at_least_zero,
)
from leadpulse.core.document import (
    check_keys as _check_keys,
)
from leadpulse.core.document import (
    choice as _choice,
)
from leadpulse.core.document import (
    describe as _describe,
)
from leadpulse.core.document import (
    flag as _flag,
)
from leadpulse.core.document import (
    glob as _glob,
)
from leadpulse.core.document import (
    guess as _guess,
)
from leadpulse.core.document import (
    item as _item,
)
from leadpulse.core.document import (
    key as _key,
)
from leadpulse.core.document import (
    list_of as _list,
)
from leadpulse.core.document import (
    mapping as _mapping,
)
from leadpulse.core.document import (
    name as _name,
)
from leadpulse.core.document import (
    number as _number,
)
from leadpulse.core.document import (
    optional as _optional,
)
from leadpulse.core.document import (
    pair as _pair,
)
from leadpulse.core.document import (
    positive as _positive,
)
from leadpulse.core.document import (
    required as _required,
)
from leadpulse.core.document import (
    scalar as _scalar,
)
from leadpulse.core.document import (
    scalars as _scalars,
)
from leadpulse.core.document import (
    show as _show,
)
from leadpulse.core.document import (
    string as _string,
)
from leadpulse.core.document import (
    times as _times,
)
from leadpulse.scoring.learned import FORMAT as LEARNED_FORMAT
from leadpulse.scoring.learned import Learned, Tree
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


class ModelError(DocumentError):
    """A model is not valid: `message` is `{source}: {path}: {reason}`, `field` the path."""

    code = "invalid_model"


# -- public API -----------------------------------------------------------------------------


def parse_model(source_text: str | bytes | dict[str, Any], source: str = "model") -> Model:
    """A checked `Model` from YAML/JSON text or a decoded dict; `source` prefixes errors."""
    # not `isinstance(source_text, dict)`: a decoded JSON body may be a list, reported below
    data: Any = source_text
    if isinstance(source_text, str | bytes):
        data = load_yaml(source_text, source, ModelError)
    try:
        return _model(data)
    except _Invalid as err:
        where = f"{err.shown}: " if err.path else ""
        field = err.path or None
        raise ModelError(f"{source}: {where}{err.reason}", field=field) from None
    except RecursionError:
        raise ModelError(
            f"{source}: nested too deeply, or refers to itself (YAML anchors)"
        ) from None


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


# -- the model ------------------------------------------------------------------------------


def _model(raw: Any) -> Model:
    if raw is None:
        raise _Invalid("", "the model is empty")
    if not isinstance(raw, Mapping):
        raise _Invalid("", f"the top level must be a mapping (key, rules, …), got {_describe(raw)}")
    data = _mapping(raw, "")
    if data.get("format") == LEARNED_FORMAT:
        return _learned_model(data)
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


_LEARNED_KEYS = (
    "format", "version", "key", "name", "description", "bands", "stages", "params", "features",
    "codes", "baseline", "trees",
)  # fmt: skip
_TREE_KEYS = ("feature", "threshold", "missing_left", "left", "right", "leaf", "value", "expected")


def _learned_model(data: Mapping[str, Any]) -> Model:
    """A lookalike file from `leadpulse learn --lookalike`, with a `key` (and optionally a
    name, bands and stages on its 0–100 scale)."""
    _check_keys(data, _LEARNED_KEYS, "")
    if "key" not in data:
        raise _Invalid("key", 'is required: add `"key": "lookalike"` to the file')
    key = _key(data["key"], "key")
    listed = _list(_required(data, "features", ""), "features", "column names")
    features = tuple(_name(f, _item("features", i)) for i, f in enumerate(listed))
    codes_raw = _mapping(data.get("codes", {}), "codes")
    codes = {
        name: {
            str(k): _number(v, _at(_at("codes", name), str(k)))
            for k, v in _mapping(values, _at("codes", name)).items()
        }
        for name, values in codes_raw.items()
    }
    listed = _list(_required(data, "trees", ""), "trees", "trees")
    trees = tuple(_tree(t, _item("trees", i), len(features)) for i, t in enumerate(listed))
    return Model(
        key=key,
        name=_optional(data, "name", "", _name) or key,
        kind="fit",
        rules=(),
        description=_optional(data, "description", "", _string),
        bands=_optional(data, "bands", "", _ladder) or (),
        stages=_optional(data, "stages", "", _ladder) or (),
        learned=Learned(
            features, codes, _number(_required(data, "baseline", ""), "baseline"), trees
        ),
    )


def _tree(raw: Any, path: str, n_features: int) -> Tree:
    data = _mapping(raw, path)
    _check_keys(data, _TREE_KEYS, path)
    arrays = {k: _list(_required(data, k, path), _at(path, k), "values") for k in _TREE_KEYS[:-1]}
    size = len(arrays["leaf"])
    if size == 0 or any(len(v) != size for v in arrays.values()):
        raise _Invalid(path, "every array of a tree must have one entry per node")

    def each(name: str, read: Callable[[Any, str], _T]) -> tuple[_T, ...]:
        return tuple(read(v, _item(_at(path, name), i)) for i, v in enumerate(arrays[name]))

    left, right, feature = each("left", _index), each("right", _index), each("feature", _index)
    leaf = each("leaf", _bit)
    for node in range(size):
        # children after their parent: a tree can be walked, never looped
        ahead = all(node < child < size for child in (left[node], right[node]))
        if not leaf[node] and (not ahead or not 0 <= feature[node] < n_features):
            raise _Invalid(_at(path, str(node)), "a split must name a feature and two later nodes")
    return Tree(
        feature=feature,
        threshold=each("threshold", _number),
        missing_left=each("missing_left", _bit),
        left=left,
        right=right,
        leaf=leaf,
        value=each("value", _number),
    )


def _index(value: Any, path: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise _Invalid(path, f"must be a whole number, got {_describe(value)}")


def _bit(value: Any, path: str) -> bool:
    """true/false, or 1/0 as the learner writes them."""
    if isinstance(value, bool):
        return value
    if value in (0, 1) and isinstance(value, int):
        return bool(value)
    raise _Invalid(path, f"must be true or false (or 1 or 0), got {_describe(value)}")


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


# -- operators and operands -----------------------------------------------------------------


def _compare(op: str, operand: Any, path: str) -> Compare:
    """`op` checked against the operators, `operand` against what `op` needs."""
    operator = _choice(op, _OPERATOR_NAMES, path, "operator")
    return Compare(operator, _OPERANDS[operator](operand, path))


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
