"""The analytics method of S0.2: the overall conversion rate, then every trait value, numeric
range and action that converts better (or worse) than that average, with how sure we are.

Intervals are Wilson score intervals (95 %): unlike "rate ± 2 standard errors" they stay inside
0–100 % and are honest for small segments, which is where a marketer is most easily fooled.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from leadpulse.learn.binning import fit_binning
from leadpulse.learn.table import Dataset

Z = 1.959963984540054
"""The 97.5 % quantile of the normal distribution: 95 % intervals."""


def wilson(events: float, count: float, z: float = Z) -> tuple[float, float]:
    """The Wilson score interval of `events` successes in `count` trials."""
    if count <= 0:
        return 0.0, 1.0
    rate = events / count
    denominator = 1 + z * z / count
    centre = (rate + z * z / (2 * count)) / denominator
    half = z * math.sqrt(rate * (1 - rate) / count + z * z / (4 * count * count)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True, slots=True)
class Rate:
    count: float
    events: float
    rate: float
    low: float
    high: float

    @classmethod
    def of(cls, events: float, count: float) -> Rate:
        low, high = wilson(events, count)
        return cls(count, events, events / count if count else 0.0, low, high)


@dataclass(frozen=True, slots=True)
class Segment:
    """Leads with one trait value, in one numeric range, or who did one action."""

    column: str
    label: str
    kind: str
    """`value`, `range`, `action`, `other` or `missing`."""
    rate: Rate
    lift: float
    support: float
    """The segment's share of all leads."""

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "rate": asdict(self.rate)}


@dataclass(frozen=True, slots=True)
class Analysis:
    overall: Rate
    segments: tuple[Segment, ...]
    """Ranked: highest lift first."""

    def key_actions(self, least_support: float = 0.01) -> list[Segment]:
        """Segments whose whole interval lies above the overall rate, best first."""
        return [
            s
            for s in self.segments
            if s.rate.low > self.overall.rate and s.support >= least_support
        ]

    def to_dict(self) -> dict[str, object]:
        return {
            "overall": asdict(self.overall),
            "segments": [s.to_dict() for s in self.segments],
        }


def analyse(data: Dataset) -> Analysis:
    """The baseline and every segment of every column, ranked by lift."""
    total = float(data.weight.sum())
    overall = Rate.of(float((data.y * data.weight).sum()), total)
    segments: list[Segment] = []
    for column in data.frame.columns:
        binning = fit_binning(column, data.y, data.weight, min_share=0.02, max_bins=12)
        action = column.is_action
        for b in binning.bins:
            if b.count <= 0 or (action and b.values == ("n:0.0",)):
                continue
            kind = {"values": "action" if action else "value"}.get(b.kind, b.kind)
            label = b.label(binning.shown)
            rate = Rate.of(b.events, b.count)
            lift = rate.rate / overall.rate if overall.rate else 0.0
            segments.append(Segment(column.name, label, kind, rate, float(lift), b.count / total))
    segments.sort(key=lambda s: (-s.lift, -s.support))
    return Analysis(overall, tuple(segments))
