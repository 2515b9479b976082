"""Automations: when something happens to a lead (a trigger), do something (actions).

Documents like scoring models and offers (docs/automations.md); `automate.parse` checks them,
`automate.triggers` tells which fire for a change, `automate.webhooks` delivers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Scalar = str | int | float | bool


@dataclass(frozen=True, slots=True)
class ScoreTrigger:
    """A model's total crossing `threshold` upward (`up`) or downward."""

    model: str
    threshold: float
    up: bool


@dataclass(frozen=True, slots=True)
class LadderTrigger:
    """A lead entering (`becomes`) or leaving a band or stage of a model."""

    ladder: Literal["band", "stage"]
    model: str
    name: str
    becomes: bool


@dataclass(frozen=True, slots=True)
class Match:
    """One condition on an event's field or property (`url`, `offer`, `properties.sku`)."""

    field: str
    op: str
    operand: Scalar | tuple[Scalar, ...]


@dataclass(frozen=True, slots=True)
class EventTrigger:
    """An event of `type` from an identified lead, with every `where` condition true."""

    type: str
    where: tuple[Match, ...] = ()


@dataclass(frozen=True, slots=True)
class InactiveTrigger:
    """No activity from the lead for `days` (checked every minute by the server)."""

    days: float


@dataclass(frozen=True, slots=True)
class SegmentTrigger:
    """The lead entering (`enters`) or leaving a segment."""

    segment: str
    enters: bool


Trigger = ScoreTrigger | LadderTrigger | EventTrigger | InactiveTrigger | SegmentTrigger


@dataclass(frozen=True, slots=True)
class Webhook:
    url: str
    secret: str


@dataclass(frozen=True, slots=True)
class Email:
    """To `lead` (its email), `owner` (its manager) or an address; texts are templates."""

    to: str
    subject: str
    text: str


@dataclass(frozen=True, slots=True)
class AssignRule:
    """`match` on the lead's values (country, source, channel, band.M …) → manager `to`."""

    match: tuple[Match, ...]
    to: str


@dataclass(frozen=True, slots=True)
class Assign:
    """Give the lead an owner: the first rule that matches, else `to`, else round robin among
    the active managers of `team` (or all). A lead that has an owner keeps it unless
    `reassign`."""

    rules: tuple[AssignRule, ...] = ()
    to: str | None = None
    team: str | None = None
    reassign: bool = False


@dataclass(frozen=True, slots=True)
class Task:
    """A task for the lead's owner, such as the call-back: due in `due_minutes`."""

    kind: str
    due_minutes: float
    note: str


@dataclass(frozen=True, slots=True)
class SetTraits:
    """Set traits on the lead (`set: {plan: pro}`) and add tags (`tag: vip` adds to `tags`).

    Traits set here do not re-score the lead at once (that could fire automations in a loop);
    fit rules see them at the lead's next change."""

    traits: tuple[tuple[str, Scalar], ...] = ()
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SetStage:
    """Hold the lead at a stage of a model whatever its points say (`None`: let the points
    decide again) — as a salesperson does by hand with `PUT /v1/leads/{id}/stage`. Like
    traits, it fires no other automation at once."""

    model: str
    stage: str | None


Action = Webhook | Email | Assign | Task | SetTraits | SetStage


@dataclass(frozen=True, slots=True)
class Wait:
    """A pause between the steps of a scenario."""

    minutes: float


Step = Action | Wait


@dataclass(frozen=True, slots=True)
class Automation:
    """`actions` run at once when the trigger fires; a scenario has `steps` instead — actions
    with waits between them — and leaves early when its `exit` trigger fires."""

    key: str
    name: str
    trigger: Trigger
    actions: tuple[Action, ...]
    steps: tuple[Step, ...] = ()
    exit: Trigger | None = None
    site: str | None = None
    cooldown_minutes: float = 60
    """After firing for a lead, the automation waits this long before it fires for it again —
    the guard against loops and flapping scores."""
