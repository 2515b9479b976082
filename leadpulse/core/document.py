"""Checked reading of the documents users write (scoring models, offers, personalisations).

A document arrives as YAML or JSON text or as an already-decoded dict. Each reader below checks
one value at a `path` and raises `Invalid(path, reason)`; the document's parser adds the source
name and turns it into a 400 error. Unknown keys fail loudly with a did-you-mean suggestion, so
a typo never silently switches a rule off.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import yaml

from leadpulse.core.errors import InvalidInput

_T = TypeVar("_T")
_C = TypeVar("_C", bound=str)

KEY = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_SURROGATE = re.compile("[\ud800-\udfff]")

OPERATOR_NAMES = (
    "eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "between", "contains", "matches",
    "exists",
)  # fmt: skip
"""The comparison operators of every document; an unknown key close to one is called so."""


class DocumentError(InvalidInput):
    """A document is not valid: `message` is `{source}: {path}: {reason}`, `field` the path."""

    code = "invalid_document"


class Invalid(Exception):
    """A problem at `path`; the document's parser adds the source and raises its error.

    `shown` is the path as printed: the same, plus the rule key once the rule is known.
    """

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(reason)
        self.path = path
        self.reason = reason
        self.shown = path

    def in_rule(self, prefix: str, key: str) -> Invalid:
        """Name the rule: `rules[3].when` is shown as `rules[3] (active_40s).when`."""
        if self.path.startswith(prefix):
            self.shown = f"{prefix} ({key}){self.path[len(prefix) :]}"
        return self


def read(
    source_text: str | bytes | Mapping[str, Any],
    source: str,
    error: type[DocumentError],
    build: Callable[[dict[str, Any]], _T],
) -> _T:
    """A checked value from YAML/JSON text or a decoded mapping: `build` reads the top-level
    mapping; any `Invalid` becomes `error` naming the source and the path."""
    data: Any = source_text
    if isinstance(source_text, str | bytes):
        data = load_yaml(source_text, source, error)
    try:
        if not isinstance(data, Mapping):
            raise Invalid("", f"the top level must be a mapping, got {describe(data)}")
        return build(dict(data))
    except Invalid as err:
        where = f"{err.shown}: " if err.path else ""
        raise error(f"{source}: {where}{err.reason}", field=err.path or None) from None
    except RecursionError:
        raise error(f"{source}: nested too deeply, or refers to itself (YAML anchors)") from None


def load_yaml(text: str | bytes, source: str, error: type[DocumentError] = DocumentError) -> Any:
    """Decode YAML (JSON is YAML); a syntax error names the source, line and column."""
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = err.problem or err.context or "syntax error"
        raise error(f"{source}: {where}invalid YAML: {problem}") from err
    except yaml.YAMLError as err:
        raise error(f"{source}: invalid YAML: {' '.join(str(err).split())}") from err
    except RecursionError:
        raise error(f"{source}: nested too deeply") from None
    return _whole_characters(data, source, error)


def _whole_characters(data: Any, source: str, error: type[DocumentError]) -> Any:
    """Join the two UTF-16 halves PyYAML leaves of JSON's escaped characters beyond the
    Basic Multilingual Plane (`"\\ud83d\\ude00"` is one emoji); a half on its own is not text
    (no database or JSON encoder takes it), so it is refused by name."""
    seen: set[int] = set()

    def whole(value: Any) -> Any:
        if isinstance(value, str):
            if not _SURROGATE.search(value):
                return value
            try:
                return value.encode("utf-16", "surrogatepass").decode("utf-16")
            except UnicodeDecodeError:
                shown = ascii(value)[:80]
                raise error(
                    f"{source}: {shown} holds half of a UTF-16 surrogate pair, not a character"
                ) from None
        if isinstance(value, list | dict) and id(value) not in seen:
            seen.add(id(value))  # YAML anchors share values, and may refer to themselves
            if isinstance(value, list):
                value[:] = [whole(v) for v in value]
            else:
                items = [(whole(k), whole(v)) for k, v in value.items()]
                value.clear()
                value.update(items)
        return value

    try:
        return whole(data)
    except RecursionError:
        raise error(f"{source}: nested too deeply") from None


def mapping(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise Invalid(path, f"must be a mapping, got {describe(value)}")
    for key in value:
        if not isinstance(key, str):
            raise Invalid(at(path, str(key)), f"key {key!r} must be a string (quote it)")
    return dict(value)


def list_of(value: Any, path: str, of: str) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise Invalid(path, f"must be a non-empty list of {of}, got {describe(value)}")
    return value


def check_keys(data: Mapping[str, Any], allowed: Sequence[str], path: str) -> None:
    for key in data:
        if key not in allowed:
            raise Invalid(at(path, key), unknown(key, allowed, "key"))


def required(data: Mapping[str, Any], key: str, path: str) -> Any:
    if key not in data:
        raise Invalid(at(path, key), "is required")
    return data[key]


def optional(
    data: Mapping[str, Any], key: str, path: str, parse: Callable[[Any, str], _T]
) -> _T | None:
    return parse(data[key], at(path, key)) if key in data else None


def choice(value: Any, choices: Sequence[_C], path: str, noun: str) -> _C:
    for choice in choices:
        if value == choice:
            return choice
    if isinstance(value, str):
        raise Invalid(path, unknown(value, choices, noun))
    raise Invalid(path, f"must be one of: {', '.join(choices)}; got {describe(value)}")


def key(value: Any, path: str) -> str:
    if not isinstance(value, str) or not KEY.fullmatch(value):
        raise Invalid(
            path,
            f"{describe(value)} is not a valid key: use 1-64 lowercase letters, digits, '_' "
            "or '-', starting with a letter or digit",
        )
    return value


def name(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid(path, f"must be a non-empty string, got {describe(value)}")
    return value


def string(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise Invalid(path, f"must be a string, got {describe(value)}")
    return value


def number(value: Any, path: str) -> float:
    """An int or a finite float; `true` is not 1 here, and a string is never a number."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if math.isfinite(number):
            return number
    raise Invalid(path, f"must be a number, got {describe(value)}")


def positive(value: Any, path: str) -> float:
    found = number(value, path)
    if found <= 0:
        raise Invalid(path, f"must be greater than 0, got {show(found)}")
    return found


def at_least_zero(value: Any, path: str) -> float:
    found = number(value, path)
    if found < 0:
        raise Invalid(path, f"must be 0 or more, got {show(found)}")
    return found


def times(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise Invalid(path, f"must be a whole number of at least 1, got {describe(value)}")
    return value


def scalar(value: Any, path: str) -> str | int | float | bool:
    if isinstance(value, str | bool | int) or (isinstance(value, float) and math.isfinite(value)):
        return value
    hint = " (to test for a missing value use exists: false)" if value is None else ""
    raise Invalid(path, f"must be a string, number or boolean, got {describe(value)}{hint}")


def scalars(value: Any, path: str) -> tuple[str | int | float | bool, ...]:
    items = list_of(value, path, "values")
    return tuple(scalar(entry, item(path, i)) for i, entry in enumerate(items))


def pair(value: Any, path: str) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) != 2:
        raise Invalid(path, f"must be a list of two numbers [low, high], got {describe(value)}")
    low, high = (number(entry, item(path, i)) for i, entry in enumerate(value))
    if low > high:
        raise Invalid(path, f"low ({show(low)}) must not be above high ({show(high)})")
    return low, high


def glob(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise Invalid(path, f"must be a glob pattern such as '*/pricing*', got {describe(value)}")
    return value


def flag(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise Invalid(path, f"must be true or false, got {describe(value)}")
    return value


# -- messages -------------------------------------------------------------------------------


def at(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def item(path: str, index: int) -> str:
    return f"{path}[{index}]"


def guess(word: str, allowed: Sequence[str]) -> str | None:
    spelled = SPELLINGS.get(word.strip().lower())
    if spelled is not None and spelled in allowed:
        return spelled
    found = difflib.get_close_matches(word.lower(), allowed, n=1)
    return found[0] if found else None


def unknown(word: str, allowed: Sequence[str], noun: str) -> str:
    """`unknown metric 'page_veiws' (did you mean 'pages_viewed'?)`; an operator is named so."""
    found = guess(word, allowed)
    if found is None:
        return f"unknown {noun} {word!r} (expected one of: {', '.join(allowed)})"
    if found in OPERATOR_NAMES:
        noun = "operator"
    return f"unknown {noun} {word!r} (did you mean {found!r}?)"


def describe(value: Any) -> str:
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


def show(number: float) -> str:
    return str(int(number)) if number.is_integer() else repr(number)


SPELLINGS = {
    ">": "gt", ">=": "gte", "=>": "gte", "gt=": "gte",
    "<": "lt", "<=": "lte", "=<": "lte", "lt=": "lte",
    "=": "eq", "==": "eq", "!=": "ne", "<>": "ne",
}  # fmt: skip
"""Comparison spellings from other languages, which difflib cannot relate to our names."""
