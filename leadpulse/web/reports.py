"""The reports shared by the dashboard and `GET /v1/reports/{name}`: one way to choose the
model and grouping, one run, so a chart, its CSV and the API give the same numbers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from leadpulse.core.errors import InvalidInput, NotFound
from leadpulse.engage import KINDS
from leadpulse.pipeline import Pipeline
from leadpulse.scoring.engine import Published
from leadpulse.store import engage as definition_store
from leadpulse.store import reports as report_store

Report = Callable[[Any, str, list[str], list[str], str], list[dict[str, Any]]]
REPORTS: dict[str, tuple[tuple[str, ...], Report]] = {
    "funnel": (("step", "count"),
               lambda conn, model, mql, sql, _by: report_store.funnel(conn, model, mql, sql)),
    "conversion": (("key", "leads", "mql", "sql", "won", "conversion", "value", "cost",
                    "cost_per_lead", "cost_per_sale", "return"),
                   lambda conn, model, mql, sql, by: report_store.conversion(
                       conn, by, model, mql, sql)),
    "managers": (("manager", "band", "leads", "won", "lost", "conversion", "value"),
                 lambda conn, model, _mql, _sql, _by: report_store.managers_by_band(conn, model)),
    "response": (("manager", "tasks", "done", "hours"),
                 lambda conn, _model, _mql, _sql, _by: report_store.response_times(conn)),
    "actions": (("action", "leads", "won", "conversion", "lift"),
                lambda conn, _model, _mql, _sql, _by: report_store.key_actions(conn)),
    "uplift": (("kind", "key", "treatment_visitors", "treatment_leads", "holdout_visitors",
                "holdout_leads", "uplift"),
               lambda conn, _model, _mql, _sql, _by: uplift_rows(conn)),
    "bands": (("month", "band", "leads", "won", "conversion", "value"),
              lambda conn, model, _mql, _sql, _by: report_store.bands_by_month(conn, model)),
}  # fmt: skip
GROUPS = report_store.GROUPS


def uplift_rows(conn: Any) -> list[dict[str, Any]]:
    """Every saved offer and personalisation: visitors shown it (treatment) or held out, how
    many of each became leads, and the difference of the two lead rates."""
    out = []
    for kind in KINDS:
        for key, _, _ in definition_store.active(conn, kind):
            groups = definition_store.uplift(conn, kind, key)
            treated, held = groups["treatment"], groups["holdout"]
            shown, kept = (g["leads"] / g["visitors"] if g["visitors"] else None
                           for g in (treated, held))  # fmt: skip
            out.append({
                "kind": kind, "key": key,
                "treatment_visitors": treated["visitors"], "treatment_leads": treated["leads"],
                "holdout_visitors": held["visitors"], "holdout_leads": held["leads"],
                "uplift": None if shown is None or kept is None else shown - kept,
            })  # fmt: skip
    return out


def ladder(model: Published) -> tuple[list[str], list[str]]:
    """The stages that count as MQL and as SQL: from `mql` (else the first stage) on, and from
    `sql` (else the last stage) on."""
    names = [name for name, _ in model.model.stages]
    if not names:
        return [], []
    mql = names.index("mql") if "mql" in names else 0
    sql = names.index("sql") if "sql" in names else len(names) - 1
    return names[mql:], names[sql:]


def choose(pipeline: Pipeline, model: str | None, by: str | None) -> tuple[Published, str]:
    """The model the reports read (default: the first published) and the conversion grouping
    (default: channel)."""
    models = pipeline.scoring.refresh().models
    if not models:
        raise NotFound("publish a scoring model first: the reports read its bands and stages")
    wanted = model or models[0].model.key
    found = next((p for p in models if p.model.key == wanted), None)
    if found is None:
        raise InvalidInput(f"no model {wanted!r}", field="model")
    group = by or "channel"
    if group not in GROUPS:
        raise InvalidInput(f"group by one of {', '.join(GROUPS)}", field="by")
    return found, group


def run(pipeline: Pipeline, name: str, model: Published, by: str) -> list[dict[str, Any]]:
    if name not in REPORTS:
        raise NotFound(f"no report {name!r}; there are {', '.join(REPORTS)}", field="name")
    mql, sql = ladder(model)
    with pipeline.engine.connect() as conn:
        return REPORTS[name][1](conn, model.model.key, mql, sql, by)
