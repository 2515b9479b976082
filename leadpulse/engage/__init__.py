"""On-site engagement: lead-capture offers (popups) and personalisation, with holdouts."""

from leadpulse.core.template import render
from leadpulse.engage.decide import HOLDOUT, TREATMENT, Seen, decide, group_of
from leadpulse.engage.model import KINDS, Definition, Kind, Offer, Personalization
from leadpulse.engage.parse import VISIT_VALUES, EngageError, parse_definition

__all__ = [
    "HOLDOUT",
    "KINDS",
    "TREATMENT",
    "VISIT_VALUES",
    "Definition",
    "EngageError",
    "Kind",
    "Offer",
    "Personalization",
    "Seen",
    "decide",
    "group_of",
    "parse_definition",
    "render",
]
