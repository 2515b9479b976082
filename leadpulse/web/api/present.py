"""How leads look in the API: ids as numbers, times as ISO 8601, touches and quality spelled out."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from leadpulse.core.clock import to_iso
from leadpulse.store import events as event_store
from leadpulse.store import leads as lead_store
from leadpulse.store import visitors as visitor_store


def _touch(touch: dict[str, Any] | None) -> dict[str, Any] | None:
    if not touch:
        return None
    return {**touch, "at": to_iso(touch.get("at"))}


def lead_summary(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "email": row["email"],
        "phone": row["phone"],
        "name": row["name"],
        "company": row["company"],
        "external_id": row["external_id"],
        "source": row["source"],
        "channel": row["channel"],
        "country": row["country"],
        "score": row["score"],
        "scores": row["scores"] or {},
        "quality": row["quality"],
        "created_at": to_iso(row["created_at"]),
        "updated_at": to_iso(row["updated_at"]),
        "last_seen_at": to_iso(row["last_seen_at"]),
    }


def lead_detail(conn: Connection, row: dict[str, Any]) -> dict[str, Any]:
    lead_id = row["id"]
    visitors = visitor_store.visitors_of_lead(conn, lead_id)
    counts = event_store.count_by_type(conn, lead_id)
    return {
        **lead_summary(row),
        "traits": row["traits"],
        "enrichment": _enrichment(row, visitors),
        "attribution": {
            "first_touch": _touch(row["first_touch"]),
            "last_touch": _touch(row["last_touch"]),
        },
        "identities": lead_store.identities_of(conn, lead_id),
        "visitors": [
            {
                "id": v["id"],
                "site_id": v["site_id"],
                "anonymous_id": v["anonymous_id"],
                "browser": v["browser"],
                "os": v["os"],
                "device": v["device"],
                "country": v["country"],
                "first_seen_at": to_iso(v["first_seen_at"]),
                "last_seen_at": to_iso(v["last_seen_at"]),
            }
            for v in visitors
        ],
        "counts": {"events": sum(counts.values()), "by_type": counts, "visitors": len(visitors)},
        "outcomes": [present_outcome(o) for o in lead_store.outcomes_of(conn, lead_id)],
        "merged_from": [
            {"lead": m["from_lead_id"], "reason": m["reason"], "at": to_iso(m["at"])}
            for m in lead_store.merges_into(conn, lead_id)
        ],
    }


def _enrichment(row: dict[str, Any], visitors: list[dict[str, Any]]) -> dict[str, Any]:
    """What Leadpulse found out, from the most recent visitor; sent traits are kept apart."""
    latest = max(visitors, key=lambda v: v["last_seen_at"]) if visitors else {}
    return {
        "country": row["country"] or latest.get("country"),
        "region": latest.get("region"),
        "city": latest.get("city"),
        "language": latest.get("language"),
        "browser": latest.get("browser"),
        "os": latest.get("os"),
        "device": latest.get("device"),
    }


def present_outcome(o: dict[str, Any]) -> dict[str, Any]:
    return {**o, "at": to_iso(o["at"])}


def present_event(e: dict[str, Any]) -> dict[str, Any]:
    return {**e, "ts": to_iso(e["ts"])}
