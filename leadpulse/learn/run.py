"""One `leadpulse learn` run: baseline and lift on all rows, then the scorecard and the
lookalike fitted on the training part and judged on the held-out part."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import roc_curve

from leadpulse.core.errors import InvalidInput
from leadpulse.learn.baseline import Analysis, analyse
from leadpulse.learn.evaluate import Metrics, leak_warnings, metrics, split
from leadpulse.learn.lookalike import Lookalike
from leadpulse.learn.scorecard import Scorecard
from leadpulse.learn.table import Dataset, Floats, Ints

MIN_CLASS = 10
"""Converted and not converted leads needed at least: both the held-out part and the folds
that choose the regularisation must see each."""
CURVE_POINTS = 200
"""Points kept of a ROC curve for the report's chart."""


@dataclass(frozen=True, slots=True)
class Curve:
    false_positive: tuple[float, ...]
    true_positive: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Evaluation:
    metrics: Metrics
    curve: Curve


@dataclass(frozen=True, slots=True)
class Learned:
    data: Dataset
    train: Ints
    test: Ints
    by_time: bool
    analysis: Analysis
    scorecard: Scorecard
    scorecard_eval: Evaluation
    lookalike: Lookalike | None
    lookalike_eval: Evaluation | None
    warnings: tuple[str, ...]


def learn(
    data: Dataset,
    *,
    test_size: float = 0.25,
    seed: int = 0,
    lookalike: bool = True,
) -> Learned:
    converted = int(data.y.sum())
    if min(converted, len(data.y) - converted) < MIN_CLASS:
        raise InvalidInput(
            f"{data.source}: too few leads to learn from: {converted} converted and "
            f"{len(data.y) - converted} not; learning needs at least {MIN_CLASS} of each"
        )
    by_time = data.time is not None
    train, test = split(data, test_size=test_size, seed=seed, by_time=by_time)
    fit_on, held = data.take(train), data.take(test)
    if len(np.unique(fit_on.y)) < 2 or len(np.unique(held.y)) < 2:
        raise InvalidInput(
            f"{data.source}: the training or the held-out part has one class only; "
            "use more rows or a different --test-size"
        )
    card = Scorecard(random_state=seed).fit(fit_on.frame, fit_on.y, fit_on.weight)
    points = card.points(held.frame).astype(np.float64)
    card_eval = _evaluation(held, card.probability(points), points)
    model = look_eval = None
    if lookalike:
        model = Lookalike(random_state=seed).fit(fit_on.frame, fit_on.y, fit_on.weight)
        p = model.predict_proba(held.frame)[:, 1]
        look_eval = _evaluation(held, p, p)
    return Learned(
        data=data,
        train=train,
        test=test,
        by_time=by_time,
        analysis=analyse(data),
        scorecard=card,
        scorecard_eval=card_eval,
        lookalike=model,
        lookalike_eval=look_eval,
        warnings=tuple(leak_warnings(fit_on)),
    )


def _evaluation(held: Dataset, p: Floats, score: Floats) -> Evaluation:
    fpr, tpr, _ = roc_curve(held.y, score, sample_weight=held.weight)
    keep = np.unique(np.linspace(0, len(fpr) - 1, min(len(fpr), CURVE_POINTS)).astype(int))
    return Evaluation(
        metrics(held.y, p, held.weight, score=score),
        Curve(tuple(float(v) for v in fpr[keep]), tuple(float(v) for v in tpr[keep])),
    )
