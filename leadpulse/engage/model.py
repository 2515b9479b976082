"""Offers (lead-capture popups) and personalisation rules, as typed values.

Both are documents a marketer writes (docs/offers.md); `engage.parse` checks them and
`engage.decide` turns them, for one visitor at one moment, into the decisions the tracker
carries out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["offer", "personalization"]
KINDS: tuple[Kind, ...] = ("offer", "personalization")

Operator = Literal[
    "eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "contains", "matches", "exists"
]  # fmt: skip
Scalar = str | int | float | bool
Operand = Scalar | tuple[Scalar, ...]


@dataclass(frozen=True, slots=True)
class Check:
    """One comparison of a visit value (`keyword`, `score.website`, `traits.company.size` …)."""

    value: str
    op: Operator
    operand: Operand


@dataclass(frozen=True, slots=True)
class When:
    """Every test must hold, and at least one of `any` when given (server side).

    `exit_intent`, `seconds_on_page` and `scroll_depth` are moments in the browser: the server
    only passes them on, and the tracker waits for them.
    """

    tests: tuple[Check, ...] = ()
    any: tuple[When, ...] = ()
    exit_intent: bool = False
    seconds_on_page: float = 0
    scroll_depth: float = 0


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    label: str
    type: str = "text"
    required: bool = False


@dataclass(frozen=True, slots=True)
class Frequency:
    """How often an offer may come back; never again after it was submitted."""

    once_per: Literal["page", "session", "day", "visitor"] = "session"
    after_close_days: float = 7


@dataclass(frozen=True, slots=True)
class Content:
    title: str
    button: str
    fields: tuple[Field, ...]
    text: str = ""
    confirm: str = ""
    close: str = ""


@dataclass(frozen=True, slots=True)
class Offer:
    key: str
    name: str
    content: Content
    when: When = field(default_factory=When)
    site: str | None = None
    frequency: Frequency = field(default_factory=Frequency)
    holdout: float = 0
    """Percent of visitors kept out (0–100), so uplift can be measured."""
    kind: Kind = "offer"


@dataclass(frozen=True, slots=True)
class Change:
    """Replace the text, the HTML or one attribute of every element `selector` finds."""

    selector: str
    action: Literal["text", "html", "attribute"]
    value: str
    attribute: str | None = None


@dataclass(frozen=True, slots=True)
class Personalization:
    key: str
    name: str
    changes: tuple[Change, ...]
    when: When = field(default_factory=When)
    site: str | None = None
    holdout: float = 0
    kind: Kind = "personalization"


Definition = Offer | Personalization
