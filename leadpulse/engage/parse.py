"""Offer and personalisation documents (YAML or JSON) to typed values, checked thoroughly.

The format is documented in docs/offers.md. Errors name the source, the path and the reason,
with a did-you-mean for misspelt keys, like scoring models.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Literal, cast, get_args

from leadpulse.core import document as doc
from leadpulse.core.document import DocumentError, Invalid
from leadpulse.engage.model import (
    Change,
    Check,
    Content,
    Definition,
    Field,
    Frequency,
    Kind,
    Offer,
    Operand,
    Operator,
    Personalization,
    When,
)

__all__ = ["VISIT_VALUES", "EngageError", "parse_definition"]


class EngageError(DocumentError):
    """An offer or a personalisation is not valid."""

    code = "invalid_definition"


VISIT_VALUES = (
    "keyword", "channel", "source", "medium", "campaign", "landing_page", "referrer_host",
    "country", "region", "city", "browser", "os", "device", "language", "page", "path", "known",
    "segments", "visits",
)  # fmt: skip
"""What a condition can look at, besides `traits.*`, `score.*`, `band.*` and `stage.*`."""

_PREFIXES = ("traits.", "score.", "band.", "stage.")
_OPERATORS: tuple[Operator, ...] = get_args(Operator)

_WHEN_KEYS = (
    "score", "band", "stage", "segment", "page", "match", "any", "exit_intent",
    "seconds_on_page", "scroll_depth",
)  # fmt: skip
_MOMENTS = ("exit_intent", "seconds_on_page", "scroll_depth")
_OFFER_KEYS = ("key", "name", "description", "site", "when", "show", "frequency", "holdout")
_SHOW_KEYS = ("title", "text", "button", "close", "confirm", "fields")
_FIELD_KEYS = ("name", "label", "type", "required")
_FIELD_TYPES = ("text", "email", "tel", "number", "textarea")
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]{0,63}")
_STANDARD_LABELS = {"email": "Email", "phone": "Phone", "name": "Name", "company": "Company"}
_STANDARD_TYPES = {"email": "email", "phone": "tel"}
_FREQUENCY_KEYS = ("once_per", "after_close_days")
_ONCE_PER: tuple[Literal["page", "session", "day", "visitor"], ...] = (
    "page", "session", "day", "visitor",
)  # fmt: skip
_PERSONALIZATION_KEYS = ("key", "name", "description", "site", "when", "changes", "holdout")
_CHANGE_KEYS = ("selector", "text", "html", "attribute", "value")
_ATTRIBUTE = re.compile(r"[A-Za-z_:][-A-Za-z0-9_:.]*")
_UNSAFE_ATTRIBUTES = ("srcdoc", "style")


def parse_definition(
    kind: Kind, source_text: str | bytes | dict[str, Any], source: str = "definition"
) -> Definition:
    """A checked offer or personalisation from YAML/JSON text or a decoded dict."""
    build: Callable[[dict[str, Any]], Definition] = _offer if kind == "offer" else _personalization
    return doc.read(source_text, source, EngageError, build)


# -- offers ---------------------------------------------------------------------------------


def _offer(data: dict[str, Any]) -> Offer:
    data = doc.mapping(data, "")
    doc.check_keys(data, _OFFER_KEYS, "")
    key = doc.key(doc.required(data, "key", ""), "key")
    return Offer(
        key=key,
        name=doc.optional(data, "name", "", doc.name) or key,
        site=doc.optional(data, "site", "", doc.key),
        when=doc.optional(data, "when", "", _when) or When(),
        content=_content(doc.required(data, "show", ""), "show"),
        frequency=doc.optional(data, "frequency", "", _frequency) or Frequency(),
        holdout=doc.optional(data, "holdout", "", _percent) or 0,
    )


def _content(raw: Any, path: str) -> Content:
    data = doc.mapping(raw, path)
    doc.check_keys(data, _SHOW_KEYS, path)
    fields = doc.list_of(doc.required(data, "fields", path), doc.at(path, "fields"), "fields")
    parsed = tuple(_field(f, doc.item(doc.at(path, "fields"), i)) for i, f in enumerate(fields))
    names = [f.name for f in parsed]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise Invalid(doc.item(doc.at(path, "fields"), i), f"the field {name!r} is asked twice")
    text = {k: doc.optional(data, k, path, doc.string) or "" for k in ("text", "confirm", "close")}
    return Content(
        title=doc.name(doc.required(data, "title", path), doc.at(path, "title")),
        button=doc.optional(data, "button", path, doc.name) or "Send",
        fields=parsed,
        **text,
    )


def _field(raw: Any, path: str) -> Field:
    """A contact field: `phone`, or `{name: phone, label: …, type: tel, required: true}`."""
    data = {"name": raw} if isinstance(raw, str) else doc.mapping(raw, path)
    doc.check_keys(data, _FIELD_KEYS, path)
    name = doc.required(data, "name", path)
    if not isinstance(name, str) or not _FIELD_NAME.fullmatch(name):
        raise Invalid(
            doc.at(path, "name"),
            f"{doc.describe(name)} is not a field name: use letters, digits, '_' and '.' "
            "(a trait name such as phone, email, name or company.size)",
        )
    default_type = _STANDARD_TYPES.get(name, "text")
    return Field(
        name=name,
        label=doc.optional(data, "label", path, doc.name)
        or _STANDARD_LABELS.get(name, name.replace("_", " ").capitalize()),
        type=doc.choice(data.get("type", default_type), _FIELD_TYPES, doc.at(path, "type"), "type"),
        required=doc.optional(data, "required", path, doc.flag) or False,
    )


def _frequency(raw: Any, path: str) -> Frequency:
    data = doc.mapping(raw, path)
    doc.check_keys(data, _FREQUENCY_KEYS, path)
    default = Frequency()
    days = doc.optional(data, "after_close_days", path, doc.at_least_zero)
    return Frequency(
        once_per=doc.choice(
            data.get("once_per", default.once_per), _ONCE_PER, doc.at(path, "once_per"), "period"
        ),
        after_close_days=default.after_close_days if days is None else days,
    )


# -- personalisation ------------------------------------------------------------------------


def _personalization(data: dict[str, Any]) -> Personalization:
    data = doc.mapping(data, "")
    doc.check_keys(data, _PERSONALIZATION_KEYS, "")
    key = doc.key(doc.required(data, "key", ""), "key")
    when = doc.optional(data, "when", "", _when) or When()
    if when.exit_intent or when.seconds_on_page or when.scroll_depth:
        raise Invalid("when", "a personalisation applies as the page loads; moments are for offers")
    changes = doc.list_of(doc.required(data, "changes", ""), "changes", "changes")
    return Personalization(
        key=key,
        name=doc.optional(data, "name", "", doc.name) or key,
        site=doc.optional(data, "site", "", doc.key),
        when=when,
        changes=tuple(_change(c, doc.item("changes", i)) for i, c in enumerate(changes)),
        holdout=doc.optional(data, "holdout", "", _percent) or 0,
    )


def _change(raw: Any, path: str) -> Change:
    """`{selector, text}`, `{selector, html}` or `{selector, attribute, value}`."""
    data = doc.mapping(raw, path)
    doc.check_keys(data, _CHANGE_KEYS, path)
    selector = doc.name(doc.required(data, "selector", path), doc.at(path, "selector"))
    given = [k for k in ("text", "html", "attribute") if k in data]
    if len(given) != 1:
        raise Invalid(path, "a change needs exactly one of text, html or attribute (with value)")
    action = given[0]
    if action == "attribute":
        attribute = doc.name(data["attribute"], doc.at(path, "attribute"))
        if not _ATTRIBUTE.fullmatch(attribute):
            raise Invalid(doc.at(path, "attribute"), f"{attribute!r} is not an attribute name")
        if attribute.lower().startswith("on") or attribute.lower() in _UNSAFE_ATTRIBUTES:
            raise Invalid(
                doc.at(path, "attribute"),
                f"{attribute} cannot be set: it can run code (event handlers, srcdoc, style)",
            )
        value = doc.string(doc.required(data, "value", path), doc.at(path, "value"))
        return Change(selector, "attribute", value, attribute)
    if "value" in data:
        raise Invalid(doc.at(path, "value"), f"value goes with attribute; {action} is the value")
    value = doc.string(data[action], doc.at(path, action))
    return Change(selector, cast("Any", action), value)


# -- conditions -----------------------------------------------------------------------------


def _when(raw: Any, path: str) -> When:
    data = doc.mapping(raw, path)
    doc.check_keys(data, _WHEN_KEYS, path)
    tests: list[Check] = []
    for ladder in ("score", "band", "stage"):
        if ladder in data:
            tests.append(_model_test(ladder, data[ladder], doc.at(path, ladder)))
    if "segment" in data:
        segment = doc.key(data["segment"], doc.at(path, "segment"))
        tests.append(Check("segments", "contains", segment))
    if "page" in data:
        tests.append(_page(data["page"], doc.at(path, "page")))
    if "match" in data:
        tests.extend(_match(data["match"], doc.at(path, "match")))
    alternatives: tuple[When, ...] = ()
    if "any" in data:
        items = doc.list_of(data["any"], doc.at(path, "any"), "conditions")
        alternatives = tuple(
            _server_when(w, doc.item(doc.at(path, "any"), i)) for i, w in enumerate(items)
        )
    return When(
        tests=tuple(tests),
        any=alternatives,
        exit_intent=doc.optional(data, "exit_intent", path, doc.flag) or False,
        seconds_on_page=doc.optional(data, "seconds_on_page", path, doc.at_least_zero) or 0,
        scroll_depth=doc.optional(data, "scroll_depth", path, _percent) or 0,
    )


def _server_when(raw: Any, path: str) -> When:
    when = _when(raw, path)
    if when.exit_intent or when.seconds_on_page or when.scroll_depth:
        raise Invalid(path, "moments (exit_intent, seconds_on_page, scroll_depth) go outside any")
    return when


def _model_test(ladder: str, raw: Any, path: str) -> Check:
    """`score: {model: website, gte: 60}`; `band: {model: website, in: [warm, hot]}`."""
    data = doc.mapping(raw, path)
    model = doc.key(doc.required(data, "model", path), doc.at(path, "model"))
    ops = [k for k in data if k != "model"]
    if len(ops) != 1:
        raise Invalid(
            path, f"{ladder} needs model and one operator, e.g. {{model: {model}, gte: 60}}"
        )
    return _test(f"{ladder}.{model}", ops[0], data[ops[0]], path)


def _page(raw: Any, path: str) -> Check:
    patterns = raw if isinstance(raw, list) else [raw]
    globs = tuple(doc.glob(p, doc.item(path, i)) for i, p in enumerate(patterns))
    if not globs:
        raise Invalid(path, "must be a page pattern such as '*/pricing*', or a list of them")
    return Check("page", "matches", globs if len(globs) > 1 else globs[0])


def _match(raw: Any, path: str) -> list[Check]:
    """`{keyword: {contains: credit}, country: [PL, DE], traits.plan: pro}`."""
    tests: list[Check] = []
    for value, condition in doc.mapping(raw, path).items():
        where = doc.at(path, value)
        if not value.startswith(_PREFIXES) and value not in VISIT_VALUES:
            allowed = (*VISIT_VALUES, "traits.…", "score.…", "band.…", "stage.…")
            raise Invalid(where, doc.unknown(value, allowed, "value"))
        if isinstance(condition, Mapping):
            ops = doc.mapping(condition, where)
            if not ops:
                raise Invalid(where, "needs an operator, e.g. {contains: credit}")
            tests.extend(_test(value, op, operand, where) for op, operand in ops.items())
        elif isinstance(condition, list):
            tests.append(_test(value, "in", condition, where))
        else:
            tests.append(_test(value, "eq", condition, where))
    return tests


_OPERANDS: dict[str, Callable[[Any, str], Any]] = {
    "eq": doc.scalar,
    "ne": doc.scalar,
    "in": doc.scalars,
    "not_in": doc.scalars,
    "gt": doc.number,
    "gte": doc.number,
    "lt": doc.number,
    "lte": doc.number,
    "contains": doc.scalar,
    "matches": doc.glob,
    "exists": doc.flag,
}


def _test(value: str, op: str, operand: Any, path: str) -> Check:
    where = doc.at(path, op)
    operator = doc.choice(op, _OPERATORS, where, "operator")
    checked: Operand = _OPERANDS[operator](operand, where)
    return Check(value, operator, checked)


def _percent(value: Any, path: str) -> float:
    number = doc.at_least_zero(value, path)
    if number > 100:
        raise Invalid(path, f"must be a percentage from 0 to 100, got {doc.show(number)}")
    return number
