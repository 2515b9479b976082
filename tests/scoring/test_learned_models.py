"""A lookalike learned by `leadpulse learn` inside scoring: its total is the lead's probability
of converting in percent — the same as the learner's own prediction — in a CSV scored offline
and for a live lead, and other models read it through the `model` condition."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import numpy as np
import pytest

from leadpulse.core.naming import trait_key
from leadpulse.learn.lookalike import Lookalike
from leadpulse.learn.table import Dataset, read_table
from leadpulse.pipeline import Pipeline
from leadpulse.pipeline.offline import score_csv
from leadpulse.scoring.parse import ModelError, parse_model
from leadpulse.store import leads as lead_store
from leadpulse.store import scores as score_store
from tests.learn.datasets import LEADS, LEADS_LEAKY

FEATURES = ("Lead Origin", "Lead Source", "TotalVisits", "Total Time Spent on Website",
            "What is your current occupation", "Do Not Email")  # fmt: skip


@pytest.fixture(scope="module")
def learned() -> tuple[Dataset, Lookalike, list[dict[str, str]]]:
    """A small lookalike fitted on the first 3,000 leads; the file's rows by data-row index."""
    keep = set(FEATURES) | {"Converted"}
    with LEADS.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    others = tuple(h for h in rows[0] if h not in keep)
    data = read_table(LEADS, target="Converted", exclude=(*LEADS_LEAKY, *others))
    model = Lookalike(max_iter=40, random_state=1).fit(
        data.take(np.arange(3000)).frame, data.y[:3000]
    )
    return data, model, rows


def _document(model: Lookalike) -> str:
    document = json.loads(model.to_json())
    document.update(key="lookalike", name="Looks like our customers",
                    bands={"unlikely": 0, "possible": 30, "likely": 60})  # fmt: skip
    return json.dumps(document)


def test_a_csv_scored_with_the_lookalike_file_gives_the_learners_probabilities(
    learned: tuple[Dataset, Lookalike, list[dict[str, str]]],
) -> None:
    data, model, rows = learned
    held = data.take(np.arange(3000, 3300))
    expected = model.predict_proba(held.frame)[:, 1] * 100
    source = io.StringIO()
    writer = csv.DictWriter(source, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows[int(i)] for i in held.rows)
    source.seek(0)
    out = io.StringIO()
    assert score_csv(parse_model(_document(model)), source, out, now=0) == 300
    scored = list(csv.DictReader(io.StringIO(out.getvalue())))
    got = np.array([float(r["score"]) for r in scored])
    assert np.max(np.abs(got - expected)) <= 0.005  # totals are kept to two decimals
    assert {r["band"] for r in scored} == {"unlikely", "possible", "likely"}
    assert all(r["reasons"].startswith("lookalike +") for r in scored)


def test_a_live_lead_gets_the_probability_and_other_models_read_it(
    pipeline: Pipeline, learned: tuple[Dataset, Lookalike, list[dict[str, str]]]
) -> None:
    data, model, rows = learned
    pipeline.publish_model("lookalike", _document(model))
    pipeline.publish_model(
        "priority",
        """key: priority
rules:
  - {key: looks_like_a_customer, when: {model: lookalike, gte: 60}, points: 50}
""",
    )
    held = data.take(np.arange(3000, 3300))
    p = model.predict_proba(held.frame)[:, 1] * 100

    # rows that fill every feature: an upsert does not erase a trait with an empty value
    def complete(k: int) -> bool:
        return all(rows[int(held.rows[k])][n] not in ("", "Select") for n in FEATURES)

    filled = [k for k in range(len(p)) if complete(k)]
    likely = max(filled, key=lambda k: p[k])
    unlikely = min(filled, key=lambda k: p[k])

    def traits(k: int) -> dict[str, Any]:
        row = rows[int(held.rows[k])]
        return {trait_key(name): row[name] for name in FEATURES}  # as an API client sends them

    lead = pipeline.upsert_lead({"email": "likely@example.com", **traits(likely)}, "crm").lead
    with pipeline.engine.connect() as conn:
        scores = lead_store.scores_of(conn, lead)
    assert scores["lookalike"]["total"] == pytest.approx(p[likely], abs=0.005)
    assert scores["lookalike"]["band"] == "likely"
    assert scores["priority"]["total"] == 50

    pipeline.upsert_lead({"email": "likely@example.com", **traits(unlikely)}, "crm")
    with pipeline.engine.connect() as conn:
        scores = lead_store.scores_of(conn, lead)
        ledger = [e for e in score_store.ledger(conn, lead) if e["model_key"] == "lookalike"]
    assert scores["lookalike"]["total"] == pytest.approx(p[unlikely], abs=0.005)
    assert scores["priority"]["total"] == 0
    assert sum(e["points"] for e in ledger) == pytest.approx(p[unlikely], abs=0.005)


def _tree(**arrays: list[Any]) -> dict[str, Any]:
    """Node 0 splits on feature 0 at 0.5 into leaves 1 (-1) and 2 (+1); `arrays` override."""
    tree: dict[str, list[Any]] = {
        "feature": [0, 0, 0], "threshold": [0.5, 0, 0], "missing_left": [1, 0, 0],
        "left": [1, 0, 0], "right": [2, 0, 0], "leaf": [0, 1, 1], "value": [0, -1.0, 1.0],
    }  # fmt: skip
    return tree | arrays


def _lookalike(**change: Any) -> str:
    document = {"format": "leadpulse-lookalike", "key": "l", "features": ["a"], "codes": {},
                "baseline": 0.0, "trees": [_tree()]} | change  # fmt: skip
    return json.dumps({k: v for k, v in document.items() if v is not None})


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"key": None}, "key", 'add `"key": "lookalike"`'),
        ({"trees": [_tree(feature=[5, 0, 0])]}, "trees[0].0", "two later nodes"),
        ({"trees": [_tree(left=[1, 1, 0], leaf=[0, 0, 1], right=[2, 2, 0])]}, "trees[0].1",
         "two later nodes"),  # node 1 points back to itself: a loop
        ({"trees": [_tree(leaf=[1, 1])]}, "trees[0]", "one entry per node"),
        ({"trees": [_tree(left=["x", 0, 0])]}, "trees[0].left[0]", "whole number"),
        ({"trees": [_tree(value=[0, "inf", 1])]}, "trees[0].value[1]", "must be a number"),
        ({"trees": [_tree(leaf=[0, "false", 1])]}, "trees[0].leaf[1]", "true or false"),
    ],
)  # fmt: skip
def test_a_broken_lookalike_file_is_named(change: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(ModelError) as err:
        parse_model(_lookalike(**change), "l.json")
    assert err.value.field == field and words in err.value.message


@pytest.mark.parametrize("baseline", [-1000.0, 1000.0])
def test_extreme_log_odds_give_a_probability_not_an_error(baseline: float) -> None:
    model = parse_model(_lookalike(baseline=baseline), "l.json")
    assert model.learned is not None
    assert model.learned.probability({"a": 1}) == (0.0 if baseline < 0 else 1.0)
    assert model.learned.probability({"a": 0}) == pytest.approx(0.0 if baseline < 0 else 1.0)
