"""Learning from outcomes: time and held-out ROC AUC of `leadpulse learn`, next to peers fitted
in the same run on the same split.

    python bench/learn.py [--rows 200000] [--goal-rows 50000] [--json PATH]

Data: X Education's Leads.csv (the sales-filled columns and ids left out), the online shoppers
sessions without PageValues, a synthetic file of `--goal-rows` rows × 20 columns (the time
goal) and one of `--rows` rows (seeded, written to a temporary CSV and read back like a user's
file). Peers: scikit-learn's LogisticRegression (one-hot + scaled numbers) and
HistGradientBoostingClassifier (categories as native categoricals), and optbinning's
Scorecard when `import optbinning` works (`pip install optbinning`; the bench runs without it).

Goals (issue 6): the scorecard's AUC at least every peer scorecard's, within 0.01 of the best
black box; `learn` on 50,000 rows × 20 columns in under 10 s.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Figure, write_figures

from leadpulse.learn.lookalike import Lookalike
from leadpulse.learn.modelfile import model_yaml
from leadpulse.learn.run import learn
from leadpulse.learn.scorecard import Scorecard
from leadpulse.learn.table import Dataset, read_table

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
LEADS_LEAKY = (
    "Tags", "Lead Quality", "Lead Profile", "Asymmetrique*", "Last Activity",
    "Last Notable Activity", "Prospect ID", "Lead Number",
)  # fmt: skip


def synthetic(path: Path, rows: int, seed: int = 7) -> None:
    """20 columns: 12 numeric (skewed, some non-linear, 5 % missing in a few) and 8 categorical
    (up to 40 values, a long tail of rare ones); the outcome from a logistic model with a
    threshold effect and one interaction, about 20 % positive."""
    rng = np.random.default_rng(seed)
    numeric = rng.lognormal(mean=1.0, sigma=1.0, size=(rows, 12))
    levels = [3, 5, 8, 12, 20, 30, 40, 6]
    cats = np.column_stack(
        [np.minimum(rng.zipf(1.6, size=rows), k) - 1 for k in levels]
    )  # zipf: a few common values, many rare
    effects = [rng.normal(0, 0.8, size=k) for k in levels]
    logit = -2.2 + 0.5 * np.log1p(numeric[:, 0]) - 0.4 * np.log1p(numeric[:, 1])
    logit += 0.9 * (numeric[:, 2] > 4) + 0.3 * np.sin(numeric[:, 3])
    logit += 0.25 * np.log1p(numeric[:, 4]) * (cats[:, 0] == 1)
    for j, effect in enumerate(effects):
        logit += effect[cats[:, j]]
    y = rng.uniform(size=rows) < 1 / (1 + np.exp(-logit))
    missing = rng.uniform(size=(rows, 12)) < 0.05
    missing[:, 6:] = False
    headers = [f"n{j}" for j in range(12)] + [f"c{j}" for j in range(8)] + ["converted"]
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(",".join(headers) + "\r\n")
        for i in range(rows):
            cells = ["" if missing[i, j] else f"{numeric[i, j]:.3f}" for j in range(12)]
            cells += [f"v{cats[i, j]}" for j in range(8)]
            cells.append("yes" if y[i] else "no")
            handle.write(",".join(cells) + "\r\n")


def _matrix(data: Dataset) -> tuple[np.ndarray, list[int], list[int]]:
    columns = data.frame.columns
    matrix = np.empty((data.frame.n_rows, len(columns)), dtype=object)
    numeric, text = [], []
    for j, c in enumerate(columns):
        if c.kind == "numeric":
            matrix[:, j] = c.values
            numeric.append(j)
        else:
            matrix[:, j] = [v or "missing" for v in c.values]
            text.append(j)
    return matrix, numeric, text


def _timed(fit: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = fit()
    return result, time.perf_counter() - start


def peers(data: Dataset, train: np.ndarray, test: np.ndarray) -> list[tuple[str, float, float]]:
    x, numeric, text = _matrix(data)
    y = data.y
    found = []
    logistic = make_pipeline(
        ColumnTransformer(
            [
                ("numbers", make_pipeline(SimpleImputer(), StandardScaler()), numeric),
                ("text", OneHotEncoder(handle_unknown="ignore", min_frequency=10), text),
            ]
        ),
        LogisticRegression(max_iter=3000),
    )
    _, seconds = _timed(lambda: logistic.fit(x[train], y[train]))
    auc = roc_auc_score(y[test], logistic.predict_proba(x[test])[:, 1])
    found.append(("sklearn LogisticRegression", auc, seconds))

    encoded = x.copy()
    if text:
        encoder = OrdinalEncoder(
            handle_unknown="use_encoded_value", unknown_value=np.nan, max_categories=250
        )
        encoded[:, text] = encoder.fit(x[train][:, text]).transform(x[:, text])
    encoded = encoded.astype(np.float64)
    boosting = HistGradientBoostingClassifier(
        categorical_features=text or None, random_state=0, early_stopping=True
    )
    _, seconds = _timed(lambda: boosting.fit(encoded[train], y[train]))
    auc = roc_auc_score(y[test], boosting.predict_proba(encoded[test])[:, 1])
    found.append(("sklearn HistGradientBoosting", auc, seconds))

    if importlib.util.find_spec("optbinning") is not None:
        found.append(_optbinning(data, x, numeric, text, train, test))
    return found


def _optbinning(
    data: Dataset,
    x: np.ndarray,
    numeric: list[int],
    text: list[int],
    train: np.ndarray,
    test: np.ndarray,
) -> tuple[str, float, float]:
    import pandas as pd
    from optbinning import BinningProcess, Scorecard

    names = [c.name for c in data.frame.columns]
    frame = pd.DataFrame({n: x[:, j] for j, n in enumerate(names)})
    for j in numeric:
        frame[names[j]] = frame[names[j]].astype(float)
    card = Scorecard(
        binning_process=BinningProcess(names, categorical_variables=[names[j] for j in text]),
        estimator=LogisticRegression(max_iter=3000),
        scaling_method="pdo_odds",
        scaling_method_params={"pdo": 20, "odds": 1, "scorecard_points": 100},
    )
    _, seconds = _timed(lambda: card.fit(frame.iloc[train], data.y[train]))
    auc = roc_auc_score(data.y[test], card.predict_proba(frame.iloc[test])[:, 1])
    return "optbinning Scorecard", auc, seconds


def bench(name: str, path: Path, **options: Any) -> list[tuple[str, str, float, float]]:
    """`leadpulse learn` as the command runs it: read, learn, write the model file — once as
    it runs by default (no lookalike) and once with `--lookalike`."""
    start = time.perf_counter()
    data = read_table(path, **options)
    read = time.perf_counter() - start
    run = learn(data, seed=0, lookalike=False)
    model_yaml(run.scorecard, key="bench", name="bench", source=path.name)
    default = time.perf_counter() - start
    start = time.perf_counter()
    data = read_table(path, **options)
    run = learn(data, seed=0, lookalike=True)
    model_yaml(run.scorecard, key="bench", name="bench", source=path.name)
    with_lookalike = time.perf_counter() - start
    assert run.lookalike_eval is not None
    fit_on = data.take(run.train)
    _, card_seconds = _timed(lambda: Scorecard().fit(fit_on.frame, fit_on.y, fit_on.weight))
    _, look_seconds = _timed(lambda: Lookalike().fit(fit_on.frame, fit_on.y, fit_on.weight))
    rows = [
        (name, f"learn, whole command (read {read:.1f} s)", math.nan, default),
        (name, "learn --lookalike, whole command", math.nan, with_lookalike),
        (name, "learn scorecard (fit)", run.scorecard_eval.metrics.roc_auc, card_seconds),
        (name, "learn lookalike (fit)", run.lookalike_eval.metrics.roc_auc, look_seconds),
    ]
    rows += [(name, peer, auc, seconds) for peer, auc, seconds in peers(data, run.train, run.test)]
    shape = f"{len(data.y):,} × {len(data.frame.columns)}"
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"{name}: {shape}, {len(run.test):,} held out; load average {load}", file=sys.stderr)
    return rows


PEER_CARDS = ("sklearn LogisticRegression", "optbinning Scorecard")
GOAL_SECONDS = 10.0


def figures(results: list[tuple[str, str, float, float]], goal_rows: int) -> list[Figure]:
    """Per data set: the command's time (next to the peers' fit times) and the scorecard's AUC
    (next to the best peer's)."""
    out = []
    for name in dict.fromkeys(r[0] for r in results):
        rows = {model: (auc, seconds) for n, model, auc, seconds in results if n == name}
        default = next(s for m, (_, s) in rows.items() if m.startswith("learn, whole"))
        lookalike = rows["learn --lookalike, whole command"][1]
        peers = {m: v for m, v in rows.items() if m.startswith(("sklearn", "optbinning"))}
        fits = ", ".join(f"{m.split()[-1]} {s:.1f} s" for m, (_, s) in peers.items())
        timed_goal = name == f"synthetic {goal_rows:,}"
        out.append(Figure(
            f"learn, {name}: whole command / with --lookalike",
            f"{default:.1f} / {lookalike:.1f} s",
            default, "s", f"fits alone: {fits}",
            f"under {GOAL_SECONDS:.0f} s" if timed_goal else "—",
            default < GOAL_SECONDS if timed_goal else None,
        ))  # fmt: skip
        card = rows["learn scorecard (fit)"][0]
        others = {m: auc for m, (auc, _) in peers.items()}
        others["learn lookalike"] = rows["learn lookalike (fit)"][0]
        best_name = max(others, key=lambda m: others[m])
        best_card = max(auc for m, auc in others.items() if m in PEER_CARDS)
        out.append(Figure(
            f"learn, {name}: scorecard ROC AUC (held out)", f"{card:.4f}", card, "AUC",
            f"best other {others[best_name]:.4f} ({best_name})",
            "≥ peer scorecards, within 0.01 of the best",
            card >= best_card and card >= others[best_name] - 0.01,
        ))  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=200_000, help="0: leave this file out")
    parser.add_argument("--goal-rows", type=int, default=50_000)
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args()
    results = []
    results += bench("Leads.csv", DATA / "x-education" / "Leads.csv", exclude=LEADS_LEAKY)
    shoppers = DATA / "online-shoppers" / "online_shoppers_intention.csv"
    results += bench("shoppers", shoppers, exclude=("PageValues",))
    with tempfile.TemporaryDirectory() as folder:
        for rows in (args.goal_rows, args.rows) if args.rows else (args.goal_rows,):
            path = Path(folder) / f"synthetic-{rows}.csv"
            synthetic(path, rows)
            results += bench(f"synthetic {rows:,}", path)
    print(f"{'data':<18} {'model':<36} {'ROC AUC':>8} {'seconds':>8}")
    for name, model, auc, seconds in results:
        shown_auc = "" if math.isnan(auc) else f"{auc:.4f}"
        shown_time = "" if math.isnan(seconds) else f"{seconds:.1f}"
        print(f"{name:<18} {model:<36} {shown_auc:>8} {shown_time:>8}")
    write_figures(args.json, figures(results, args.goal_rows))


if __name__ == "__main__":
    main()
