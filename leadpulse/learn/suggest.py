"""Suggested points for a hand-written model: which of its rules each past lead matched, fitted
against what happened, and new point values to review — with what they would change.

Only rules a file can answer count (trait and model rules, as in `leadpulse score`); event and
metric rules are left as they are. A logistic regression (L2) of the outcome on the rules' hits
gives each rule a weight; the weights are scaled so the suggested points sum, in absolute value,
to what the current points sum to, so the model keeps its scale. New points move where leads
land, so the bands' and stages' thresholds are suggested too: each keeps the share of the
training leads it holds now. The figures compare current and suggested points on the held-out
leads: ROC AUC, and the conversion of the top band (the same share of leads).
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from leadpulse.collect.csvfile import dialect_for, open_csv, row_traits
from leadpulse.core.errors import InvalidInput
from leadpulse.core.naming import trait_key
from leadpulse.learn.table import Dataset, Floats, Ints
from leadpulse.scoring import Published, Scorer, empty_state
from leadpulse.scoring.engine import rule_kind
from leadpulse.scoring.model import Model

Hits = npt.NDArray[np.float64]


def state_rules(model: Model) -> list[str]:
    return [r.key for r in model.rules if rule_kind(r) == "state"]


def rule_hits(model: Model, path: Path, delimiter: str | None = None) -> Hits:
    """Per data row of the file (in file order) and per state rule: 1 where the rule holds."""
    keys = state_rules(model)
    if not keys:
        raise InvalidInput(
            f"model {model.key!r} has no trait rules; a file has no events to suggest points from",
            field="suggest",
        )
    column = {k: j for j, k in enumerate(keys)}
    scorer = Scorer([Published(model, 0)])
    rows: list[list[float]] = []
    with open_csv(path) as handle:
        first = handle.readline()
        handle.seek(0)
        reader = csv.reader(handle, dialect_for(first, delimiter))
        headers = [h.strip() for h in next(reader)]
        names = [trait_key(h) for h in headers]
        for cells in reader:
            traits = row_traits(headers, names, cells)
            hit = [0.0] * len(keys)
            for entry in scorer.apply_traits(empty_state(), traits, 0):
                if entry.rule in column:
                    hit[column[entry.rule]] = 1.0
            rows.append(hit)
    return np.array(rows, dtype=np.float64).reshape(len(rows), len(keys))


@dataclass(frozen=True, slots=True)
class Change:
    rule: str
    current: float
    suggested: int
    hits: float
    """Share of the training leads the rule holds for."""
    conversion: float
    """Their conversion rate (NaN when it holds for none)."""


@dataclass(frozen=True, slots=True)
class Threshold:
    """A band's or a stage's lower bound, now and suggested."""

    ladder: str
    name: str
    current: float
    suggested: float


@dataclass(frozen=True, slots=True)
class Suggestion:
    model: str
    changes: tuple[Change, ...]
    thresholds: tuple[Threshold, ...]
    auc_current: float
    auc_suggested: float
    top_band: str | None
    top_share: float
    top_current: float
    top_suggested: float

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    def diff(self) -> str:
        """The suggestion as lines to review: `-`/`+` for a changed rule, ` ` for a kept one."""
        lines = [f"# {self.model}: suggested points (held-out ROC AUC "
                 f"{self.auc_current:.3f} → {self.auc_suggested:.3f})"]  # fmt: skip
        for c in self.changes:
            seen = (
                "no lead" if c.hits == 0 else f"{c.hits:.1%} of leads, {c.conversion:.1%} convert"
            )
            if c.suggested == c.current:
                lines.append(f"  {c.rule}: {c.current:+g}  ({seen})")
            elif c.suggested == 0:
                lines.append(f"- {c.rule}: {c.current:+g}")
                lines.append(f"+ {c.rule}: remove the rule, it adds nothing  ({seen})")
            else:
                lines.append(f"- {c.rule}: {c.current:+g}")
                lines.append(f"+ {c.rule}: {c.suggested:+d}  ({seen})")
        for ladder in ("bands", "stages"):
            steps = [t for t in self.thresholds if t.ladder == ladder]
            if any(t.suggested != t.current for t in steps):
                lines.append(f"- {ladder}: {_ladder(steps, 'current')}")
                lines.append(f"+ {ladder}: {_ladder(steps, 'suggested')}  "
                             "(each holds the share of leads it holds now)")  # fmt: skip
        if self.top_band is not None:
            lines.append(
                f"# the top {self.top_share:.1%} of leads (band {self.top_band!r}) convert at "
                f"{self.top_current:.1%} now, {self.top_suggested:.1%} with the suggested points"
            )
        return "\n".join(lines)


def suggest_points(model: Model, hits: Hits, data: Dataset, train: Ints, test: Ints) -> Suggestion:
    """`hits` has one row per data row of the file; `data.rows` picks the usable ones."""
    keys = state_rules(model)
    points = {r.key: r.points for r in model.rules}
    current = np.array([points[k] for k in keys], dtype=np.float64)
    matrix = hits[data.rows]
    x_train, y_train, w_train = matrix[train], data.y[train], data.weight[train]
    fit = LogisticRegression(C=1.0, max_iter=1000)
    fit.fit(x_train, y_train, sample_weight=w_train)
    weights = np.asarray(fit.coef_[0], dtype=np.float64)
    scale = np.abs(current).sum() / max(np.abs(weights).sum(), 1e-12)
    suggested = np.round(weights * scale).astype(np.int64)
    test_y = data.y[test]
    now_test = matrix[test] @ current
    new_test = matrix[test] @ suggested.astype(np.float64)
    band, share = _top_band(model, matrix[train] @ current, w_train)
    changes = []
    for j, key in enumerate(keys):
        held = x_train[:, j] > 0
        changes.append(
            Change(
                rule=key,
                current=float(current[j]),
                suggested=int(suggested[j]),
                hits=float(w_train[held].sum() / w_train.sum()),
                conversion=float(np.average(y_train[held], weights=w_train[held]))
                if held.any()
                else float("nan"),
            )
        )
    now_train, new_train = matrix[train] @ current, matrix[train] @ suggested.astype(np.float64)
    thresholds = [
        Threshold(ladder, name, lower, _same_share(lower, now_train, new_train, w_train))
        for ladder, steps in (("bands", model.bands), ("stages", model.stages))
        for name, lower in steps
    ]
    return Suggestion(
        model=model.key,
        changes=tuple(changes),
        thresholds=tuple(_ascending(thresholds)),
        auc_current=_auc(test_y, now_test),
        auc_suggested=_auc(test_y, new_test),
        top_band=band,
        top_share=share,
        top_current=_top_rate(test_y, now_test, share),
        top_suggested=_top_rate(test_y, new_test, share),
    )


def _same_share(lower: float, now: Floats, new: Floats, weight: Floats) -> float:
    """The bound under the new points that holds the share of leads `lower` holds now."""
    share = weight[now >= lower].sum() / weight.sum()
    if share <= 0 or share >= 1:
        return lower  # nobody there, or everybody: nothing to keep
    candidates = np.unique(new)
    # many leads share a total: take the bound whose share comes closest, not the first past it
    shares = np.array([weight[new >= v].sum() for v in candidates]) / weight.sum()
    return float(candidates[int(np.argmin(np.abs(shares - share)))])


def _ascending(thresholds: list[Threshold]) -> list[Threshold]:
    """Suggested bounds of one ladder strictly ascending, as a model file needs them."""
    out: list[Threshold] = []
    for t in thresholds:
        previous = out[-1] if out and out[-1].ladder == t.ladder else None
        if previous is not None and t.suggested <= previous.suggested:
            out.append(Threshold(t.ladder, t.name, t.current, previous.suggested + 1))
        else:
            out.append(t)
    return out


def _ladder(steps: list[Threshold], which: str) -> str:
    return "{" + ", ".join(f"{t.name}: {getattr(t, which):g}" for t in steps) + "}"


def _auc(y: Ints, score: Floats) -> float:
    return float(roc_auc_score(y, score)) if len(np.unique(y)) == 2 else float("nan")


def _top_band(model: Model, totals: Floats, weight: Floats) -> tuple[str | None, float]:
    """The model's top band and the share of training leads in it (20 % without bands)."""
    if not model.bands:
        return None, 0.2
    name, lower = model.bands[-1]
    return name, float(weight[totals >= lower].sum() / weight.sum())


def _top_rate(y: Ints, score: Floats, share: float) -> float:
    count = max(1, round(share * len(y)))
    top = np.argsort(-score, kind="stable")[:count]
    return float(y[top].mean())
