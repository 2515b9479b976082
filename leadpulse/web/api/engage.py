"""`/v1/offers` and `/v1/personalizations`: documents like scoring models — save, read,
validate, delete — and the holdout report that measures each one's uplift."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from leadpulse.core.errors import NotFound
from leadpulse.engage import Definition, Kind, Offer, parse_definition
from leadpulse.pipeline import Pipeline
from leadpulse.store import engage as engage_store
from leadpulse.web.api import documents

_PATHS: dict[Kind, str] = {"offer": "offers", "personalization": "personalizations"}


def summary(item: Definition, version: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        "key": item.key,
        "name": item.name,
        "site": item.site,
        "version": version,
        "holdout": item.holdout,
    }
    if isinstance(item, Offer):
        out["fields"] = [f.name for f in item.content.fields]
        out["moments"] = {
            "exit_intent": item.when.exit_intent,
            "seconds_on_page": item.when.seconds_on_page,
            "scroll_depth": item.when.scroll_depth,
        }
    else:
        out["changes"] = len(item.changes)
    return out


def _rates(groups: dict[str, dict[str, int]]) -> dict[str, Any]:
    """Conversion (became a lead) per group and the difference: the measured uplift."""
    rates = {
        group: round(counts["leads"] / counts["visitors"], 4) if counts["visitors"] else None
        for group, counts in groups.items()
    }
    treated, held = rates.get("treatment"), rates.get("holdout")
    uplift = round(treated - held, 4) if treated is not None and held is not None else None
    return {"lead_rate": rates, "uplift": uplift}


def router(pipeline: Pipeline, kind: Kind) -> APIRouter:
    noun = kind
    r = documents.router(
        pipeline,
        documents.Kind(
            kind, _PATHS[kind], noun, lambda text, src: parse_definition(kind, text, src), summary
        ),
    )

    @r.get("/{key}/stats")
    def stats(key: str) -> dict[str, Any]:
        """Visitors exposed per group (treatment, holdout), how many of them submitted (offers),
        became leads and were won — and the lead-rate difference between the groups."""
        with pipeline.engine.connect() as conn:
            if key not in {k for k, _, _ in engage_store.active(conn, kind)}:
                raise NotFound(f"no {noun} {key!r}", field="key")
            groups = engage_store.uplift(conn, kind, key)
        return {"key": key, "groups": groups, **_rates(groups)}

    return r
