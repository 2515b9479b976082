"""Acceptance on the UCI online shoppers sessions without PageValues (derived from later
purchases): the scorecard and the lookalike, and the dirty older copy of the file."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from leadpulse.learn.evaluate import metrics, split
from leadpulse.learn.lookalike import Lookalike
from leadpulse.learn.run import learn
from leadpulse.learn.scorecard import Scorecard
from leadpulse.learn.table import Dataset, read_table
from tests.learn.datasets import SHOPPERS, SHOPPERS_DIRTY


@dataclass(frozen=True)
class Fitted:
    train: Dataset
    test: Dataset
    card: Scorecard
    lookalike: Lookalike


@pytest.fixture(scope="module")
def shoppers() -> Fitted:
    data = read_table(SHOPPERS, exclude=("PageValues",))
    train, test = split(data, seed=0)
    fit_on = data.take(train)
    card = Scorecard().fit(fit_on.frame, fit_on.y, fit_on.weight)
    model = Lookalike().fit(fit_on.frame, fit_on.y, fit_on.weight)
    return Fitted(fit_on, data.take(test), card, model)


def test_target_and_positive_value_are_detected(shoppers: Fitted) -> None:
    assert shoppers.train.target == "Revenue"
    assert shoppers.train.positive == "TRUE"
    assert shoppers.train.y.mean() == pytest.approx(0.155, abs=0.005)
    assert "PageValues" not in {c.name for c in shoppers.train.frame.columns}


def test_scorecard_and_lookalike_rank_held_out_sessions(shoppers: Fitted) -> None:
    card = roc_auc_score(shoppers.test.y, shoppers.card.points(shoppers.test.frame))
    look = roc_auc_score(
        shoppers.test.y, shoppers.lookalike.predict_proba(shoppers.test.frame)[:, 1]
    )
    assert card >= 0.74
    assert look >= 0.76


def test_lookalike_predicts_what_scikit_learn_predicts(shoppers: Fitted) -> None:
    model = shoppers.lookalike
    ours = model.predict_proba(shoppers.test.frame)
    theirs = model.estimator_.predict_proba(model.encode(shoppers.test.frame))
    assert np.abs(ours - theirs).max() < 1e-9
    loaded = Lookalike.from_json(model.to_json())
    assert not hasattr(loaded, "estimator_")
    assert np.abs(loaded.predict_proba(shoppers.test.frame) - theirs).max() < 1e-9


def test_contributions_add_up_to_the_score_and_name_the_top_features(shoppers: Fitted) -> None:
    model = shoppers.lookalike
    some = shoppers.test.frame.take(np.arange(50))
    start = model.baseline_ + sum(float(t.expected[0]) for t in model.trees_)
    total = start + model.contributions(some).sum(axis=1)
    assert np.allclose(total, model.decision_function(some))
    tops = model.top_features(some, k=3)
    assert all(len(t) <= 3 and all(move > 0 for _, move in t) for t in tops)
    assert any(t for t in tops)
    assert {name for t in tops for name, _ in t} <= set(model.features_)


def test_lookalike_contract_and_seed(shoppers: Fitted) -> None:
    fresh = Lookalike(max_iter=30, random_state=3)
    assert (fresh.max_iter, fresh.random_state) == (30, 3)
    assert not hasattr(fresh, "trees_")
    small = shoppers.train.take(np.arange(3000))
    assert fresh.fit(small.frame, small.y) is fresh
    again = Lookalike(max_iter=30, random_state=3).fit(small.frame, small.y)
    assert again.to_json() == fresh.to_json()


def test_unseen_categories_go_to_other_and_missing(shoppers: Fitted) -> None:
    month = next(b for b in shoppers.card.binnings_ if b.name == "Month")
    column = shoppers.test.frame.column("Month")
    odd = column.take(np.arange(3))
    odd = type(odd)(odd.name, odd.kind, np.array(["s:smarch", "", "s:nov"], dtype=object))
    kinds = [month.bins[i].kind for i in month.assign(odd)]
    assert kinds == ["other", "missing", "values"]


def test_the_dirty_file_learns_and_reports_the_rows_it_could_not_use() -> None:
    data = read_table(SHOPPERS_DIRTY, exclude=("PageValues",))
    assert data.n_skipped == 33
    (skipped,) = data.skipped
    assert "negative" in skipped.reason
    assert skipped.lines[:2] == (4, 8)
    assert len(data.y) == 12330 - 33
    run = learn(data, lookalike=False)
    assert run.scorecard_eval.metrics.roc_auc >= 0.74
    empty = data.frame.column("Administrative").missing.sum()
    assert empty == 14  # the rows with empty cells are used: missing is a bin of its own


def test_metrics_on_a_known_ranking() -> None:
    y = np.array([0, 0, 0, 0, 0, 0, 0, 0, 1, 1])
    p = np.linspace(0.05, 0.95, 10)
    m = metrics(y, p)
    assert m.roc_auc == 1.0
    assert m.lift_10 == pytest.approx(5.0)
    assert m.capture_20 == 1.0
    assert m.brier == pytest.approx(float(((p - y) ** 2).mean()))
    assert sum(r.count for r in m.reliability) == 10
