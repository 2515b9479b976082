"""`leadpulse learn` run as a user runs it: a real process on the real files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.cli_runner import leadpulse as run
from tests.learn.datasets import HAND_MODEL, LEADS, LEADS_LEAKY, SHOPPERS_DIRTY

EXCLUDED = [arg for name in LEADS_LEAKY for arg in ("--exclude", name)]


@pytest.fixture(scope="module")
def learned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("learn")
    hand = folder / "hand.yaml"
    hand.write_text(HAND_MODEL, encoding="utf-8")
    proc = run(
        "sqlite://",
        "learn", str(LEADS), "--target", "Converted", *EXCLUDED,
        "-o", str(folder / "leads-fit.yaml"),
        "--lookalike", str(folder / "lookalike.json"),
        "--report", str(folder / "report.html"),
        "--report", str(folder / "report.json"),
        "--suggest", str(hand),
    )  # fmt: skip
    return folder, proc.stdout + proc.stderr


def test_learn_prints_baseline_key_actions_and_held_out_aucs(learned: tuple[Path, str]) -> None:
    _, output = learned
    assert "Leads.csv: 9240 rows, Converted = '1' in 38.5%" in output
    assert "Lead Add Form" in output
    assert "scorecard ROC AUC 0." in output
    assert "lookalike ROC AUC 0." in output
    assert "wrote the scorecard model 'leads-fit'" in output
    assert "# hand: suggested points (held-out ROC AUC" in output
    assert "- many_visits: +5\n" in output


def test_the_written_model_validates_and_scores_a_file(learned: tuple[Path, str]) -> None:
    folder, _ = learned
    model = folder / "leads-fit.yaml"
    assert "is valid" in run("sqlite://", "model", "validate", str(model)).stdout
    scored = folder / "scored.csv"
    run("sqlite://", "score", str(model), str(LEADS), "-o", str(scored))
    with scored.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 9240
    assert {r["band"] for r in rows} == {"cold", "warm", "hot"}
    assert all("base +" in r["reasons"] for r in rows)


def test_the_reports(learned: tuple[Path, str]) -> None:
    folder, _ = learned
    report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    assert report["rows"]["used"] == 9240
    assert report["scorecard"]["held_out"]["roc_auc"] >= 0.85
    assert report["lookalike"]["held_out"]["roc_auc"] >= 0.85
    assert "Tags" in report["excluded"]
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert page.count("<svg") >= 3
    assert "<script" not in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page
    lookalike = json.loads((folder / "lookalike.json").read_text(encoding="utf-8"))
    assert lookalike["format"] == "leadpulse-lookalike"
    assert lookalike["key"] == "lookalike" and list(lookalike["bands"]) == [
        "unlikely", "possible", "likely",
    ]  # fmt: skip


def test_the_lookalike_file_is_published_and_scores_like_a_model(
    learned: tuple[Path, str], tmp_path: Path
) -> None:
    folder, _ = learned
    db = f"sqlite:///{tmp_path / 'lp.db'}"
    applied = run(db, "model", "apply", str(folder / "lookalike.json"))
    assert "lookalike" in applied.stdout + applied.stderr
    scored = tmp_path / "scored.csv"
    run(db, "score", str(folder / "lookalike.json"), str(LEADS), "-o", str(scored))
    with scored.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["band"] for r in rows} == {"unlikely", "possible", "likely"}
    assert all(0 <= float(r["score"]) <= 100 for r in rows)


def test_the_dirty_file_reports_the_rows_it_could_not_use() -> None:
    proc = run("sqlite://", "learn", str(SHOPPERS_DIRTY), "--exclude", "PageValues")
    assert "not used: 33 rows, a negative value in 'Administrative_Duration'" in proc.stdout
    assert "(lines 4, 8, 9, 18, 23" in proc.stdout
    assert "scorecard ROC AUC" in proc.stdout


@pytest.mark.parametrize(
    ("text", "args", "message"),
    [
        ("", (), "error: leads.csv: the file is empty: no header row"),
        ("a,b\n1,0\n2,1\n", ("--target", "Converted"), "error: leads.csv: no target column "
         "'Converted'; its columns are: a, b"),
        ("visits,Converted\n1,0\n2,0\n3,0\n", (), "error: leads.csv: the target 'Converted' has "
         "one class only ('0'): nothing to learn from"),
        ("visits,Converted\n" + "".join(f"{i},{i % 2}\n" for i in range(30)) + "many,1\n", (),
         "error: leads.csv: column 'visits' holds numbers, but line 32 has 'many'; fix the file "
         "or leave the column out with --exclude 'visits'"),
    ],
)  # fmt: skip
def test_bad_input_is_one_clear_line(
    tmp_path: Path, text: str, args: tuple[str, ...], message: str
) -> None:
    path = tmp_path / "leads.csv"
    path.write_text(text, encoding="utf-8")
    proc = run("sqlite://", "learn", str(path), *args, ok=False)
    assert proc.returncode == 1
    assert proc.stderr.strip() == message
    assert "Traceback" not in proc.stderr
