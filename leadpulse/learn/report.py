"""The report of a learn run: a JSON document, and the same as one self-contained HTML page
with inline SVG charts (no scripts, no downloads: it opens offline and can be mailed)."""

from __future__ import annotations

import html
import json
from typing import Any

import numpy as np

from leadpulse.learn.binning import Binning
from leadpulse.learn.lookalike import Lookalike
from leadpulse.learn.run import Curve, Evaluation, Learned
from leadpulse.learn.table import Dataset

TOP_SEGMENTS = 25
FIRST_LINES = 20
"""Line numbers listed per reason rows were not used (the JSON has the count of all)."""


def report_dict(run: Learned) -> dict[str, Any]:
    data, card = run.data, run.scorecard
    return {
        "source": data.source,
        "target": data.target,
        "positive": data.positive,
        "rows": {
            "used": len(data.y),
            "train": len(run.train),
            "held_out": len(run.test),
            "split": "by time (the most recent held out)" if run.by_time else "stratified",
        },
        "not_used": [
            {"reason": s.reason, "rows": len(s.lines), "lines": list(s.lines[:FIRST_LINES])}
            for s in data.skipped
        ],
        "excluded": list(data.excluded),
        "columns": [
            {"name": c.name, "kind": c.kind, "iv": card.iv_.get(c.name, 0.0)}
            for c in data.frame.columns
        ],
        "warnings": list(run.warnings),
        "baseline": run.analysis.to_dict(),
        "key_actions": [s.to_dict() for s in run.analysis.key_actions()],
        "scorecard": {
            "pdo": card.pdo,
            "even_points": card.even_points,
            "C": card.C_,
            "base_points": card.base_points_,
            "bands": dict(card.bands_),
            "columns": [
                _points_table(b, p, float(c))
                for b, p, c in zip(card.binnings_, card.points_, card.coef_, strict=True)
            ],
            "calibration": [c.to_dict() for c in card.calibration_],
            "held_out": _evaluation(run.scorecard_eval),
        },
        "lookalike": None
        if run.lookalike is None or run.lookalike_eval is None
        else {
            "trees": len(run.lookalike.trees_),
            "held_out": _evaluation(run.lookalike_eval),
            "importance": _importance(run.lookalike, run.data.take(run.test)),
        },
    }


def _points_table(binning: Binning, points: list[int], coef: float) -> dict[str, Any]:
    return {
        "column": binning.name,
        "iv": binning.iv,
        "coef": coef,
        "bins": [
            {
                "bin": b.label(binning.shown),
                "points": p,
                "leads": b.count,
                "conversion": b.rate if b.count else None,
                "woe": b.woe,
            }
            for b, p in zip(binning.bins, points, strict=True)
        ],
    }


def _evaluation(evaluation: Evaluation) -> dict[str, Any]:
    return {
        **evaluation.metrics.to_dict(),
        "roc_curve": {
            "false_positive": list(evaluation.curve.false_positive),
            "true_positive": list(evaluation.curve.true_positive),
        },
    }


def _importance(model: Lookalike, held: Dataset) -> list[dict[str, Any]]:
    """Mean absolute move of the log-odds per column over the held-out leads."""
    moves = np.abs(model.contributions(held.frame)).mean(axis=0)
    order = np.argsort(-moves, kind="stable")
    return [{"column": model.features_[j], "mean_move": float(moves[j])} for j in order]


def report_json(run: Learned) -> str:
    return json.dumps(report_dict(run), indent=2, ensure_ascii=False)


# -- HTML -----------------------------------------------------------------------------------

_STYLE = """
body{font:15px/1.45 system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0}td,th{padding:2px 10px;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
.warn{background:#fff4d6;padding:.5em 1em;border-left:4px solid #e0a000}
.charts{display:flex;gap:2em;flex-wrap:wrap}svg text{font:11px system-ui,sans-serif}
"""


def _e(value: object) -> str:
    return html.escape(str(value))


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _table(headers: list[str], rows: list[list[object]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _roc_svg(curves: list[tuple[str, str, Curve]]) -> str:
    size, pad = 260, 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size + 2 * pad}" '
        f'height="{size + 2 * pad}" role="img" aria-label="ROC curves">',
        f'<rect x="{pad}" y="{pad}" width="{size}" height="{size}" fill="none" stroke="#999"/>',
        f'<line x1="{pad}" y1="{pad + size}" x2="{pad + size}" y2="{pad}" stroke="#ccc" '
        'stroke-dasharray="4"/>',
        f'<text x="{pad}" y="{2 * pad + size - 8}">false positive rate →</text>',
        f'<text x="4" y="{pad - 8}">true positive rate ↑</text>',
    ]
    for i, (name, colour, curve) in enumerate(curves):
        points = " ".join(
            f"{pad + x * size:.1f},{pad + (1 - y) * size:.1f}"
            for x, y in zip(curve.false_positive, curve.true_positive, strict=True)
        )
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>'
        )
        parts.append(
            f'<text x="{pad + size * 0.45}" y="{pad + size - 12 - 14 * i}" fill="{colour}">'
            f"{_e(name)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _reliability_svg(evaluation: Evaluation) -> str:
    size, pad = 260, 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size + 2 * pad}" '
        f'height="{size + 2 * pad}" role="img" aria-label="reliability">',
        f'<rect x="{pad}" y="{pad}" width="{size}" height="{size}" fill="none" stroke="#999"/>',
        f'<line x1="{pad}" y1="{pad + size}" x2="{pad + size}" y2="{pad}" stroke="#ccc" '
        'stroke-dasharray="4"/>',
        f'<text x="{pad}" y="{2 * pad + size - 8}">predicted →</text>',
        f'<text x="4" y="{pad - 8}">observed ↑</text>',
    ]
    for r in evaluation.metrics.reliability:
        radius = 3 + min(8.0, r.count**0.5 / 6)
        parts.append(
            f'<circle cx="{pad + r.predicted * size:.1f}" cy="{pad + (1 - r.observed) * size:.1f}" '
            f'r="{radius:.1f}" fill="#1f77b4" fill-opacity="0.6"><title>{r.count:g} leads: '
            f"predicted {r.predicted:.1%}, observed {r.observed:.1%}</title></circle>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _lift_svg(segments: list[dict[str, Any]]) -> str:
    bar, gap, label, width = 14, 4, 330, 300
    top = max([s["lift"] for s in segments] + [1.0])
    height = len(segments) * (bar + gap) + 20
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{label + width + 60}" height="{height}" '
        'role="img" aria-label="lift by segment">',
    ]
    for i, s in enumerate(segments):
        y = i * (bar + gap)
        text = f"{s['column']}: {s['label']}"
        if len(text) > 50:
            text = text[:49] + "…"
        parts.append(f'<text x="{label - 6}" y="{y + bar - 3}" text-anchor="end">{_e(text)}</text>')
        parts.append(
            f'<rect x="{label}" y="{y}" width="{width * s["lift"] / top:.1f}" height="{bar}" '
            f'fill="#2ca02c"/><text x="{label + width * s["lift"] / top + 4:.1f}" '
            f'y="{y + bar - 3}">×{s["lift"]:.2f}</text>'
        )
    average = label + width / top
    parts.append(
        f'<line x1="{average:.1f}" y1="0" x2="{average:.1f}" y2="{height}" stroke="#c00" '
        'stroke-width="2" stroke-dasharray="3"/></svg>'
    )
    return "".join(parts)


def report_html(run: Learned) -> str:
    doc = report_dict(run)
    card = doc["scorecard"]
    held = card["held_out"]
    overall = doc["baseline"]["overall"]
    out = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Leadpulse learn: {_e(doc['source'])}</title><style>{_STYLE}</style></head><body>",
        f"<h1>What converts in {_e(doc['source'])}</h1>",
        f"<p>Outcome: <b>{_e(doc['target'])} = {_e(doc['positive'])}</b>. "
        f"{doc['rows']['used']} rows used ({doc['rows']['train']} to learn, "
        f"{doc['rows']['held_out']} held out, {_e(doc['rows']['split'])}).</p>",
    ]
    if doc["not_used"]:
        out.append("<h2>Rows not used</h2>")
        out.append(
            _table(
                ["reason", "rows", "first lines"],
                [
                    [n["reason"], n["rows"], ", ".join(map(str, n["lines"]))]
                    for n in doc["not_used"]
                ],
            )
        )
    out.extend(f"<p class='warn'>⚠ {_e(w)}</p>" for w in doc["warnings"])
    out.append("<h2>1. Baseline and key actions</h2>")
    out.append(
        f"<p>Overall conversion <b>{_pct(overall['rate'])}</b> (95 % interval "
        f"{_pct(overall['low'])} – {_pct(overall['high'])}, {overall['count']:g} leads). "
        "Segments below convert better than that, and their whole interval lies above it; "
        "the red line is the average (lift 1).</p>"
    )
    actions = doc["key_actions"][:TOP_SEGMENTS]
    if actions:
        out.append(_lift_svg(actions))
    out.append(
        _table(
            ["column", "segment", "leads", "conversion", "95 % interval", "lift"],
            [
                [
                    s["column"],
                    s["label"],
                    f"{s['rate']['count']:g}",
                    _pct(s["rate"]["rate"]),
                    f"{_pct(s['rate']['low'])} – {_pct(s['rate']['high'])}",
                    f"×{s['lift']:.2f}",
                ]
                for s in actions
            ],
        )
    )
    out.append("<h2>2. The points scorecard</h2>")
    bands = ", ".join(f"{_e(k)} from {v}" for k, v in card["bands"].items())
    out.append(
        f"<p>Every lead starts with <b>{card['base_points']}</b> points and gets one line's "
        f"points per column. {card['even_points']:g} points = even odds; every "
        f"{card['pdo']:g} points double the odds. Bands: {bands}.</p>"
    )
    for column in card["columns"]:
        out.append(f"<h3>{_e(column['column'])} (information value {column['iv']:.3f})</h3>")
        out.append(
            _table(
                ["bin", "points", "leads", "conversion"],
                [
                    [b["bin"], f"{b['points']:+d}", f"{b['leads']:g}", _pct(b["conversion"])]
                    for b in column["bins"]
                ],
            )
        )
    out.append("<h3>Calibration (training leads)</h3>")
    out.append(
        _table(
            ["points", "leads", "predicted", "observed"],
            [
                [
                    f"{c['low']} to {c['high']}",
                    f"{c['count']:g}",
                    _pct(c["predicted"]),
                    _pct(c["observed"]),
                ]
                for c in card["calibration"]
            ],
        )
    )
    out.append("<h2>3. How well it ranks leads it never saw</h2>")
    models = [("scorecard", held)]
    if doc["lookalike"]:
        models.append(("lookalike", doc["lookalike"]["held_out"]))
    out.append(
        _table(
            [
                "model",
                "ROC AUC",
                "PR AUC",
                "Brier",
                "lift top 10 %",
                "capture top 10 %",
                "lift top 20 %",
                "capture top 20 %",
            ],
            [
                [
                    name,
                    f"{m['roc_auc']:.3f}",
                    f"{m['pr_auc']:.3f}",
                    f"{m['brier']:.3f}",
                    f"×{m['lift_10']:.2f}",
                    _pct(m["capture_10"]),
                    f"×{m['lift_20']:.2f}",
                    _pct(m["capture_20"]),
                ]
                for name, m in models
            ],
        )
    )
    curves = [("scorecard", "#1f77b4", run.scorecard_eval.curve)]
    if run.lookalike_eval is not None:
        curves.append(("lookalike", "#ff7f0e", run.lookalike_eval.curve))
    out.append(
        "<div class='charts'>"
        + _roc_svg(curves)
        + _reliability_svg(run.scorecard_eval)
        + "</div><p>Left: ROC curves (the higher, the better the ranking). Right: scorecard "
        "reliability — predicted against observed conversion on the held-out leads; points on "
        "the dashed line are well calibrated.</p>"
    )
    if doc["lookalike"]:
        out.append("<h2>4. The lookalike model: what it looks at</h2>")
        out.append(
            _table(
                ["column", "mean move of the log-odds"],
                [[i["column"], f"{i['mean_move']:.3f}"] for i in doc["lookalike"]["importance"]],
            )
        )
    out.append("</body></html>")
    return "\n".join(out)
