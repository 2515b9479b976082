"""Reading CRM exports: column plans, values, row errors."""

from __future__ import annotations

import io

import pytest

from leadpulse.collect.csvfile import Row, RowError, plan_columns, read_rows, trait_key
from leadpulse.core.errors import InvalidInput
from tests.conftest import DATA


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("Lead Source", "lead_source"),
        ("TotalVisits", "total_visits"),
        ("Total Time Spent on Website", "total_time_spent_on_website"),
        ("What is your current occupation", "what_is_your_current_occupation"),
        ("  E-mail  ", "e_mail"),
        ("***", "column"),
    ],
)
def test_trait_keys(header: str, key: str) -> None:
    assert trait_key(header) == key


def test_identity_columns_are_recognised_by_name() -> None:
    plan = plan_columns(["E-mail", "Mobile", "Company Name", "Budget"])
    assert plan.targets == ("email", "phone", "company", "budget")
    mapped = plan_columns(["Work Mail", "Id"], mapping={"Work Mail": "email"})
    assert mapped.targets == ("email", "external_id")
    with pytest.raises(InvalidInput, match="no column 'Nope'"):
        plan_columns(["a"], id_column="Nope")


def test_values_numbers_and_empty_markers() -> None:
    text = "id,zip,visits,ratio,answer,phone\n1,02115,5,2.5,Select,0048600123456\n"
    _, rows = read_rows(io.StringIO(text))
    (row,) = list(rows)
    assert isinstance(row, Row)
    assert row.traits == {
        "external_id": "1",
        "zip": "02115",
        "visits": 5,
        "ratio": 2.5,
        "phone": "0048600123456",
    }


def test_semicolons_are_detected_and_bad_rows_reported() -> None:
    text = "email;name\na@x.co;A\nb@x.co\n;nobody\n"
    _, rows = read_rows(io.StringIO(text))
    items = list(rows)
    assert isinstance(items[0], Row)
    assert items[1] == RowError(3, "1 cells where the header has 2")
    assert items[2] == RowError(4, "no email, phone or id: cannot tell this lead apart")


def test_an_empty_file_is_one_clear_error() -> None:
    with pytest.raises(InvalidInput, match="empty"):
        read_rows(io.StringIO(""))


def test_the_real_leads_file_reads_completely() -> None:
    with (DATA / "x-education" / "Leads.csv").open(newline="", encoding="utf-8-sig") as f:
        plan, rows = read_rows(f, id_column="Prospect ID")
        items = list(rows)
    assert plan.targets[0] == "external_id"
    assert len(items) == 9240
    assert all(isinstance(i, Row) for i in items)
    assert not any(v == "Select" for i in items for v in i.traits.values())  # type: ignore[union-attr]
