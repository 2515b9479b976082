"""Acceptance on X Education's Leads.csv: a points scorecard that ranks held-out leads at least
as well as a plain logistic regression, written as a model file that scores the same."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import numpy as np
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from leadpulse.collect.csvfile import trait_key
from leadpulse.learn.baseline import analyse, wilson
from leadpulse.learn.evaluate import split
from leadpulse.learn.modelfile import model_yaml
from leadpulse.learn.scorecard import Scorecard
from leadpulse.learn.suggest import rule_hits, suggest_points
from leadpulse.learn.table import Dataset, read_table
from leadpulse.pipeline.offline import score_csv
from leadpulse.scoring.parse import parse_model
from tests.learn.datasets import HAND_MODEL, LEADS, LEADS_LEAKY


@dataclass(frozen=True)
class Fitted:
    data: Dataset
    train_rows: np.ndarray
    test_rows: np.ndarray
    train: Dataset
    test: Dataset
    card: Scorecard


@pytest.fixture(scope="module")
def leads() -> Fitted:
    data = read_table(LEADS, target="Converted", exclude=LEADS_LEAKY)
    train, test = split(data, test_size=0.25, seed=0)
    fit_on = data.take(train)
    card = Scorecard().fit(fit_on.frame, fit_on.y, fit_on.weight)
    return Fitted(data, train, test, fit_on, data.take(test), card)


def _plain_matrix(data: Dataset) -> tuple[np.ndarray, list[int], list[int]]:
    """The columns as scikit-learn users would pass them: numbers and text, None if empty."""
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


def test_scorecard_ranks_held_out_leads_at_least_as_well_as_logistic_regression(
    leads: Fitted,
) -> None:
    ours = roc_auc_score(leads.test.y, leads.card.points(leads.test.frame))
    train_x, numeric, text = _plain_matrix(leads.train)
    test_x, _, _ = _plain_matrix(leads.test)
    plain = make_pipeline(
        ColumnTransformer(
            [
                ("numbers", make_pipeline(SimpleImputer(), StandardScaler()), numeric),
                ("text", OneHotEncoder(handle_unknown="ignore"), text),
            ]
        ),
        LogisticRegression(max_iter=2000),
    )
    plain.fit(train_x, leads.train.y)
    theirs = roc_auc_score(leads.test.y, plain.predict_proba(test_x)[:, 1])
    assert ours >= 0.85
    assert ours >= theirs, (ours, theirs)


def test_the_leaky_columns_are_left_out_and_select_is_missing(leads: Fitted) -> None:
    names = {c.name for c in leads.data.frame.columns}
    assert not names & {"Tags", "Lead Quality", "Asymmetrique Activity Index", "Prospect ID"}
    assert "Asymmetrique Profile Score" in leads.data.excluded
    specialization = leads.data.frame.column("Specialization")
    assert "s:select" not in set(specialization.values)
    assert (specialization.values == "").sum() > 3000  # 'Select' and empty cells alike


def test_the_model_file_scores_every_held_out_row_like_the_scorecard(leads: Fitted) -> None:
    text = model_yaml(leads.card, key="leads", name="Leads", source="Leads.csv")
    model = parse_model(text, "leads.yaml")
    scored = io.StringIO()
    with LEADS.open(newline="", encoding="utf-8-sig") as source:
        score_csv(model, source, scored, now=0)
    rows = list(csv.reader(io.StringIO(scored.getvalue())))
    header, body = rows[0], rows[1:]
    totals = np.array([float(r[header.index("score")]) for r in body])
    bands = [r[header.index("band")] for r in body]
    expected = leads.card.points(leads.test.frame)
    assert np.array_equal(totals[leads.test.rows], expected)
    assert [bands[i] for i in leads.test.rows] == [leads.card.band(int(t)) for t in expected]
    assert "100 points = even odds" in model.description
    assert text.startswith("# Calibration")


def test_every_column_has_a_rule_for_missing_values_unless_it_is_worth_nothing(
    leads: Fitted,
) -> None:
    model = parse_model(model_yaml(leads.card, key="leads", name="L", source="x"), "l.yaml")
    keys = {r.key for r in model.rules}
    for binning, points in zip(leads.card.binnings_, leads.card.points_, strict=True):
        missing_points = points[-1]
        stem = trait_key(binning.name)
        assert (f"{stem}_missing" in keys) == (missing_points != 0), binning.name


def test_points_double_the_odds_every_pdo(leads: Fitted) -> None:
    card = leads.card
    odds = [p / (1 - p) for p in card.probability(np.array([60.0, 80.0, 100.0]))]
    assert odds[1] / odds[0] == pytest.approx(2.0)
    assert odds[2] == pytest.approx(1.0)
    names = [name for name, _ in card.bands_]
    bounds = [bound for _, bound in card.bands_]
    assert names == ["cold", "warm", "hot"]
    assert bounds == sorted(bounds)
    hot = leads.test.y[leads.card.points(leads.test.frame) >= bounds[2]].mean()
    cold = leads.test.y[leads.card.points(leads.test.frame) < bounds[1]].mean()
    assert hot > 2 * leads.test.y.mean() > cold


def test_scorecard_contract_seed_and_json_round_trip(leads: Fitted) -> None:
    fresh = Scorecard(pdo=10)
    assert fresh.pdo == 10
    assert not hasattr(fresh, "points_")
    assert fresh.fit(leads.train.frame, leads.train.y) is fresh
    again = Scorecard().fit(leads.train.frame, leads.train.y, leads.train.weight)
    assert again.to_json() == leads.card.to_json()
    loaded = Scorecard.from_json(leads.card.to_json())
    assert loaded.to_json() == leads.card.to_json()
    assert np.array_equal(loaded.points(leads.test.frame), leads.card.points(leads.test.frame))
    assert np.allclose(
        loaded.predict_proba(leads.test.frame), leads.card.predict_proba(leads.test.frame)
    )


def test_baseline_and_key_actions(leads: Fitted) -> None:
    analysis = analyse(leads.data)
    assert analysis.overall.rate == pytest.approx(3561 / 9240)
    assert analysis.overall.low < analysis.overall.rate < analysis.overall.high
    found = {(s.column, s.label) for s in analysis.key_actions()}
    assert ("Lead Origin", "Lead Add Form") in found
    assert ("What is your current occupation", "Working Professional") in found
    lifts = [s.lift for s in analysis.segments]
    assert lifts == sorted(lifts, reverse=True)
    low, high = wilson(3561, 9240)
    assert low == pytest.approx(0.3755, abs=1e-4)
    assert high == pytest.approx(0.3954, abs=1e-4)


def test_suggested_points_for_a_hand_written_model_rank_held_out_leads_better(
    leads: Fitted,
) -> None:
    model = parse_model(HAND_MODEL, "hand.yaml")
    hits = rule_hits(model, LEADS)
    assert hits.shape == (9240, 7)  # the event rule is left as it is
    suggestion = suggest_points(model, hits, leads.data, leads.train_rows, leads.test_rows)
    assert suggestion.auc_suggested > suggestion.auc_current + 0.01
    changes = {c.rule: c for c in suggestion.changes}
    assert "pricing" not in changes
    assert changes["lead_add_form"].suggested > 0 > changes["do_not_email"].suggested
    assert changes["working"].conversion > 0.85
    assert sum(abs(c.suggested) for c in changes.values()) == pytest.approx(40, abs=3)
    diff = suggestion.diff()
    assert diff.startswith("# hand: suggested points (held-out ROC AUC 0.")
    assert "- lead_add_form: +10\n+ lead_add_form: +" in diff
    assert "band 'hot'" in diff
    # the bands move with the points, each keeping the share of leads it holds now
    bands = [t for t in suggestion.thresholds if t.ladder == "bands"]
    assert [t.name for t in bands] == ["cold", "warm", "hot"]
    assert [t.current for t in bands] == [0, 10, 20]
    train = hits[leads.data.rows][leads.train_rows]
    now = train @ np.array([c.current for c in suggestion.changes])
    new = train @ np.array([c.suggested for c in suggestion.changes], dtype=np.float64)
    for band in bands[1:]:
        assert (new >= band.suggested).mean() == pytest.approx(
            (now >= band.current).mean(), abs=0.05
        )
    assert "\n+ bands: {cold: " in diff
