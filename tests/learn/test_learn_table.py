"""Reading outcome files: delimiters, line endings, empty markers, the target and its positive
value, weights, time, and each problem as one clear line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from leadpulse.core.errors import InvalidInput
from leadpulse.learn.binning import fit_binning
from leadpulse.learn.evaluate import leak_warnings, split
from leadpulse.learn.run import learn
from leadpulse.learn.table import read_table


def _write(tmp_path: Path, text: str, name: str = "leads.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def _rows(count: int, make: Callable[[int], str]) -> str:
    return "".join(make(i) for i in range(count))


def test_semicolons_crlf_select_and_a_yes_no_target(tmp_path: Path) -> None:
    body = _rows(
        60, lambda i: f"{i};{'Select' if i % 3 == 0 else 'Web'};{'yes' if i % 2 else 'no'}\r\n"
    )
    data = read_table(_write(tmp_path, "visits;source;Outcome\r\n" + body), target="Outcome")
    assert data.positive == "yes"
    assert data.y.sum() == 30
    visits, source = data.frame.columns
    assert visits.kind == "numeric"
    assert source.kind == "categorical"
    assert (source.values == "").sum() == 20


def test_positive_given_weight_and_time(tmp_path: Path) -> None:
    body = _rows(
        40,
        lambda i: (
            f"{i % 7},{['won', 'lost', 'open'][i % 3]},{i % 4 + 1},2026-01-{i % 28 + 1:02d}\n"
        ),
    )
    path = _write(tmp_path, "pages,stage,value,created\n" + body)
    data = read_table(path, target="stage", positive="WON", weight="value", time="created")
    assert data.positive == "won"
    assert data.y.sum() == 14
    assert list(data.weight[:4]) == [1, 2, 3, 4]
    train, test = split(data, test_size=0.25, by_time=True)
    assert data.time is not None
    assert data.time[test].min() >= data.time[train].max()


@pytest.mark.parametrize(
    ("text", "options", "message"),
    [
        ("", {}, "the file is empty"),
        ("a,Converted\n", {}, "a header but no rows"),
        ("a,b\n1,0\n2,1\n", {"target": "Converted"}, "no target column 'Converted'"),
        ("a,Converted\n1,0\n2,0\n3,0\n", {}, "one class only"),
        ("a,Converted\n1,maybe\n2,perhaps\n", {}, "which value of 'Converted' means converted"),
        ("a,Converted\n1,0\n2,1\n", {"exclude": ("Nope*",)}, "no column 'Nope*' to exclude"),
    ],
)
def test_a_bad_file_is_one_clear_line(
    tmp_path: Path, text: str, options: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        read_table(_write(tmp_path, text), **options)  # type: ignore[arg-type]
    assert message in caught.value.message
    assert "\n" not in caught.value.message


def test_junk_in_a_numeric_column_names_the_column_and_line(tmp_path: Path) -> None:
    body = _rows(50, lambda i: f"{'lots' if i == 7 else i},{i % 2}\n")
    with pytest.raises(InvalidInput) as caught:
        read_table(_write(tmp_path, "TotalVisits,Converted\n" + body))
    assert caught.value.message == (
        "leads.csv: column 'TotalVisits' holds numbers, but line 9 has 'lots'; fix the file or "
        "leave the column out with --exclude 'TotalVisits'"
    )


def test_ragged_rows_and_rows_without_outcome_are_reported(tmp_path: Path) -> None:
    body = _rows(40, lambda i: f"{i},{i % 2}\n") + "5\n7,\n"
    data = read_table(_write(tmp_path, "a,Converted\n" + body))
    assert {s.reason: s.lines for s in data.skipped} == {
        "1 cells where the header has 2": (42,),
        "no value in the target column 'Converted'": (43,),
    }


def test_numeric_bins_follow_the_trend_where_the_data_has_one(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 100, 4000)
    y = (rng.uniform(0, 1, 4000) < x / 120).astype(int)
    body = "".join(f"{a:.3f},{b}\n" for a, b in zip(x, y, strict=True))
    data = read_table(_write(tmp_path, "minutes,Converted\n" + body))
    binning = fit_binning(data.frame.columns[0], data.y, data.weight)
    rates = [b.rate for b in binning.bins if b.kind == "range"]
    assert len(rates) >= 4
    assert rates == sorted(rates)
    assert binning.bins[-1].kind == "missing"


def test_a_column_that_alone_predicts_the_outcome_is_flagged(tmp_path: Path) -> None:
    body = _rows(
        200, lambda i: f"{i % 5},{'closed won' if i % 3 == 0 else 'open'},{int(i % 3 == 0)}\n"
    )
    data = read_table(_write(tmp_path, "visits,Deal Status,Converted\n" + body))
    (warning,) = leak_warnings(data)
    assert warning.startswith("'Deal Status' alone predicts the outcome almost perfectly")


def test_too_few_conversions_is_one_clear_line(tmp_path: Path) -> None:
    body = _rows(40, lambda i: f"{i},{int(i == 3)}\n")
    data = read_table(_write(tmp_path, "a,Converted\n" + body))
    with pytest.raises(InvalidInput) as caught:
        learn(data)
    assert caught.value.message == (
        "leads.csv: too few leads to learn from: 1 converted and 39 not; learning needs at "
        "least 10 of each"
    )


def test_a_file_that_is_not_utf8_is_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_bytes("a,Converted\nété,1\n".encode("latin-1"))
    with pytest.raises(InvalidInput) as caught:
        read_table(path)
    assert caught.value.message == "leads.csv: not UTF-8 text; save the file as UTF-8"
