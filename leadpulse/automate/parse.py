"""Automation documents (YAML or JSON) to typed values, checked like every other document."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from leadpulse.automate.model import (
    Action,
    Assign,
    AssignRule,
    Automation,
    Email,
    EventTrigger,
    InactiveTrigger,
    LadderTrigger,
    Match,
    ScoreTrigger,
    SegmentTrigger,
    SetStage,
    SetTraits,
    Step,
    Task,
    Trigger,
    Wait,
    Webhook,
)
from leadpulse.core import document as doc
from leadpulse.core.document import DocumentError, Invalid

__all__ = ["AutomationError", "parse_automation"]


class AutomationError(DocumentError):
    code = "invalid_automation"


_KEYS = ("key", "name", "description", "site", "when", "actions", "steps", "exit",
         "cooldown_minutes")  # fmt: skip
_TRIGGERS = ("score", "band", "stage", "event", "inactive", "segment")
_OPERATORS = ("eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "contains", "matches",
              "exists")  # fmt: skip
_ACTIONS = ("webhook", "email", "assign", "task", "tag", "set", "stage")
_MIN_SECRET = 16


def parse_automation(
    source_text: str | bytes | dict[str, Any], source: str = "automation"
) -> Automation:
    return doc.read(source_text, source, AutomationError, _automation)


def _automation(data: dict[str, Any]) -> Automation:
    doc.check_keys(data, _KEYS, "")
    key = doc.key(doc.required(data, "key", ""), "key")
    if "actions" not in data and "steps" not in data:
        raise Invalid("actions", "is required (or steps, for a scenario)")
    if "actions" in data and "steps" in data:
        raise Invalid("actions", "give actions (done at once) or steps (a scenario), not both")
    actions: tuple[Action, ...] = ()
    steps: tuple[Step, ...] = ()
    if "actions" in data:
        listed = doc.list_of(data["actions"], "actions", "actions")
        actions = tuple(_action(a, doc.item("actions", i)) for i, a in enumerate(listed))
    else:
        listed = doc.list_of(data["steps"], "steps", "steps")
        steps = tuple(_step(a, doc.item("steps", i)) for i, a in enumerate(listed))
    if "exit" in data and not steps:
        raise Invalid("exit", "only a scenario (steps) has an exit")
    cooldown = doc.optional(data, "cooldown_minutes", "", doc.at_least_zero)
    return Automation(
        key=key,
        name=doc.optional(data, "name", "", doc.name) or key,
        site=doc.optional(data, "site", "", doc.key),
        trigger=_trigger(doc.required(data, "when", ""), "when"),
        actions=actions,
        steps=steps,
        exit=doc.optional(data, "exit", "", _trigger),
        cooldown_minutes=60 if cooldown is None else cooldown,
    )


_WAIT_UNITS = {"minutes": 1, "hours": 60, "days": 1440}


def _step(raw: Any, path: str) -> Step:
    """An action, or `{wait: {minutes|hours|days: N}}`."""
    data = doc.mapping(raw, path)
    if "wait" not in data:
        return _action(data, path)
    doc.check_keys(data, ("wait",), path)
    where = doc.at(path, "wait")
    wait = doc.mapping(data["wait"], where)
    doc.check_keys(wait, tuple(_WAIT_UNITS), where)
    if len(wait) != 1:
        raise Invalid(where, "needs one of minutes, hours or days")
    unit, amount = next(iter(wait.items()))
    return Wait(doc.positive(amount, doc.at(where, unit)) * _WAIT_UNITS[unit])


def _trigger(raw: Any, path: str) -> Trigger:
    data = doc.mapping(raw, path)
    doc.check_keys(data, _TRIGGERS, path)
    if len(data) != 1:
        raise Invalid(path, f"needs exactly one trigger: {', '.join(_TRIGGERS)}")
    kind, value = next(iter(data.items()))
    where = doc.at(path, kind)
    if kind == "score":
        return _score(value, where)
    if kind == "event":
        return _event(value, where)
    if kind == "segment":
        data = doc.mapping(value, where)
        doc.check_keys(data, ("enters", "leaves"), where)
        if len(data) != 1:
            raise Invalid(where, "needs enters or leaves (a segment's key)")
        move, segment = next(iter(data.items()))
        return SegmentTrigger(doc.key(segment, doc.at(where, move)), move == "enters")
    if kind == "inactive":
        data = doc.mapping(value, where)
        doc.check_keys(data, ("days",), where)
        return InactiveTrigger(
            doc.positive(doc.required(data, "days", where), doc.at(where, "days"))
        )
    return _ladder(kind, value, where)


def _score(raw: Any, path: str) -> ScoreTrigger:
    """`{model: website, above: 60}` (crossing upward) or `{model: website, below: 30}`."""
    data = doc.mapping(raw, path)
    doc.check_keys(data, ("model", "above", "below"), path)
    model = doc.key(doc.required(data, "model", path), doc.at(path, "model"))
    sides = [s for s in ("above", "below") if s in data]
    if len(sides) != 1:
        raise Invalid(path, "needs above (crossing upward) or below (crossing downward)")
    side = sides[0]
    return ScoreTrigger(model, doc.number(data[side], doc.at(path, side)), side == "above")


def _ladder(kind: str, raw: Any, path: str) -> LadderTrigger:
    """`{model: website, becomes: hot}` or `{model: website, leaves: hot}`."""
    data = doc.mapping(raw, path)
    doc.check_keys(data, ("model", "becomes", "leaves"), path)
    model = doc.key(doc.required(data, "model", path), doc.at(path, "model"))
    moves = [m for m in ("becomes", "leaves") if m in data]
    if len(moves) != 1:
        raise Invalid(path, f"needs becomes or leaves (the name of a {kind})")
    move = moves[0]
    name = doc.name(data[move], doc.at(path, move))
    return LadderTrigger("band" if kind == "band" else "stage", model, name, move == "becomes")


def _event(raw: Any, path: str) -> EventTrigger:
    """`{type: offer_submit, where: {offer: callback, url: {matches: '*/pricing*'}}}`."""
    data = doc.mapping(raw, path)
    doc.check_keys(data, ("type", "where"), path)
    kind = doc.name(doc.required(data, "type", path), doc.at(path, "type"))
    where = read_matches(data["where"], doc.at(path, "where")) if "where" in data else ()
    return EventTrigger(kind, where)


def read_matches(raw: Any, path: str) -> tuple[Match, ...]:
    """`{offer: callback, country: [PL, DE], url: {matches: '*/pricing*'}}`."""
    matches: list[Match] = []
    for name, condition in doc.mapping(raw, path).items():
        at = doc.at(path, name)
        if isinstance(condition, Mapping):
            for op, operand in doc.mapping(condition, at).items():
                matches.append(_match(name, op, operand, doc.at(at, op)))
        elif isinstance(condition, list):
            matches.append(Match(name, "in", doc.scalars(condition, at)))
        else:
            matches.append(Match(name, "eq", doc.scalar(condition, at)))
    return tuple(matches)


def _match(name: str, op: str, operand: Any, path: str) -> Match:
    operator = doc.choice(op, _OPERATORS, path, "operator")
    if operator in ("in", "not_in"):
        return Match(name, operator, doc.scalars(operand, path))
    if operator in ("gt", "gte", "lt", "lte"):
        return Match(name, operator, doc.number(operand, path))
    if operator == "exists":
        return Match(name, operator, doc.flag(operand, path))
    if operator == "matches":
        return Match(name, operator, doc.glob(operand, path))
    return Match(name, operator, doc.scalar(operand, path))


def _action(raw: Any, path: str) -> Action:
    data = doc.mapping(raw, path)
    doc.check_keys(data, _ACTIONS, path)
    if len(data) != 1:
        raise Invalid(path, f"an action is one of: {', '.join(_ACTIONS)}")
    kind, value = next(iter(data.items()))
    return _ACTION_READERS[kind](value, doc.at(path, kind))


def _assign(raw: Any, path: str) -> Assign:
    """`{team: sales}`, `{to: anna}`, `{rules: [{match: {country: PL}, to: anna}], team: …}`."""
    data = doc.mapping(raw, path)
    doc.check_keys(data, ("rules", "to", "team", "reassign"), path)
    rules = []
    if "rules" in data:
        where = doc.at(path, "rules")
        for i, rule in enumerate(doc.list_of(data["rules"], where, "rules")):
            at = doc.item(where, i)
            item = doc.mapping(rule, at)
            doc.check_keys(item, ("match", "to"), at)
            match = read_matches(doc.required(item, "match", at), doc.at(at, "match"))
            rules.append(AssignRule(match, doc.key(doc.required(item, "to", at), doc.at(at, "to"))))
    return Assign(
        rules=tuple(rules),
        to=doc.optional(data, "to", path, doc.key),
        team=doc.optional(data, "team", path, doc.name),
        reassign=doc.optional(data, "reassign", path, doc.flag) or False,
    )


def _task(raw: Any, path: str) -> Task:
    data = doc.mapping(raw, path)
    doc.check_keys(data, ("kind", "due_minutes", "note"), path)
    return Task(
        kind=doc.optional(data, "kind", path, doc.key) or "callback",
        due_minutes=doc.optional(data, "due_minutes", path, doc.at_least_zero) or 0,
        note=doc.optional(data, "note", path, doc.string) or "",
    )


def _email(raw: Any, path: str) -> Email:
    """`{to: lead | owner | someone@example.com, subject: …, text: …}`."""
    data = doc.mapping(raw, path)
    doc.check_keys(data, ("to", "subject", "text"), path)
    to = doc.name(doc.required(data, "to", path), doc.at(path, "to"))
    if to not in ("lead", "owner") and ("@" not in to or " " in to.strip()):
        raise Invalid(doc.at(path, "to"), f"must be lead, owner or an email address, got {to!r}")
    return Email(
        to=to.strip(),
        subject=doc.name(doc.required(data, "subject", path), doc.at(path, "subject")),
        text=doc.name(doc.required(data, "text", path), doc.at(path, "text")),
    )


def _webhook(raw: Any, path: str) -> Webhook:
    data = doc.mapping(raw, path)
    doc.check_keys(data, ("url", "secret"), path)
    url = doc.name(doc.required(data, "url", path), doc.at(path, "url"))
    try:
        parts = urlsplit(url)
    except ValueError:  # 'http://[': an unclosed IPv6 bracket
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise Invalid(doc.at(path, "url"), f"must be an http(s) URL, got {url!r}")
    secret = doc.name(doc.required(data, "secret", path), doc.at(path, "secret"))
    if len(secret) < _MIN_SECRET:
        raise Invalid(
            doc.at(path, "secret"),
            f"must be at least {_MIN_SECRET} characters (the receiver checks signatures with it)",
        )
    return Webhook(url, secret)


def _tag(raw: Any, path: str) -> SetTraits:
    """`tag: vip` or `tag: [vip, callback-offer]`."""
    tags = raw if isinstance(raw, list) else [raw]
    return SetTraits(tags=tuple(doc.name(t, doc.item(path, i)) for i, t in enumerate(tags)))


def _set(raw: Any, path: str) -> SetTraits:
    """`set: {plan: pro, lifecycle: customer}`."""
    data = doc.mapping(raw, path)
    if not data:
        raise Invalid(path, "name at least one trait to set")
    return SetTraits(traits=tuple((k, doc.scalar(v, doc.at(path, k))) for k, v in data.items()))


def _stage(raw: Any, path: str) -> SetStage:
    """`stage: {model: website, set: sql}`; `set: null` lets the points decide again."""
    data = doc.mapping(raw, path)
    doc.check_keys(data, ("model", "set"), path)
    if "set" not in data:
        raise Invalid(doc.at(path, "set"), "is required: a stage of the model, or null")
    stage = data["set"]
    return SetStage(
        model=doc.key(doc.required(data, "model", path), doc.at(path, "model")),
        stage=None if stage is None else doc.name(stage, doc.at(path, "set")),
    )


_ACTION_READERS: dict[str, Callable[[Any, str], Action]] = {
    "webhook": _webhook,
    "email": _email,
    "assign": _assign,
    "task": _task,
    "tag": _tag,
    "set": _set,
    "stage": _stage,
}
