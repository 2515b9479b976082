"""Scoring: transparent point models (files or API), the engine, decay, bands and stages.

Pure: the pipeline loads and saves state around it. See docs/scoring.md. The engine may be
compiled to C (scoring/native.py): a stale build is passed over before anything is imported.
"""

from pathlib import Path

from leadpulse.scoring.native import use_sources_if_stale

use_sources_if_stale(Path(__path__[0]))
# E402: the modules are imported only once the check above chose where from
from leadpulse.scoring.engine import (  # noqa: E402
    Entry,
    Happening,
    Published,
    Score,
    Scorer,
    as_dicts,
)
from leadpulse.scoring.state import State, empty_state  # noqa: E402

__all__ = [
    "Entry",
    "Happening",
    "Published",
    "Score",
    "Scorer",
    "State",
    "as_dicts",
    "empty_state",
]
