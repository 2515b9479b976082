"""Scoring: transparent point models (files or API), the engine, decay, bands and stages.

Pure: the pipeline loads and saves state around it. See docs/scoring.md.
"""

from leadpulse.scoring.engine import Entry, Happening, Published, Score, Scorer
from leadpulse.scoring.state import State, empty_state

__all__ = ["Entry", "Happening", "Published", "Score", "Scorer", "State", "empty_state"]
