"""A fitted scorecard as an ordinary Leadpulse model file (docs/scoring.md) a person can read,
edit and publish.

Every bin becomes one trait rule, so each lead matches exactly one rule per column: a range
(`gte`/`lt`, the low end included), a list of values (`in`), "other" (filled, but none of the
listed values — this also takes values never seen in training) or "missing" (`exists: false`).
One `base` rule holds for everyone and carries the points every lead starts with. A bin worth
0 points is left out (the format refuses a rule that does nothing); its leads simply get none.
The format has no field for the scale or the calibration: they go into the description and a
comment.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import yaml

from leadpulse.core.naming import trait_key
from leadpulse.learn.binning import Bin, Binning
from leadpulse.learn.scorecard import Scorecard
from leadpulse.learn.table import category_value


def model_key(text: str) -> str:
    """A valid model key from a file name: `Leads model.yaml` → `leads-model`."""
    key = re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-_")[:64]
    return key or "learned"


def model_document(card: Scorecard, *, key: str, name: str, source: str) -> dict[str, Any]:
    rules: list[dict[str, Any]] = []
    first = card.binnings_[0].name
    rules.append(
        {
            "key": "base",
            "description": "every lead starts with these points",
            "when": {"any": [{"trait": first, "exists": True}, {"trait": first, "exists": False}]},
            "points": card.base_points_,
        }
    )
    used = {"base"}
    for binning, points in zip(card.binnings_, card.points_, strict=True):
        stem = trait_key(binning.name)[:48]
        known = [v for b in binning.bins for v in b.values]
        for i, (b, p) in enumerate(zip(binning.bins, points, strict=True)):
            if p == 0:
                continue
            rule_key = f"{stem}_{i + 1}" if b.kind != "missing" else f"{stem}_missing"
            while rule_key in used:
                rule_key += "_"
            used.add(rule_key)
            rate = f"{b.rate:.1%}" if b.count else "no leads"
            rules.append(
                {
                    "key": rule_key,
                    "description": f"{binning.name}: {b.label(binning.shown)} "
                    f"(converted {rate} of {b.count:g} in training)",
                    "when": condition(binning, b, known),
                    "points": p,
                }
            )
    return {
        "key": key,
        "name": name,
        "kind": "fit",
        "description": describe(card, source),
        "bands": {band: bound for band, bound in card.bands_},
        "rules": rules,
    }


def condition(binning: Binning, b: Bin, known: list[str]) -> dict[str, Any]:
    trait = binning.name
    if b.kind == "missing":
        return {"trait": trait, "exists": False}
    if b.kind == "values":
        values = [category_value(v, binning.shown.get(v, v)) for v in b.values]
        return (
            {"trait": trait, "in": values} if len(values) > 1 else {"trait": trait, "eq": values[0]}
        )
    if b.kind == "other":
        if not known:
            return {"trait": trait, "exists": True}
        listed = [category_value(v, binning.shown.get(v, v)) for v in known]
        return {"all": [{"trait": trait, "exists": True}, {"trait": trait, "not_in": listed}]}
    if b.low is None and b.high is None:
        return {"trait": trait, "exists": True}
    if b.low is None:
        return {"trait": trait, "lt": b.high}
    if b.high is None:
        return {"trait": trait, "gte": b.low}
    return {"all": [{"trait": trait, "gte": b.low}, {"trait": trait, "lt": b.high}]}


def describe(card: Scorecard, source: str) -> str:
    marks = range(
        int(card.even_points - 4 * card.pdo),
        int(card.even_points + 3 * card.pdo) + 1,
        int(card.pdo),
    )
    mapping = ", ".join(f"{m}: {float(card.probability(np.array([m]))[0]):.0%}" for m in marks)
    return (
        f"Learned by `leadpulse learn` from {source}. {card.even_points:g} points = even odds "
        f"(50 %); every {card.pdo:g} points double the odds (PDO). Points → probability: "
        f"{mapping}."
    )


def calibration_comment(card: Scorecard) -> str:
    lines = [
        "Calibration on the training leads (points → predicted and observed conversion):",
        f"{'points':>15}  {'leads':>8}  {'predicted':>9}  {'observed':>8}",
    ]
    for c in card.calibration_:
        lines.append(
            f"{f'{c.low} to {c.high}':>15}  {c.count:>8g}  {c.predicted:>9.1%}  {c.observed:>8.1%}"
        )
    return "".join(f"# {line}\n" for line in lines)


def model_yaml(card: Scorecard, *, key: str, name: str, source: str) -> str:
    document = model_document(card, key=key, name=name, source=source)
    body = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
    return calibration_comment(card) + body
