"""Bins of a column and their weight of evidence (WoE).

A numeric column is cut at quantiles, small bins are merged into a neighbour, and where the
data supports it (it keeps at least `MONOTONE_KEEP` of the information value) the bins are
merged further until the conversion rate only rises or only falls — so "more visits, more
points" holds in the learned model. A category seen in too few rows joins "other", which also
takes values never seen in training. An empty cell is a bin of its own ("missing"), because not
answering is itself informative.

WoE of a bin = ln(share of all conversions in the bin / share of all non-conversions in it),
with half a lead added to each count so an empty side stays finite. It is positive where leads
convert more than on average.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from leadpulse.learn.table import Column, Floats, Ints, Kind

BinKind = Literal["range", "values", "other", "missing"]
MONOTONE_KEEP = 0.9
QUANTILES = 20
MIN_CATEGORY_LEADS = 25.0
"""A value seen in fewer leads than this (or the `min_category` share) joins "other"."""
CATEGORY_SHARE = 0.01
"""Values are grouped (by conversion rate) until each group holds this share of the leads."""
PRIOR = 1.0


@dataclass(frozen=True, slots=True)
class Bin:
    """`range`: low ≤ x < high (None = unbounded); `values`: these category keys."""

    kind: BinKind
    low: float | None = None
    high: float | None = None
    values: tuple[str, ...] = ()
    count: float = 0.0
    events: float = 0.0
    woe: float = 0.0

    @property
    def rate(self) -> float:
        return self.events / self.count if self.count else math.nan

    def label(self, shown: dict[str, str]) -> str:
        if self.kind == "missing":
            return "missing"
        if self.kind == "other":
            return "other"
        if self.kind == "values":
            return ", ".join(shown.get(v, v) for v in self.values)
        if self.low is None and self.high is None:
            return "any"
        if self.low is None:
            return f"< {self.high:g}"
        if self.high is None:
            return f"≥ {self.low:g}"
        return f"{self.low:g} to < {self.high:g}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "low": self.low,
            "high": self.high,
            "values": list(self.values),
            "count": self.count,
            "events": self.events,
            "woe": self.woe,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Bin:
        return cls(
            kind=data["kind"],
            low=data["low"],
            high=data["high"],
            values=tuple(data["values"]),
            count=data["count"],
            events=data["events"],
            woe=data["woe"],
        )


@dataclass(frozen=True, slots=True)
class Binning:
    """The bins of one column; ranges ascending (or value groups), then other, then missing."""

    name: str
    kind: Kind
    bins: tuple[Bin, ...]
    shown: dict[str, str]
    iv: float

    def assign(self, column: Column) -> Ints:
        """Each row's bin index."""
        missing = len(self.bins) - 1
        if self.kind == "numeric":
            x = column.values.astype(np.float64)
            edges = np.array([b.low for b in self.bins[1:-1]], dtype=np.float64)
            index = np.searchsorted(edges, np.nan_to_num(x), side="right").astype(np.int64)
            index[np.isnan(x)] = missing
            return index
        other = missing - 1
        lookup = {key: i for i, b in enumerate(self.bins) for key in b.values}
        lookup[""] = missing
        return np.array([lookup.get(str(v), other) for v in column.values], dtype=np.int64)

    def woe(self, column: Column) -> Floats:
        table = np.array([b.woe for b in self.bins], dtype=np.float64)
        result: Floats = table[self.assign(column)]
        return result

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "bins": [b.to_dict() for b in self.bins],
            "shown": self.shown,
            "iv": self.iv,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Binning:
        return cls(
            name=data["name"],
            kind=data["kind"],
            bins=tuple(Bin.from_dict(b) for b in data["bins"]),
            shown=dict(data["shown"]),
            iv=data["iv"],
        )


def fit_binning(
    column: Column,
    y: Ints,
    weight: Floats,
    *,
    max_bins: int = 10,
    min_share: float = 0.05,
    min_category: float = 0.001,
) -> Binning:
    """Bins of `column` for outcomes `y` (1 = converted), each row counting `weight`."""
    missing = column.missing
    filled = ~missing
    if column.kind == "numeric":
        groups = _numeric(
            column.values[filled].astype(np.float64), y[filled], weight[filled], max_bins, min_share
        )
    else:
        groups = _categorical(
            column.values, y, weight, filled, min_category, max_bins, CATEGORY_SHARE
        )
    groups.append(
        Bin(
            "missing",
            count=float(weight[missing].sum()),
            events=_events(y[missing], weight[missing]),
        )
    )
    return _with_woe(column, groups, y, weight)


def _events(y: Ints, weight: Floats) -> float:
    return float((y * weight).sum())


def _with_woe(column: Column, groups: list[Bin], y: Ints, weight: Floats) -> Binning:
    events = _events(y, weight)
    non_events = float(weight.sum()) - events
    bins: list[Bin] = []
    iv = 0.0
    for b in groups:
        if b.count <= 0:
            bins.append(b)
            continue
        prior = events / (events + non_events)
        good = (b.events + PRIOR * prior) / events
        bad = (b.count - b.events + PRIOR * (1 - prior)) / non_events
        woe = math.log(good / bad)
        iv += (good - bad) * woe
        bins.append(Bin(b.kind, b.low, b.high, b.values, b.count, b.events, woe))
    return Binning(column.name, column.kind, tuple(bins), dict(column.shown), iv)


# -- numeric --------------------------------------------------------------------------------


@dataclass(slots=True)
class _Run:
    """Adjacent bins being merged: [low, high), or category keys in order of their conversion
    rate, with their weighted counts."""

    low: float | None
    high: float | None
    count: float
    events: float
    values: tuple[str, ...] = ()

    @property
    def rate(self) -> float:
        return self.events / self.count if self.count else 0.0

    def joined(self, other: _Run) -> _Run:
        return _Run(
            self.low,
            other.high,
            self.count + other.count,
            self.events + other.events,
            self.values + other.values,
        )


def _numeric(x: Floats, y: Ints, weight: Floats, max_bins: int, min_share: float) -> list[Bin]:
    if len(x) == 0:
        return [Bin("range")]
    cuts = np.unique(np.quantile(x, np.linspace(0, 1, QUANTILES + 1)[1:-1]))
    cuts = cuts[cuts > x.min()]
    index = np.searchsorted(cuts, x, side="right")
    counts = np.bincount(index, weights=weight, minlength=len(cuts) + 1)
    events = np.bincount(index, weights=y * weight, minlength=len(cuts) + 1)
    bounds: list[float | None] = [None, *cuts.tolist(), None]
    runs = [
        _Run(bounds[i], bounds[i + 1], float(counts[i]), float(events[i]))
        for i in range(len(cuts) + 1)
    ]
    total = float(weight.sum())
    runs = _merge_small(runs, min_share * total)
    free = _limit(runs, max_bins)
    rising, falling = _monotone(runs, rising=True), _monotone(runs, rising=False)
    best = max((_limit(rising, max_bins), _limit(falling, max_bins)), key=_iv)
    chosen = best if _iv(best) >= MONOTONE_KEEP * _iv(free) else free
    return [Bin("range", r.low, r.high, count=r.count, events=r.events) for r in chosen]


def _closest(runs: list[_Run], i: int) -> int:
    """The neighbour of run i whose conversion rate is nearer (the one to merge with)."""
    if i == 0:
        return 1
    if i == len(runs) - 1:
        return i - 1
    left = abs(runs[i - 1].rate - runs[i].rate)
    right = abs(runs[i + 1].rate - runs[i].rate)
    return i - 1 if left <= right else i + 1


def _merge(runs: list[_Run], i: int, j: int) -> list[_Run]:
    a, b = min(i, j), max(i, j)
    return [*runs[:a], runs[a].joined(runs[b]), *runs[b + 1 :]]


def _merge_small(runs: list[_Run], least: float) -> list[_Run]:
    while len(runs) > 1:
        smallest = min(range(len(runs)), key=lambda i: runs[i].count)
        if runs[smallest].count >= least:
            break
        runs = _merge(runs, smallest, _closest(runs, smallest))
    return runs


def _limit(runs: list[_Run], most: int) -> list[_Run]:
    while len(runs) > most:
        gaps = [abs(runs[i + 1].rate - runs[i].rate) for i in range(len(runs) - 1)]
        i = int(np.argmin(gaps))
        runs = _merge(runs, i, i + 1)
    return runs


def _monotone(runs: list[_Run], *, rising: bool) -> list[_Run]:
    """Pool adjacent violators: merge neighbours until the rates only rise (or only fall)."""
    stack: list[_Run] = []
    for run in runs:
        stack.append(run)
        while len(stack) > 1 and (
            (stack[-2].rate > stack[-1].rate) if rising else (stack[-2].rate < stack[-1].rate)
        ):
            last = stack.pop()
            stack[-1] = stack[-1].joined(last)
    return stack


def _iv(runs: list[_Run]) -> float:
    events = sum(r.events for r in runs)
    non_events = sum(r.count - r.events for r in runs)
    iv = 0.0
    for r in runs:
        good = (r.events + 0.5) / (events + 1.0)
        bad = (r.count - r.events + 0.5) / (non_events + 1.0)
        iv += (good - bad) * math.log(good / bad)
    return iv


# -- categorical ----------------------------------------------------------------------------


def _categorical(
    values: Any,
    y: Ints,
    weight: Floats,
    filled: Any,
    min_category: float,
    max_bins: int,
    min_share: float,
) -> list[Bin]:
    """Values seen often enough, grouped in order of their conversion rate until each group
    holds `min_share` of the rows; the rarer values (and any never seen) are "other"."""
    keys = values[filled].astype(str)
    y, weight = y[filled], weight[filled]
    unique, index = np.unique(keys, return_inverse=True)
    counts = np.bincount(index, weights=weight, minlength=len(unique))
    events = np.bincount(index, weights=y * weight, minlength=len(unique))
    total = float(weight.sum())
    least = max(min_category * total, MIN_CATEGORY_LEADS)
    known = [i for i in range(len(unique)) if counts[i] >= least]
    known.sort(key=lambda i: (events[i] / counts[i], -counts[i]))
    runs = [_Run(None, None, float(counts[i]), float(events[i]), (str(unique[i]),)) for i in known]
    runs = _limit(_merge_small(runs, min_share * total), max_bins)
    bins = [Bin("values", values=r.values, count=r.count, events=r.events) for r in runs]
    rare = [i for i in range(len(unique)) if counts[i] < least]
    other_count = float(sum(counts[i] for i in rare))
    other_events = float(sum(events[i] for i in rare))
    bins.append(Bin("other", count=other_count, events=other_events))
    return bins
