"""Why a lead has its score: the ledger folded into contributions that add up to the total."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from leadpulse.scoring.engine import DAY_MS, Published, band_of, clamp, held_stage, shown
from leadpulse.scoring.state import State, decayed


def explain(
    published: Published, rows: Iterable[Mapping[str, Any]], now: int, state: State | None = None
) -> dict[str, Any]:
    """One model's total, band, stage and contributions at `now`; a stage the lead is held at
    by hand (in its scoring `state`) wins over the points, and `held: true` says so.

    `rows` are ledger rows (rule_key, points, decays, at, event_uid). Each contribution's
    `points_now` is its points after decay; they sum to `total`. When the model's cap clips
    the sum, a `cap` contribution says by how much, so the sum still holds.
    """
    model = published.model
    half_life = model.half_life_days * DAY_MS if model.half_life_days else None
    contributions: list[dict[str, Any]] = []
    raw = 0.0
    for row in rows:
        now_worth = (
            decayed(row["points"], row["at"], now, half_life) if row["decays"] else row["points"]
        )
        raw += now_worth
        contributions.append(
            {
                "rule": row["rule_key"],
                "points": row["points"],
                "points_now": round(now_worth, 4),
                "at": row["at"],
                "event": row["event_uid"],
                "model_version": row["model_version"],
            }
        )
    total = clamp(raw, model.cap_min, model.cap_max)
    pinned = held_stage(model, state or {})
    if total != raw:
        contributions.append(
            {
                "rule": "cap",
                "points": round(total - raw, 4),
                "points_now": round(total - raw, 4),
                "at": now,
                "event": None,
                "model_version": published.version,
            }
        )
    return {
        "key": model.key,
        "name": model.name,
        "version": published.version,
        "total": shown(total),
        "band": band_of(model.bands, total),
        "stage": pinned or band_of(model.stages, total),
        "held": pinned is not None,
        "contributions": contributions,
    }
