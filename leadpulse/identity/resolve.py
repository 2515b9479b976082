"""Decide which lead an identify or an upsert lands on, and which leads merge into it.

Keys are tried in priority order — normalised email, then external id, then phone — and then the
lead the visitor is already attached to. The first lead found wins; every other lead found is
merged into it (recorded, nothing deleted).
"""

from __future__ import annotations

from dataclasses import dataclass

from leadpulse.core.types import Contact

PRIORITY = ("email", "external_id", "phone")


@dataclass(frozen=True, slots=True)
class Resolution:
    lead_id: int | None
    """The surviving lead, or None when a new lead must be created."""
    merge: tuple[int, ...]
    """Other leads that match and merge into the survivor."""


def identity_keys(contact: Contact) -> list[tuple[str, str]]:
    """The identity keys a contact carries, in priority order."""
    values = {"email": contact.email, "external_id": contact.external_id, "phone": contact.phone}
    return [(kind, v) for kind in PRIORITY if (v := values[kind])]


def resolve(
    keys: list[tuple[str, str]], owners: dict[tuple[str, str], int], visitor_lead: int | None
) -> Resolution:
    """Pick the surviving lead from the owners of `keys` and the visitor's current lead."""
    found: list[int] = []
    for key in keys:
        owner = owners.get(key)
        if owner is not None and owner not in found:
            found.append(owner)
    if visitor_lead is not None and visitor_lead not in found:
        found.append(visitor_lead)
    if not found:
        return Resolution(None, ())
    return Resolution(found[0], tuple(found[1:]))
