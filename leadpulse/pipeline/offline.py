"""Scoring a CSV file offline (S2.2: what sits in a CRM export), streaming row by row."""

from __future__ import annotations

import csv
from collections.abc import Callable
from typing import TextIO

from leadpulse.collect.csvfile import dialect_for, row_traits
from leadpulse.core.errors import InvalidInput
from leadpulse.core.naming import trait_key
from leadpulse.scoring import Published, Scorer, empty_state
from leadpulse.scoring.engine import rule_kind
from leadpulse.scoring.model import Model


def score_csv(
    model: Model,
    source: TextIO,
    target: TextIO,
    *,
    now: int,
    delimiter: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Copy `source` to `target` with `score`, `band` and `reasons` columns added.

    Only trait and model rules, and learned lookalikes, can apply to a file: it holds no
    events. Every input column and the row order are kept. A column is reachable by its header
    as written and by its snake_case name (`Lead Source` and `lead_source`). Returns the
    number of rows.
    """
    if model.learned is None and not any(rule_kind(r) == "state" for r in model.rules):
        raise InvalidInput(
            f"model {model.key!r} has no trait rules; a file has no events to score",
            field="model",
        )
    dialect = dialect_for(source.readline(), delimiter)
    source.seek(0)
    reader = csv.reader(source, dialect)
    try:
        headers = next(reader)
    except StopIteration:
        raise InvalidInput("the file is empty: no header row", field="file") from None
    keys = [trait_key(h) for h in headers]
    writer = csv.writer(target, dialect)
    writer.writerow([*headers, "score", "band", "reasons"])
    scorer = Scorer([Published(model, 0)])
    rows = 0
    for cells in reader:
        traits = row_traits(headers, keys, cells)
        state = empty_state()
        entries = scorer.apply_traits(state, traits, now)
        score = scorer.score(state, now)[model.key]
        reasons = "; ".join(f"{e.rule} {e.points:+g}" for e in entries)
        writer.writerow([*cells, f"{score.total:g}", score.band or "", reasons])
        rows += 1
        if progress is not None and rows % 1000 == 0:
            progress(rows)
    return rows
