"""Learned lookalike models inside a scoring model: gradient-boosted trees kept as plain
arrays, walked for one lead at a time (the file `leadpulse learn --lookalike` writes, see
docs/learning.md). Its total is the lead's probability of converting, in percent, so other
models can say `{model: lookalike, gte: 60}`."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from leadpulse.core.compare import MISSING, lookup
from leadpulse.core.naming import as_number, category_key, trait_key

FORMAT = "leadpulse-lookalike"


@dataclass(frozen=True, slots=True, eq=False)
class Tree:
    """One tree as arrays indexed by node, 0 the root; a node is a leaf or splits on
    `feature <= threshold` (missing values go left where `missing_left`)."""

    feature: tuple[int, ...]
    threshold: tuple[float, ...]
    missing_left: tuple[bool, ...]
    left: tuple[int, ...]
    right: tuple[int, ...]
    leaf: tuple[bool, ...]
    value: tuple[float, ...]

    def walk(self, row: list[float]) -> float:
        node = 0
        leaf, feature, threshold = self.leaf, self.feature, self.threshold
        while not leaf[node]:
            x = row[feature[node]]
            go_left = self.missing_left[node] if math.isnan(x) else x <= threshold[node]
            node = self.left[node] if go_left else self.right[node]
        return self.value[node]


@dataclass(frozen=True, slots=True, eq=False)
class Learned:
    """What a lookalike file holds: the columns it learned from, the codes of their
    categories (by `category_key`, ordered by conversion), the starting log-odds and the
    trees."""

    features: tuple[str, ...]
    codes: Mapping[str, Mapping[str, float]]
    baseline: float
    trees: tuple[Tree, ...]

    def probability(self, traits: Mapping[str, Any]) -> float:
        """The lead's probability of converting, 0–1. A feature is found in the traits by
        its column header as written or by its snake_case name (`Lead Origin`, `lead_origin`);
        a missing or unknown value takes the trees' missing-value branch."""
        row = [self._value(name, traits) for name in self.features]
        raw = self.baseline + sum(tree.walk(row) for tree in self.trees)
        if raw >= 0:  # written so that exp never overflows, whatever the file says
            return 1.0 / (1.0 + math.exp(-raw))
        odds = math.exp(raw)
        return odds / (1.0 + odds)

    def _value(self, name: str, traits: Mapping[str, Any]) -> float:
        value = lookup(traits, name)
        if value is MISSING or value is None:
            value = lookup(traits, trait_key(name))
        if value is MISSING or value is None or value == "":
            return math.nan
        codes = self.codes.get(name)
        if codes is not None:
            return codes.get(category_key(value), math.nan)
        number = as_number(value)
        return math.nan if number is None else number
