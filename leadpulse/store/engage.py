"""Offers and personalisations (versioned documents) and what each visitor saw of them.

An exposure row per visitor and offer or personalisation: its holdout group, when it was last
shown (and in which session), closed and submitted. Frequency rules read it on the collect path,
and the uplift report compares the groups.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from leadpulse.store import documents
from leadpulse.store.dialect import execute
from leadpulse.store.schema import engage_definitions, exposures, outcomes, visitors


def active(conn: Connection, kind: str) -> list[tuple[str, int, str]]:
    return documents.active(conn, engage_definitions, {"kind": kind})


def disabled(conn: Connection, kind: str) -> list[tuple[str, int, str]]:
    return documents.disabled(conn, engage_definitions, {"kind": kind})


def history(conn: Connection, kind: str, key: str) -> list[dict[str, Any]]:
    return documents.history(conn, engage_definitions, {"kind": kind}, key)


def publish(conn: Connection, kind: str, key: str, source: str, at: int) -> int:
    return documents.publish(conn, engage_definitions, {"kind": kind}, key, source, at)


def delete(conn: Connection, kind: str, key: str, at: int) -> int:
    return documents.delete(conn, engage_definitions, {"kind": kind}, key, at)


@dataclass(frozen=True, slots=True)
class Exposure:
    """One thing the tracker reported: `action` is view, close or submit."""

    kind: str
    key: str
    action: str
    group: str
    session: str | None
    at: int


def offers_seen(conn: Connection, visitor_id: int) -> dict[str, dict[str, Any]]:
    """The visitor's offer exposures by offer key (on the collect path: driver-level SQL)."""
    rows = execute(conn, _SEEN, (visitor_id,)).fetchall()
    return {
        key: {"viewed_at": viewed, "viewed_session": session, "closed_at": closed,
              "submitted_at": submitted}
        for key, viewed, session, closed, submitted in rows
    }  # fmt: skip


_SEEN = (
    "SELECT key, viewed_at, viewed_session, closed_at, submitted_at FROM exposures "
    "WHERE visitor_id = ? AND kind = 'offer'"
)


def record(conn: Connection, visitor_id: int, reported: list[Exposure]) -> None:
    """Fold the tracker's reports into the visitor's exposure rows (one per definition).

    A close or submit without an earlier view (events out of order) counts as a view too.
    """
    for e in reported:
        match = (exposures.c.visitor_id == visitor_id, exposures.c.kind == e.kind,
                 exposures.c.key == e.key)  # fmt: skip
        found = conn.execute(sa.select(exposures.c.id).where(*match)).first()
        values: dict[str, Any] = {}
        if e.action == "view":
            values = {
                "viewed_at": e.at,
                "viewed_session": e.session,
                "views": exposures.c.views + 1,
            }
        elif e.action == "close":
            values = {"closed_at": e.at}
        elif e.action == "submit":
            values = {"submitted_at": e.at}
        if found is None:
            values.update(views=1, viewed_at=e.at, viewed_session=e.session)
            conn.execute(
                sa.insert(exposures).values(
                    visitor_id=visitor_id, kind=e.kind, key=e.key, group=e.group, first_at=e.at,
                    **values,
                )
            )  # fmt: skip
        else:
            conn.execute(sa.update(exposures).where(exposures.c.id == found.id).values(**values))


def uplift(conn: Connection, kind: str, key: str) -> dict[str, dict[str, int]]:
    """Per group: visitors exposed, of them submitted (offers), became leads, and won."""
    won = (
        sa.select(outcomes.c.lead_id)
        .where(outcomes.c.outcome == "won")
        .group_by(outcomes.c.lead_id)
        .subquery()
    )
    rows = conn.execute(
        sa.select(
            exposures.c.group,
            sa.func.count().label("visitors"),
            sa.func.count(exposures.c.submitted_at).label("submitted"),
            sa.func.count(visitors.c.lead_id).label("leads"),
            sa.func.count(won.c.lead_id).label("won"),
        )
        .join(visitors, visitors.c.id == exposures.c.visitor_id)
        .outerjoin(won, won.c.lead_id == visitors.c.lead_id)
        .where(exposures.c.kind == kind, exposures.c.key == key)
        .group_by(exposures.c.group)
    )
    out = {
        group: {"visitors": 0, "submitted": 0, "leads": 0, "won": 0}
        for group in ("treatment", "holdout")
    }
    for r in rows:
        out[r.group] = {
            "visitors": r.visitors,
            "submitted": r.submitted,
            "leads": r.leads,
            "won": r.won,
        }
    return out
