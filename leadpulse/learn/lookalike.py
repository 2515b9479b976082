"""A lookalike model (S1.4): how much a lead looks like past converters, by gradient boosting.

scikit-learn's HistGradientBoostingClassifier learns the trees; they are then copied into plain
arrays (feature, threshold, where a missing value goes, children, leaf values) that this module
walks itself, so the model is saved and loaded as JSON — never pickle — and predicts the same
probabilities as scikit-learn (a test checks it to 1e-9).

Categories become numbers ordered by their (smoothed) conversion rate in training, so a single
threshold split separates better from worse values; a category never seen is missing.

A lead's top features come from the paths it takes: every split moves the expected score from
the node's average to the child's, and that move is credited to the split's column.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Self

import numpy as np
import numpy.typing as npt
from sklearn.ensemble import HistGradientBoostingClassifier

from leadpulse.learn.table import Floats, Frame, Ints

FORMAT = "leadpulse-lookalike"
_LARGEST = float(np.finfo(np.float64).max)
SMOOTHING = 20.0
"""Leads of prior added to each category's conversion rate before ordering the categories."""


@dataclass(frozen=True, slots=True)
class Tree:
    """One tree as arrays indexed by node (0 = root)."""

    feature: Ints
    threshold: Floats
    missing_left: npt.NDArray[np.bool_]
    left: Ints
    right: Ints
    leaf: npt.NDArray[np.bool_]
    value: Floats
    expected: Floats
    """The count-weighted mean of the leaf values below each node."""

    def to_dict(self) -> dict[str, list[Any]]:
        return {
            "feature": self.feature.tolist(),
            # a split of everything known from the missing ones has threshold inf, which JSON
            # cannot write: the largest float splits the same way
            "threshold": np.clip(self.threshold, -_LARGEST, _LARGEST).tolist(),
            "missing_left": self.missing_left.astype(int).tolist(),
            "left": self.left.tolist(),
            "right": self.right.tolist(),
            "leaf": self.leaf.astype(int).tolist(),
            "value": self.value.tolist(),
            "expected": self.expected.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, list[Any]]) -> Tree:
        return cls(
            feature=np.array(data["feature"], dtype=np.int64),
            threshold=np.array(data["threshold"], dtype=np.float64),
            missing_left=np.array(data["missing_left"], dtype=np.bool_),
            left=np.array(data["left"], dtype=np.int64),
            right=np.array(data["right"], dtype=np.int64),
            leaf=np.array(data["leaf"], dtype=np.bool_),
            value=np.array(data["value"], dtype=np.float64),
            expected=np.array(data["expected"], dtype=np.float64),
        )

    @classmethod
    def from_nodes(cls, nodes: Any) -> Tree:
        """From a fitted scikit-learn predictor's node records."""
        leaf = nodes["is_leaf"].astype(np.bool_)
        left = nodes["left"].astype(np.int64)
        right = nodes["right"].astype(np.int64)
        value = nodes["value"].astype(np.float64)
        count = nodes["count"].astype(np.float64)
        expected = value.copy()
        # children always come after their parent, so one backward pass fills every node
        for i in range(len(nodes) - 1, -1, -1):
            if not leaf[i]:
                a, b = left[i], right[i]
                total = count[a] + count[b]
                expected[i] = (
                    (count[a] * expected[a] + count[b] * expected[b]) / total
                    if total
                    else (expected[a] + expected[b]) / 2
                )
        return cls(
            feature=nodes["feature_idx"].astype(np.int64),
            threshold=nodes["num_threshold"].astype(np.float64),
            missing_left=nodes["missing_go_to_left"].astype(np.bool_),
            left=left,
            right=right,
            leaf=leaf,
            value=value,
            expected=expected,
        )

    def walk(self, x: Floats, contributions: Floats | None = None) -> Floats:
        """The leaf value reached by each row of `x`; credits each split's move to its column
        in `contributions` when given."""
        node = np.zeros(len(x), dtype=np.int64)
        rows = np.arange(len(x))
        while True:
            active = ~self.leaf[node]
            if not active.any():
                return self.value[node]
            at = rows[active]
            here = node[active]
            feature = self.feature[here]
            values = x[at, feature]
            go_left = np.where(
                np.isnan(values), self.missing_left[here], values <= self.threshold[here]
            )
            nxt = np.where(go_left, self.left[here], self.right[here])
            if contributions is not None:
                np.add.at(contributions, (at, feature), self.expected[nxt] - self.expected[here])
            node[active] = nxt


class Lookalike:
    """Estimator with the scikit-learn contract; `x` is a `Frame`, `y` 1 for converted."""

    def __init__(
        self,
        *,
        max_iter: int = 300,
        learning_rate: float = 0.1,
        max_leaf_nodes: int = 31,
        min_samples_leaf: int = 20,
        l2_regularization: float = 1.0,
        random_state: int = 0,
    ) -> None:
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.random_state = random_state

    def get_params(self) -> dict[str, Any]:
        return {
            "max_iter": self.max_iter,
            "learning_rate": self.learning_rate,
            "max_leaf_nodes": self.max_leaf_nodes,
            "min_samples_leaf": self.min_samples_leaf,
            "l2_regularization": self.l2_regularization,
            "random_state": self.random_state,
        }

    def fit(self, x: Frame, y: Ints, sample_weight: Floats | None = None) -> Self:
        weight = np.ones(len(y)) if sample_weight is None else sample_weight
        self.features_ = [c.name for c in x.columns]
        self.codes_: dict[str, dict[str, float]] = {}
        prior = float((y * weight).sum() / weight.sum())
        for column in x.columns:
            if column.kind != "categorical":
                continue
            keys = column.values.astype(str)
            filled = keys != ""
            unique, index = np.unique(keys[filled], return_inverse=True)
            counts = np.bincount(index, weights=weight[filled], minlength=len(unique))
            events = np.bincount(index, weights=(y * weight)[filled], minlength=len(unique))
            rates = (events + SMOOTHING * prior) / (counts + SMOOTHING)
            order = np.argsort(rates, kind="stable")
            self.codes_[column.name] = {str(unique[k]): float(r) for r, k in enumerate(order)}
        self.estimator_ = HistGradientBoostingClassifier(
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization,
            early_stopping=True,
            validation_fraction=0.15,
            n_iter_no_change=20,
            random_state=self.random_state,
        )
        self.estimator_.fit(self.encode(x), y, sample_weight=weight)
        self.baseline_ = float(np.asarray(self.estimator_._baseline_prediction).ravel()[0])
        self.trees_ = [Tree.from_nodes(p[0].nodes) for p in self.estimator_._predictors]
        return self

    def encode(self, x: Frame) -> Floats:
        """The numeric matrix the trees split: numbers as they are, categories as codes."""
        matrix = np.full((x.n_rows, len(self.features_)), np.nan)
        for j, name in enumerate(self.features_):
            column = x.column(name)
            if name in self.codes_:
                codes = self.codes_[name]
                matrix[:, j] = [codes.get(str(v), np.nan) for v in column.values]
            else:
                matrix[:, j] = column.values.astype(np.float64)
        return matrix

    def decision_function(self, x: Frame) -> Floats:
        matrix = self.encode(x)
        raw = np.full(len(matrix), self.baseline_)
        for tree in self.trees_:
            raw += tree.walk(matrix)
        return raw

    def predict_proba(self, x: Frame) -> Floats:
        p = 1.0 / (1.0 + np.exp(-self.decision_function(x)))
        return np.column_stack([1 - p, p])

    def contributions(self, x: Frame) -> Floats:
        """Per row and column, how far that column moved the log-odds from the average."""
        matrix = self.encode(x)
        result = np.zeros_like(matrix)
        for tree in self.trees_:
            tree.walk(matrix, result)
        return result

    def top_features(self, x: Frame, k: int = 3) -> list[list[tuple[str, float]]]:
        """Each row's `k` columns that raised its score most (only those that raised it)."""
        moves = self.contributions(x)
        found: list[list[tuple[str, float]]] = []
        for row in moves:
            best = np.argsort(-row, kind="stable")[:k]
            found.append([(self.features_[j], float(row[j])) for j in best if row[j] > 0])
        return found

    def bands(self, x: Frame) -> dict[str, float]:
        """Bands on the 0–100 scale scoring shows it in: the top fifth of `x` (the training
        leads) is `likely`, the next three tenths `possible`."""
        p = np.round(self.predict_proba(x)[:, 1] * 100, 1)
        possible, likely = float(np.percentile(p, 50)), float(np.percentile(p, 80))
        bands = {"unlikely": 0.0}
        if possible > 0:
            bands["possible"] = possible
        if likely > max(bands.values()):
            bands["likely"] = likely
        return bands

    def to_json(self, **about: Any) -> str:
        """The model as JSON; `about` adds what publishing it as a scoring model needs
        (`key`, `name`, `bands`)."""
        return json.dumps(
            {
                **about,
                "format": FORMAT,
                "version": 1,
                "params": self.get_params(),
                "features": self.features_,
                "codes": self.codes_,
                "baseline": self.baseline_,
                "trees": [t.to_dict() for t in self.trees_],
            },
            allow_nan=False,  # standard JSON only: any reader (and scoring) takes it
        )

    @classmethod
    def from_json(cls, text: str) -> Lookalike:
        data = json.loads(text)
        if data.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} document")
        model = cls(**data["params"])
        model.features_ = [str(f) for f in data["features"]]
        model.codes_ = {
            str(name): {str(k): float(v) for k, v in codes.items()}
            for name, codes in data["codes"].items()
        }
        model.baseline_ = float(data["baseline"])
        model.trees_ = [Tree.from_dict(t) for t in data["trees"]]
        return model
