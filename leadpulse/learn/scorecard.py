"""A learned points scorecard: bins → weight of evidence → regularised logistic regression →
whole points.

The log-odds of converting are `b0 + Σ β_j · WoE_j`. Points are that, scaled so that `pdo`
points double the odds and `even_points` points are even odds (50 %):
`points = even_points + pdo / ln 2 · log-odds`. Each bin's points are
`round(pdo / ln 2 · β_j · WoE)`; the rest (`even_points + pdo / ln 2 · b0`) is a base every lead
starts with. A lead's total is the base plus one bin's points per column — exactly what the
written model file gives in `leadpulse score`, since every bin is a rule there.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Self

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from leadpulse.learn.binning import Binning, fit_binning
from leadpulse.learn.table import Floats, Frame, Ints

FORMAT = "leadpulse-scorecard"
C_GRID = (0.03, 0.1, 0.3, 1.0, 3.0)
"""Inverse L2 strengths tried by cross-validation on the training part."""
CV_ROWS = 20_000
"""At most this many training rows choose the strength: beyond them the choice barely moves,
and the time would grow with the file."""


@dataclass(frozen=True, slots=True)
class Calibration:
    """Training leads grouped by points: the probability the points stand for, and what
    actually happened."""

    low: int
    high: int
    count: float
    predicted: float
    observed: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "low": self.low,
            "high": self.high,
            "count": self.count,
            "predicted": self.predicted,
            "observed": self.observed,
        }


class Scorecard:
    """Estimator with the scikit-learn contract; `x` is a `Frame`, `y` 1 for converted."""

    def __init__(
        self,
        *,
        pdo: float = 20.0,
        even_points: float = 100.0,
        max_bins: int = 10,
        min_bin_share: float = 0.05,
        min_iv: float = 0.02,
        bands: tuple[tuple[str, float], ...] = (("cold", 0.0), ("warm", 0.5), ("hot", 0.8)),
        random_state: int = 0,
    ) -> None:
        self.pdo = pdo
        self.even_points = even_points
        self.max_bins = max_bins
        self.min_bin_share = min_bin_share
        self.min_iv = min_iv
        self.bands = bands
        self.random_state = random_state

    @property
    def factor(self) -> float:
        return self.pdo / math.log(2)

    def get_params(self) -> dict[str, Any]:
        return {
            "pdo": self.pdo,
            "even_points": self.even_points,
            "max_bins": self.max_bins,
            "min_bin_share": self.min_bin_share,
            "min_iv": self.min_iv,
            "bands": [list(b) for b in self.bands],
            "random_state": self.random_state,
        }

    def fit(self, x: Frame, y: Ints, sample_weight: Floats | None = None) -> Self:
        weight = np.ones(len(y)) if sample_weight is None else sample_weight
        binnings = [
            fit_binning(c, y, weight, max_bins=self.max_bins, min_share=self.min_bin_share)
            for c in x.columns
        ]
        chosen = [i for i, b in enumerate(binnings) if b.iv >= self.min_iv] or [
            int(np.argmax([b.iv for b in binnings]))
        ]
        woe = np.column_stack([binnings[i].woe(x.columns[i]) for i in range(len(binnings))])
        self.C_ = self._choose_c(woe[:, chosen], y, weight)
        model = LogisticRegression(C=self.C_, max_iter=1000)
        model.fit(woe[:, chosen], y, sample_weight=weight)
        coef = model.coef_[0]
        self.binnings_ = [binnings[i] for i in chosen]
        self.coef_ = np.asarray(coef, dtype=np.float64)
        self.intercept_ = float(model.intercept_[0])
        self.iv_ = {b.name: b.iv for b in binnings}
        self.points_ = [
            [round(self.factor * beta * b.woe) for b in binning.bins]
            for beta, binning in zip(self.coef_, self.binnings_, strict=True)
        ]
        self.base_points_ = round(self.even_points + self.factor * self.intercept_)
        totals = self.points(x)
        self.bands_ = self._band_bounds(totals, weight)
        self.calibration_ = self._calibration(totals, y, weight)
        return self

    def _choose_c(self, woe: Floats, y: Ints, weight: Floats) -> float:
        if len(y) > CV_ROWS:
            rows = np.random.default_rng(self.random_state).choice(len(y), CV_ROWS, replace=False)
            woe, y, weight = woe[rows], y[rows], weight[rows]
        folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=self.random_state)
        best, best_auc = C_GRID[-1], -1.0
        for c in C_GRID:
            aucs = []
            for train, test in folds.split(woe, y):
                model = LogisticRegression(C=c, max_iter=1000)
                model.fit(woe[train], y[train], sample_weight=weight[train])
                aucs.append(roc_auc_score(y[test], model.decision_function(woe[test])))
            auc = float(np.mean(aucs))
            if auc > best_auc + 1e-4:
                best, best_auc = c, auc
        return best

    def _band_bounds(self, totals: Ints, weight: Floats) -> tuple[tuple[str, int], ...]:
        lowest = self.base_points_ + sum(min(p) for p in self.points_)
        order = np.argsort(totals, kind="stable")
        cumulative = np.cumsum(weight[order]) / weight.sum()
        bounds: list[tuple[str, int]] = []
        for name, share in self.bands:
            at = int(np.searchsorted(cumulative, share, side="left")) if share > 0 else 0
            bound = lowest if share <= 0 else int(totals[order][min(at, len(order) - 1)])
            if bounds and bound <= bounds[-1][1]:
                bound = bounds[-1][1] + 1
            bounds.append((name, bound))
        return tuple(bounds)

    def _calibration(self, totals: Ints, y: Ints, weight: Floats) -> list[Calibration]:
        edges = np.unique(np.quantile(totals, np.linspace(0, 1, 11)))
        index = np.clip(np.searchsorted(edges, totals, side="right") - 1, 0, len(edges) - 2)
        table: list[Calibration] = []
        for i in range(max(len(edges) - 1, 1)):
            inside = index == i
            if not inside.any():
                continue
            w = weight[inside]
            table.append(
                Calibration(
                    low=int(totals[inside].min()),
                    high=int(totals[inside].max()),
                    count=float(w.sum()),
                    predicted=float((self.probability(totals[inside]) * w).sum() / w.sum()),
                    observed=float((y[inside] * w).sum() / w.sum()),
                )
            )
        return table

    def probability(self, points: Ints | Floats) -> Floats:
        """What a total stands for: even odds at `even_points`, doubled every `pdo`."""
        result: Floats = 1.0 / (
            1.0 + np.exp(-(np.asarray(points) - self.even_points) / self.factor)
        )
        return result

    def bins(self, x: Frame) -> list[Ints]:
        """Each chosen column's bin index per row."""
        return [b.assign(x.column(b.name)) for b in self.binnings_]

    def points(self, x: Frame) -> Ints:
        """Each row's total: the base plus its bin's points in every chosen column."""
        total = np.full(x.n_rows, self.base_points_, dtype=np.int64)
        for index, points in zip(self.bins(x), self.points_, strict=True):
            total += np.asarray(points, dtype=np.int64)[index]
        return total

    def predict_proba(self, x: Frame) -> Floats:
        p = self.probability(self.points(x))
        return np.column_stack([1 - p, p])

    def band(self, total: int) -> str:
        found = self.bands_[0][0]
        for name, low in self.bands_:
            if total >= low:
                found = name
        return found

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "version": 1,
                "params": self.get_params(),
                "C": self.C_,
                "binnings": [b.to_dict() for b in self.binnings_],
                "coef": self.coef_.tolist(),
                "intercept": self.intercept_,
                "iv": self.iv_,
                "points": self.points_,
                "base_points": self.base_points_,
                "bands": [list(b) for b in self.bands_],
                "calibration": [c.to_dict() for c in self.calibration_],
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Scorecard:
        data = json.loads(text)
        if data.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} document")
        params = dict(data["params"])
        params["bands"] = tuple((str(n), float(s)) for n, s in params["bands"])
        card = cls(**params)
        card.C_ = float(data["C"])
        card.binnings_ = [Binning.from_dict(b) for b in data["binnings"]]
        card.coef_ = np.array(data["coef"], dtype=np.float64)
        card.intercept_ = float(data["intercept"])
        card.iv_ = {str(k): float(v) for k, v in data["iv"].items()}
        card.points_ = [[int(p) for p in row] for row in data["points"]]
        card.base_points_ = int(data["base_points"])
        card.bands_ = tuple((str(n), int(b)) for n, b in data["bands"])
        card.calibration_ = [Calibration(**c) for c in data["calibration"]]
        return card
