"""Automations: triggers on a lead's scores, bands, stages and events, and their actions,
delivered through an outbox (docs/automations.md)."""

from leadpulse.automate.model import Automation, Webhook
from leadpulse.automate.parse import AutomationError, parse_automation
from leadpulse.automate.triggers import fired

__all__ = ["Automation", "AutomationError", "Webhook", "fired", "parse_automation"]
