"""Honest evaluation: a held-out part the models never saw, and the figures a sales team reads.

The held-out part is stratified (the same conversion rate as the whole), or — with a time
column — the most recent leads, which is how a model is used: learned on the past, applied to
what comes next.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import train_test_split

from leadpulse.core.errors import InvalidInput
from leadpulse.learn.binning import fit_binning
from leadpulse.learn.table import Dataset, Floats, Ints

LEAK_AUC = 0.95
"""A single column that alone ranks leads this well is more likely a record of the outcome
than a cause of it."""
AFTER_OUTCOME = re.compile(
    r"(^|[^a-z])(tags?|quality|status|stage|outcome|result|reason|lost|won|closed|deal)"
    r"([^a-z]|$)"
)
"""Column names that usually mean "filled in by sales after contact"."""


def split(
    data: Dataset, *, test_size: float = 0.25, seed: int = 0, by_time: bool = False
) -> tuple[Ints, Ints]:
    """Row indexes of the training and the held-out part."""
    rows = np.arange(len(data.y))
    if by_time and data.time is not None:
        order = np.argsort(data.time, kind="stable")
        cut = len(order) - max(1, round(test_size * len(order)))
        return np.sort(order[:cut]), np.sort(order[cut:])
    try:
        train, test = train_test_split(
            rows, test_size=test_size, stratify=data.y, random_state=seed
        )
    except ValueError:
        raise InvalidInput(
            f"{data.source}: a held-out part of {test_size:g} of {len(rows)} rows cannot hold "
            "both outcomes; use a larger --test-size",
            field="test_size",
        ) from None
    return np.sort(train), np.sort(test)


@dataclass(frozen=True, slots=True)
class Reliability:
    """Leads grouped by predicted probability: predicted against observed."""

    low: float
    high: float
    count: float
    predicted: float
    observed: float


@dataclass(frozen=True, slots=True)
class Metrics:
    rows: int
    conversions: float
    roc_auc: float
    pr_auc: float
    brier: float
    lift_10: float
    capture_10: float
    lift_20: float
    capture_20: float
    reliability: tuple[Reliability, ...]

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def metrics(
    y: Ints, p: Floats, weight: Floats | None = None, *, score: Floats | None = None
) -> Metrics:
    """Figures for predicted probabilities `p` (ranked by `score` when given, e.g. points)."""
    w = np.ones(len(y)) if weight is None else weight
    rank = p if score is None else score
    rate = float((y * w).sum() / w.sum())
    lifts = {}
    for share in (0.1, 0.2):
        top = _top(rank, share)
        top_rate = float((y[top] * w[top]).sum() / w[top].sum())
        capture = float((y[top] * w[top]).sum() / (y * w).sum())
        lifts[share] = (top_rate / rate if rate else 0.0, capture)
    return Metrics(
        rows=len(y),
        conversions=float((y * w).sum()),
        roc_auc=float(roc_auc_score(y, rank, sample_weight=w)),
        pr_auc=float(average_precision_score(y, rank, sample_weight=w)),
        brier=float((((p - y) ** 2) * w).sum() / w.sum()),
        lift_10=lifts[0.1][0],
        capture_10=lifts[0.1][1],
        lift_20=lifts[0.2][0],
        capture_20=lifts[0.2][1],
        reliability=_reliability(y, p, w),
    )


def _top(score: Floats, share: float) -> Ints:
    """The highest-scored `share` of rows (ties broken by row order, so it is exactly that
    many)."""
    count = max(1, round(share * len(score)))
    order: Ints = np.argsort(-score, kind="stable")[:count]
    return order


def _reliability(y: Ints, p: Floats, w: Floats, groups: int = 10) -> tuple[Reliability, ...]:
    edges = np.linspace(0, 1, groups + 1)
    index = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, groups - 1)
    table = []
    for i in range(groups):
        inside = index == i
        if not inside.any():
            continue
        weight = w[inside]
        table.append(
            Reliability(
                low=float(edges[i]),
                high=float(edges[i + 1]),
                count=float(weight.sum()),
                predicted=float((p[inside] * weight).sum() / weight.sum()),
                observed=float((y[inside] * weight).sum() / weight.sum()),
            )
        )
    return tuple(table)


def leak_warnings(data: Dataset) -> list[str]:
    """Columns that look like they record the outcome rather than predict it."""
    warnings = []
    for column in data.frame.columns:
        binning = fit_binning(column, data.y, data.weight, min_share=0.01, max_bins=20)
        woe = binning.woe(column)
        auc = float(roc_auc_score(data.y, woe, sample_weight=data.weight))
        if auc > LEAK_AUC:
            warnings.append(
                f"{column.name!r} alone predicts the outcome almost perfectly (AUC {auc:.3f}): "
                "is it filled in after the outcome? leave it out with --exclude"
            )
        elif AFTER_OUTCOME.search(column.name.lower().replace(" ", "_")):
            warnings.append(
                f"{column.name!r} sounds like a field filled in after contact (AUC alone "
                f"{auc:.3f}); a fair model leaves it out with --exclude"
            )
    return warnings
