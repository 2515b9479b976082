"""The real data sets the learn tests use, and the columns a fair model leaves out."""

from __future__ import annotations

from tests.conftest import DATA

LEADS = DATA / "x-education" / "Leads.csv"
SHOPPERS = DATA / "online-shoppers" / "online_shoppers_intention.csv"
SHOPPERS_DIRTY = DATA / "online-shoppers" / "online_shoppers_intention.dirty.csv"

LEADS_LEAKY = (
    "Tags",
    "Lead Quality",
    "Lead Profile",
    "Asymmetrique*",
    "Last Activity",
    "Last Notable Activity",
    "Prospect ID",
    "Lead Number",
)
"""Filled in by sales after contact (they record the outcome), and the ids."""

HAND_MODEL = """\
key: hand
name: A hand-written X Education model
kind: fit
bands: {cold: 0, warm: 10, hot: 20}
rules:
  - {key: lead_add_form, when: {trait: Lead Origin, eq: Lead Add Form}, points: 10}
  - {key: working, when: {trait: What is your current occupation, eq: Working Professional},
     points: 10}
  - {key: many_visits, when: {trait: TotalVisits, gte: 5}, points: 5}
  - {key: long_visit, when: {trait: Total Time Spent on Website, gt: 600}, points: 5}
  - {key: olark_chat, when: {trait: Lead Source, eq: Olark Chat}, points: 3}
  - {key: do_not_email, when: {trait: Do Not Email, eq: "Yes"}, points: -5}
  - {key: from_india, when: {trait: Country, eq: India}, points: 2}
  - {key: pricing, when: {event: page_view, where: {url: {matches: "*/pricing*"}}}, points: 5}
"""
"""Guessed points, as a marketer writes them; the event rule cannot be checked from a file."""
