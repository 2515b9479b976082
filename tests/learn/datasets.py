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
