"""The scoring commands, run as a user runs them."""

from __future__ import annotations

import csv
from pathlib import Path

from tests.cli_runner import leadpulse as run
from tests.conftest import DATA

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples" / "models"


def test_every_example_model_validates() -> None:
    for path in sorted(EXAMPLES.glob("*.yaml")):
        proc = run("sqlite://", "model", "validate", str(path))
        assert "is valid" in proc.stdout, path


def test_a_bad_model_file_is_one_line_naming_rule_and_path(tmp_path: Path) -> None:
    bad = tmp_path / "website.yaml"
    bad.write_text(
        "key: website\nrules:\n"
        "  - {key: a, when: {event: page_view}, points: 1}\n"
        "  - {key: b, when: {event: scroll}, points: 1}\n"
        "  - {key: c, when: {event: click}, points: 1}\n"
        "  - {key: active_40s, when: {metric: page_veiws, per: session, gt: 40}, points: 10}\n"
    )
    proc = run("sqlite://", "model", "validate", str(bad), ok=False)
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        "error: website.yaml: rules[3] (active_40s).when.metric: unknown metric 'page_veiws' "
        "(did you mean 'pages_viewed'?)"
    )


def test_apply_list_and_rescore(db_url: str) -> None:
    first = run(db_url, "model", "apply", str(EXAMPLES / "lead-magnets.yaml"))
    assert "published 'lead-magnets' version 1" in first.stdout
    second = run(db_url, "model", "apply", str(EXAMPLES / "lead-magnets.yaml"), "--rescore")
    assert "version 2" in second.stdout
    assert "re-scored 0 leads and visitors from 0 events" in second.stdout
    assert "lead-magnets" in run(db_url, "model", "list").stdout
    assert "re-scored" in run(db_url, "rescore", "--model", "lead-magnets").stdout
    assert "re-scored" in run(db_url, "rescore", "--processes", "2").stdout
    none = run(db_url, "rescore", "--processes", "0", ok=False)
    assert "--processes" in none.stderr and "greater than or equal to 1" in none.stderr
    wrong = run(db_url, "rescore", "--model", "nope", ok=False)
    assert wrong.stderr.startswith("error: no published model 'nope'")


def test_offline_scoring_keeps_every_column_and_row(tmp_path: Path) -> None:
    model = tmp_path / "xedu.yaml"
    model.write_text(
        "key: xedu\nbands: {cold: 0, hot: 15}\nrules:\n"
        "  - {key: referral, when: {trait: lead_source, eq: Reference}, points: 10}\n"
        "  - {key: busy_visitor, when: {trait: Total Time Spent on Website, gt: 1000}, points: 5}\n"
        "  - key: working\n"
        "    when: {trait: what_is_your_current_occupation, eq: Working Professional}\n"
        "    points: 8\n"
    )
    source = DATA / "x-education" / "Leads.csv"
    out = tmp_path / "scored.csv"
    proc = run("sqlite://", "score", str(model), str(source), "-o", str(out))
    assert "scored 9240 rows" in proc.stderr
    with source.open(newline="", encoding="utf-8-sig") as f:
        original = list(csv.reader(f))
    with out.open(newline="", encoding="utf-8") as f:
        scored = list(csv.reader(f))
    assert len(scored) == len(original)
    assert scored[0] == [*original[0], "score", "band", "reasons"]
    assert all(
        row[: len(original[0])] == orig for row, orig in zip(scored[1:], original[1:], strict=True)
    )
    reference = [row for row in scored[1:] if row[original[0].index("Lead Source")] == "Reference"]
    assert reference
    assert all("referral +10" in row[-1] for row in reference)
    hot = [row for row in scored[1:] if row[-2] == "hot"]
    assert all(float(row[-3]) >= 15 for row in hot)
