"""Listing leads: filters, sort and keyset paging (stable under inserts, fast on deep pages)."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from leadpulse.core.document import KEY
from leadpulse.core.errors import InvalidInput
from leadpulse.store.rows import as_dict
from leadpulse.store.schema import LEAD_ROW, leads, managers, segment_members

SORTABLE = {
    "score": leads.c.score,
    "created_at": leads.c.created_at,
    "last_seen_at": leads.c.last_seen_at,
    "updated_at": leads.c.updated_at,
}


@dataclass(frozen=True, slots=True)
class LeadFilter:
    q: str | None = None
    email: str | None = None
    source: str | None = None
    channel: str | None = None
    country: str | None = None
    min_score: float | None = None
    created_after: int | None = None
    created_before: int | None = None
    model: str | None = None
    """The scoring model whose band and stage `band` and `stage` read."""
    band: str | None = None
    stage: str | None = None
    segment: str | None = None
    owner: str | None = None
    """A manager's key, or `NOBODY` for leads no one owns."""


NOBODY = "-"


@dataclass(frozen=True, slots=True)
class Page:
    items: list[dict[str, Any]]
    total: int
    next: str | None


def _conditions(f: LeadFilter) -> list[Any]:
    conds: list[Any] = [leads.c.merged_into.is_(None)]
    if f.q:
        like = f"%{f.q.lower()}%"
        conds.append(
            sa.or_(
                sa.func.lower(leads.c.email).like(like),
                sa.func.lower(leads.c.name).like(like),
                sa.func.lower(leads.c.company).like(like),
                leads.c.phone.like(f"%{f.q}%"),
                *_phone_digits(f.q),
            )
        )
    if f.email:
        conds.append(leads.c.email == f.email.strip().lower())
    if f.source:
        conds.append(leads.c.source == f.source)
    if f.channel:
        conds.append(leads.c.channel == f.channel)
    if f.country:
        conds.append(leads.c.country == f.country.upper())
    if f.min_score is not None:
        conds.append(leads.c.score >= f.min_score)
    if f.created_after is not None:
        conds.append(leads.c.created_at >= f.created_after)
    if f.created_before is not None:
        conds.append(leads.c.created_at < f.created_before)
    for part in ("band", "stage"):
        wanted = getattr(f, part)
        if wanted:
            if not f.model:
                raise InvalidInput(f"say whose {part} with model=KEY", field="model")
            if not KEY.fullmatch(f.model):
                conds.append(sa.false())  # no model has such a key (nor could it be a path)
                continue
            conds.append(leads.c.scores[(f.model, part)].as_string() == wanted)
    if f.segment:
        conds.append(
            leads.c.id.in_(
                sa.select(segment_members.c.lead_id).where(
                    segment_members.c.segment == f.segment, segment_members.c.left_at.is_(None)
                )
            )
        )
    if f.owner == NOBODY:
        conds.append(leads.c.owner_id.is_(None))
    elif f.owner:
        conds.append(
            leads.c.owner_id.in_(sa.select(managers.c.id).where(managers.c.key == f.owner))
        )
    return conds


def _phone_digits(q: str) -> list[Any]:
    """A number typed as people write it (`+48 601-234 567`) finds the stored E.164 form."""
    digits = re.sub(r"\D", "", q)
    if len(digits) < 3 or re.search(r"[^\d\s+()./-]", q):
        return []
    return [leads.c.phone.like(f"%{digits}%")]


def encode_cursor(value: Any, lead_id: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([value, lead_id])).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[Any, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, lead_id = orjson.loads(base64.urlsafe_b64decode(padded))
        if not isinstance(lead_id, int) or not isinstance(value, (int, float)):
            raise ValueError
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise InvalidInput("cursor is not one this API gave out", field="cursor") from None
    return value, lead_id


def list_leads(
    conn: Connection, f: LeadFilter, *, sort: str, limit: int, cursor: str | None
) -> Page:
    descending = sort.startswith("-")
    name = sort.lstrip("-")
    column = SORTABLE.get(name)
    if column is None:
        raise InvalidInput(
            f"cannot sort by {name!r}; use one of {', '.join(sorted(SORTABLE))} (prefix - for "
            "descending)",
            field="sort",
        )
    conds = _conditions(f)
    total = conn.execute(sa.select(sa.func.count()).select_from(leads).where(*conds)).scalar_one()
    q = sa.select(*LEAD_ROW).where(*conds)
    if cursor:
        value, last_id = decode_cursor(cursor)
        if descending:
            q = q.where(sa.tuple_(column, leads.c.id) < sa.tuple_(value, last_id))
        else:
            q = q.where(sa.tuple_(column, leads.c.id) > sa.tuple_(value, last_id))
    order = (column.desc(), leads.c.id.desc()) if descending else (column.asc(), leads.c.id.asc())
    rows = [as_dict(r) for r in conn.execute(q.order_by(*order).limit(limit + 1))]
    nxt = None
    if len(rows) > limit:
        rows = rows[:limit]
        nxt = encode_cursor(rows[-1][name], rows[-1]["id"])
    return Page(items=rows, total=int(total), next=nxt)
