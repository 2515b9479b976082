"""The reports page: the funnel, conversion by channel, source or campaign, managers'
results per band, and each band's conversion by month — each a chart, a table and a CSV of
the same numbers."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from leadpulse.core.errors import InvalidInput, NotFound
from leadpulse.pipeline import Pipeline
from leadpulse.scoring.engine import Published
from leadpulse.store import reports as report_store
from leadpulse.web.dashboard.charts import bars, percent
from leadpulse.web.dashboard.guard import STAFF, Ctx, Guard

Report = Callable[[Any, str, list[str], list[str], str], list[dict[str, Any]]]
REPORTS: dict[str, tuple[tuple[str, ...], Report]] = {
    "funnel": (("step", "count"),
               lambda conn, model, mql, sql, _by: report_store.funnel(conn, model, mql, sql)),
    "conversion": (("key", "leads", "mql", "sql", "won", "conversion", "value"),
                   lambda conn, model, mql, sql, by: report_store.conversion(
                       conn, by, model, mql, sql)),
    "managers": (("manager", "band", "leads", "won", "lost", "conversion", "value"),
                 lambda conn, model, _mql, _sql, _by: report_store.managers_by_band(conn, model)),
    "response": (("manager", "tasks", "done", "hours"),
                 lambda conn, _model, _mql, _sql, _by: report_store.response_times(conn)),
    "bands": (("month", "band", "leads", "won", "conversion", "value"),
              lambda conn, model, _mql, _sql, _by: report_store.bands_by_month(conn, model)),
}  # fmt: skip


def ladder(model: Published) -> tuple[list[str], list[str]]:
    """The stages that count as MQL and as SQL: from `mql` (else the first stage) on, and from
    `sql` (else the last stage) on."""
    names = [name for name, _ in model.model.stages]
    if not names:
        return [], []
    mql = names.index("mql") if "mql" in names else 0
    sql = names.index("sql") if "sql" in names else len(names) - 1
    return names[mql:], names[sql:]


def _choice(ctx: Ctx) -> tuple[Published, str]:
    models = ctx.pipeline.scoring.refresh().models
    if not models:
        raise NotFound("publish a scoring model first: the reports read its bands and stages")
    wanted = ctx.query("model") or models[0].model.key
    model = next((p for p in models if p.model.key == wanted), None)
    if model is None:
        raise InvalidInput(f"no model {wanted!r}", field="model")
    by = ctx.query("by") or "channel"
    if by not in report_store.GROUPS:
        raise InvalidInput(f"group by one of {', '.join(report_store.GROUPS)}", field="by")
    return model, by


def _run(pipeline: Pipeline, name: str, model: Published, by: str) -> list[dict[str, Any]]:
    mql, sql = ladder(model)
    with pipeline.engine.connect() as conn:
        return REPORTS[name][1](conn, model.model.key, mql, sql, by)


def charts(data: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    by_band: dict[str, list[int]] = {}
    for row in data["bands"]:
        counts = by_band.setdefault(row["band"], [0, 0])
        counts[0] += row["leads"]
        counts[1] += row["won"]
    return {
        "funnel": bars([(r["step"], r["count"]) for r in data["funnel"]], "The funnel"),
        "conversion": bars([(r["key"], r["conversion"]) for r in data["conversion"]],
                           "Won of leads", percent),
        "managers": bars([(f"{r['manager']} · {r['band']}", r["conversion"])
                          for r in data["managers"]], "Win rate per manager and band", percent),
        "response": bars([(r["manager"], r["hours"]) for r in data["response"]],
                         "Average hours to a done call-back", lambda v: f"{v:,.1f} h"),
        "bands": bars([(band, won / leads if leads else None)
                       for band, (leads, won) in by_band.items()], "Won of leads per band",
                      percent),
    }  # fmt: skip


def routes(pipeline: Pipeline, guard: Guard) -> list[Route]:
    @guard.page(STAFF)
    def reports(ctx: Ctx) -> Response:
        model, by = _choice(ctx)
        data = {name: _run(pipeline, name, model, by) for name in REPORTS}
        return ctx.render("reports.html", data=data, charts=charts(data), model=model, by=by,
                          models=pipeline.scoring.refresh().models, groups=report_store.GROUPS,
                          query=f"model={model.model.key}&by={by}")  # fmt: skip

    @guard.page(STAFF)
    def report_csv(ctx: Ctx) -> Response:
        name = ctx.request.path_params["name"]
        if name not in REPORTS:
            raise NotFound(f"no report {name!r}", field="name")
        model, by = _choice(ctx)
        columns = REPORTS[name][0]
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns)
        for row in _run(pipeline, name, model, by):
            writer.writerow(["" if row[c] is None else row[c] for c in columns])
        return Response(
            buffer.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{name}.csv"'},
        )

    return [Route("/reports", reports), Route("/reports/{name}.csv", report_csv)]
