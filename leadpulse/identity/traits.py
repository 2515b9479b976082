"""How traits combine: a sent value wins, an empty one never erases, nested objects merge."""

from __future__ import annotations

from typing import Any

CONTACT_FIELDS = ("email", "phone", "external_id", "name", "company", "source")
"""Traits that also live in their own columns (searchable, sortable)."""

_ID_ALIASES = ("external_id", "user_id", "id")


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def merge_traits(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Return `old` updated with `new`; dicts merge key by key, empties are ignored."""
    out = dict(old)
    for key, value in new.items():
        if _empty(value):
            continue
        current = out.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            out[key] = merge_traits(current, value)
        else:
            out[key] = value
    return out


def split_contact_fields(traits: dict[str, Any]) -> dict[str, str | None]:
    """Read the column-backed fields out of traits (as given, not normalised)."""
    company = traits.get("company")
    if isinstance(company, dict):
        company = company.get("name")
    external = next((traits[k] for k in _ID_ALIASES if not _empty(traits.get(k))), None)
    return {
        "email": _text(traits.get("email")),
        "phone": _text(traits.get("phone")),
        "external_id": _text(external),
        "name": _text(traits.get("name")) or _full_name(traits),
        "company": _text(company),
        "source": _text(traits.get("source")),
    }


def _full_name(traits: dict[str, Any]) -> str | None:
    parts = [_text(traits.get(k)) for k in ("first_name", "last_name")]
    joined = " ".join(p for p in parts if p)
    return joined or None


def _text(value: Any) -> str | None:
    if _empty(value) or isinstance(value, (dict, list, bool)):
        return None
    return str(value).strip()
