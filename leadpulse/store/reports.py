"""The dashboard's reports, counted in the database: conversion by channel, source or
campaign; managers' leads and wins per band; each band's conversion by month; the funnel.

A lead has reached a stage when its stage (of the model the report reads) is that stage or a
later one; it is won when it has a `won` outcome, and its value is the sum of those.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from leadpulse.store import spend as spend_store
from leadpulse.store.dialect import is_postgres
from leadpulse.store.schema import events, leads, managers, outcomes, tasks, visitors

GROUPS = ("channel", "source", "campaign")
NONE = "(none)"


def _won() -> Any:
    return (
        sa.select(
            outcomes.c.lead_id,
            sa.func.sum(sa.func.coalesce(outcomes.c.value, 0)).label("value"),
        )
        .where(outcomes.c.outcome == "won")
        .group_by(outcomes.c.lead_id)
        .subquery()
    )


def _lost() -> Any:
    return (
        sa.select(outcomes.c.lead_id)
        .where(outcomes.c.outcome == "lost")
        .group_by(outcomes.c.lead_id)
        .subquery()
    )


def _stage(model: str) -> Any:
    return leads.c.scores[(model, "stage")].as_string()


def _band(model: str) -> Any:
    return sa.func.coalesce(leads.c.scores[(model, "band")].as_string(), NONE)


def _reached(model: str, stages: Sequence[str]) -> Any:
    """1 for a lead at one of `stages`, else 0 (summed: how many reached them)."""
    if not stages:
        return sa.literal(0)
    return sa.case((_stage(model).in_(list(stages)), 1), else_=0)


def conversion(
    conn: Connection, by: str, model: str, mql: Sequence[str], sql: Sequence[str]
) -> list[dict[str, Any]]:
    """Per channel, source or campaign (of the first touch): leads, MQL, SQL, won, value; and
    where ad spend was imported for it, the cost, cost per lead and per sale, and value won
    per unit of cost."""
    column = {
        "channel": leads.c.channel,
        "source": leads.c.source,
        "campaign": leads.c.first_touch["campaign"].as_string(),
    }[by]
    key = sa.func.coalesce(column, NONE).label("key")
    won = _won()
    rows = conn.execute(
        sa.select(
            key,
            sa.func.count().label("leads"),
            sa.func.sum(_reached(model, mql)).label("mql"),
            sa.func.sum(_reached(model, sql)).label("sql"),
            sa.func.count(won.c.lead_id).label("won"),
            sa.func.coalesce(sa.func.sum(won.c.value), 0).label("value"),
        )
        .outerjoin(won, won.c.lead_id == leads.c.id)
        .where(leads.c.merged_into.is_(None))
        .group_by(key)
        .order_by(sa.func.count().desc(), key)
    )
    cost = spend_store.totals(conn, by)
    out = []
    for r in rows:
        row = _rates(dict(r._mapping))
        spent = cost.get(row["key"])
        row["cost"] = spent
        row["cost_per_lead"] = spent / row["leads"] if spent is not None and row["leads"] else None
        row["cost_per_sale"] = spent / row["won"] if spent is not None and row["won"] else None
        row["return"] = row["value"] / spent if spent else None
        out.append(row)
    return out


def managers_by_band(conn: Connection, model: str) -> list[dict[str, Any]]:
    """Per manager and band: leads received, won, lost, and the win rate — a weak manager
    wins less than others of the same band; weak leads are a lower band."""
    won, lost = _won(), _lost()
    band = _band(model).label("band")
    manager = sa.func.coalesce(managers.c.key, NONE).label("manager")
    rows = conn.execute(
        sa.select(
            manager,
            band,
            sa.func.count().label("leads"),
            sa.func.count(won.c.lead_id).label("won"),
            sa.func.count(lost.c.lead_id).label("lost"),
            sa.func.coalesce(sa.func.sum(won.c.value), 0).label("value"),
        )
        .outerjoin(managers, managers.c.id == leads.c.owner_id)
        .outerjoin(won, won.c.lead_id == leads.c.id)
        .outerjoin(lost, lost.c.lead_id == leads.c.id)
        .where(leads.c.merged_into.is_(None))
        .group_by(manager, band)
        .order_by(manager, band)
    )
    return [_rates(dict(r._mapping)) for r in rows]


def response_times(conn: Connection) -> list[dict[str, Any]]:
    """Per manager: call-back tasks given, done, and the average hours from task to done."""
    manager = sa.func.coalesce(managers.c.key, NONE).label("manager")
    rows = conn.execute(
        sa.select(
            manager,
            sa.func.count().label("tasks"),
            sa.func.count(tasks.c.done_at).label("done"),
            sa.func.avg(tasks.c.done_at - tasks.c.created_at).label("ms"),
        )
        .outerjoin(managers, managers.c.id == tasks.c.manager_id)
        .group_by(manager)
        .order_by(manager)
    )
    return [
        {"manager": r.manager, "tasks": int(r.tasks), "done": int(r.done),
         "hours": None if r.ms is None else round(float(r.ms) / 3_600_000, 2)}
        for r in rows
    ]  # fmt: skip


def key_actions(conn: Connection) -> list[dict[str, Any]]:
    """Per event type: the leads who did it, how many of them were won, and the lift — their
    win rate over every lead's (S0.2: which actions mark a buyer)."""
    won = _won()
    everyone = conn.execute(
        sa.select(sa.func.count(), sa.func.count(won.c.lead_id))
        .select_from(leads)
        .outerjoin(won, won.c.lead_id == leads.c.id)
        .where(leads.c.merged_into.is_(None))
    ).one()
    base = everyone[1] / everyone[0] if everyone[0] else None
    did = (
        sa.select(events.c.type, events.c.lead_id)
        .where(events.c.lead_id.is_not(None), events.c.is_bot.is_(False))
        .group_by(events.c.type, events.c.lead_id)
        .subquery()
    )
    rows = conn.execute(
        sa.select(did.c.type, sa.func.count().label("leads"),
                  sa.func.count(won.c.lead_id).label("won"))
        .outerjoin(won, won.c.lead_id == did.c.lead_id)
        .group_by(did.c.type)
        .order_by(sa.func.count(won.c.lead_id).desc(), sa.func.count().desc(), did.c.type)
    )  # fmt: skip
    out = []
    for r in rows:
        rate = r.won / r.leads if r.leads else None
        lift = rate / base if rate is not None and base else None
        out.append({"action": r.type, "leads": int(r.leads), "won": int(r.won),
                    "conversion": rate, "lift": lift})  # fmt: skip
    return out


def _month(conn: Connection) -> Any:
    if is_postgres(conn):
        return sa.func.to_char(sa.func.to_timestamp(leads.c.created_at / 1000), "YYYY-MM")
    return sa.func.strftime("%Y-%m", leads.c.created_at / 1000, "unixepoch")


def bands_by_month(conn: Connection, model: str) -> list[dict[str, Any]]:
    """Per month a lead was created and its band now: leads and won — does a hot lead still
    convert more than a warm one?"""
    won = _won()
    month = _month(conn).label("month")
    band = _band(model).label("band")
    rows = conn.execute(
        sa.select(
            month,
            band,
            sa.func.count().label("leads"),
            sa.func.count(won.c.lead_id).label("won"),
            sa.func.coalesce(sa.func.sum(won.c.value), 0).label("value"),
        )
        .outerjoin(won, won.c.lead_id == leads.c.id)
        .where(leads.c.merged_into.is_(None))
        .group_by(month, band)
        .order_by(month, band)
    )
    return [_rates(dict(r._mapping)) for r in rows]


def funnel(
    conn: Connection, model: str, mql: Sequence[str], sql: Sequence[str]
) -> list[dict[str, Any]]:
    """Visitors (people, not bots) → leads → MQL → SQL → won."""
    people = conn.execute(
        sa.select(sa.func.count()).select_from(visitors).where(visitors.c.is_bot.is_(False))
    ).scalar_one()
    won = _won()
    row = conn.execute(
        sa.select(
            sa.func.count().label("leads"),
            sa.func.coalesce(sa.func.sum(_reached(model, mql)), 0).label("mql"),
            sa.func.coalesce(sa.func.sum(_reached(model, sql)), 0).label("sql"),
            sa.func.count(won.c.lead_id).label("won"),
        )
        .outerjoin(won, won.c.lead_id == leads.c.id)
        .where(leads.c.merged_into.is_(None))
    ).one()
    steps = [("visitors", people), ("leads", row.leads), ("MQL", row.mql), ("SQL", row.sql),
             ("won", row.won)]  # fmt: skip
    return [{"step": step, "count": int(count or 0)} for step, count in steps]


def _rates(row: dict[str, Any]) -> dict[str, Any]:
    row = {
        k: (int(v) if k in ("leads", "mql", "sql", "won", "lost") else v) for k, v in row.items()
    }
    row["value"] = float(row.get("value") or 0)
    row["conversion"] = row["won"] / row["leads"] if row["leads"] else None
    return row
