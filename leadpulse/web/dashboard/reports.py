"""The reports page: the funnel, conversion by channel, source or campaign, managers'
results per band, and each band's conversion by month — each a chart, a table and a CSV of
the same numbers."""

from __future__ import annotations

import csv
import io
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from leadpulse.pipeline import Pipeline
from leadpulse.scoring.engine import Published
from leadpulse.web.dashboard.charts import bars, percent
from leadpulse.web.dashboard.guard import STAFF, Ctx, Guard
from leadpulse.web.reports import GROUPS, REPORTS, choose, run


def _choice(ctx: Ctx) -> tuple[Published, str]:
    return choose(ctx.pipeline, ctx.query("model") or None, ctx.query("by") or None)


def charts(data: dict[str, list[dict[str, Any]]], model: Published) -> dict[str, Any]:
    by_band: dict[str, list[int]] = {name: [0, 0] for name, _ in model.model.bands}
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
        "actions": bars([(r["action"], r["lift"]) for r in data["actions"]],
                        "Lift: win rate of those who did it over all leads",
                        lambda v: f"{v:,.2f}×"),
        "uplift": bars([(f"{r['kind']} {r['key']}", r["uplift"]) for r in data["uplift"]],
                       "Lead rate shown minus held out", lambda v: f"{v * 100:+.1f} pp"),
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
        data = {name: run(pipeline, name, model, by) for name in REPORTS}
        spent = any(r["cost"] is not None for r in data["conversion"])
        return ctx.render("reports.html", data=data, charts=charts(data, model), model=model, by=by,
                          spent=spent, models=pipeline.scoring.refresh().models, groups=GROUPS,
                          query=f"model={model.model.key}&by={by}")  # fmt: skip

    @guard.page(STAFF)
    def report_csv(ctx: Ctx) -> Response:
        name = ctx.request.path_params["name"]
        model, by = _choice(ctx)
        rows = run(pipeline, name, model, by)
        columns = REPORTS[name][0]
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if row[c] is None else row[c] for c in columns])
        return Response(
            buffer.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{name}.csv"'},
        )

    return [Route("/reports", reports), Route("/reports/{name}.csv", report_csv)]
