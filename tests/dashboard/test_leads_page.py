"""The leads page: sorted by score, filters, my leads, bulk assignment and the CSV export."""

from __future__ import annotations

import csv
import io

import pytest
from starlette.testclient import TestClient

from leadpulse.pipeline import Pipeline
from leadpulse.store import owners as owner_store
from tests.dashboard.support import lead_rows, sign_in


@pytest.fixture
def admin(client: TestClient, ids: dict[str, int]) -> str:
    return sign_in(client, "admin@shop.example")


def test_leads_are_listed_by_score(client: TestClient, ids: dict[str, int], admin: str) -> None:
    page = client.get("/app/leads")
    order = lead_rows(page.text)
    assert order[:2] == [ids["hot@acme.example"], ids["warm@beta.example"]]
    assert set(order) == set(ids.values())
    assert 'data-total="4"' in page.text
    assert '<span class="band band-hot">hot</span>' in page.text


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("band=hot", ["hot@acme.example"]),
        ("band=cold", ["cold@gamma.example", "xss@evil.example"]),
        ("stage=mql", ["warm@beta.example"]),
        ("stage=sql", ["hot@acme.example"]),
        ("source=newsletter", ["warm@beta.example", "cold@gamma.example"]),
        ("country=pl", ["hot@acme.example", "cold@gamma.example"]),
        ("q=GAMMA", ["cold@gamma.example"]),
        ("q=601", ["cold@gamma.example"]),
        ("q=wim", ["warm@beta.example"]),
        ("band=warm&source=newsletter", ["warm@beta.example"]),
        ("from=2000-01-01&to=2999-12-31&band=hot", ["hot@acme.example"]),
        ("to=2000-01-01", []),
        ("owner=-&band=hot", ["hot@acme.example"]),
    ],
)
def test_filters(
    client: TestClient, ids: dict[str, int], admin: str, query: str, expected: list[str]
) -> None:
    page = client.get(f"/app/leads?{query}")
    assert page.status_code == 200
    assert sorted(lead_rows(page.text)) == sorted(ids[e] for e in expected)


@pytest.mark.parametrize(
    ("query", "message"),
    [("from=31.12.2026", "is not a date"), ("model=nope", "no model"), ("sort=name", "sort")],
)
def test_bad_filters_say_what_is_wrong(
    client: TestClient, ids: dict[str, int], admin: str, query: str, message: str
) -> None:
    page = client.get(f"/app/leads?{query}")
    assert page.status_code == 400
    assert message in page.text


def test_bulk_assign_then_filter_by_owner_and_my_hot_leads(
    client: TestClient, ids: dict[str, int], admin: str, pipeline: Pipeline
) -> None:
    chosen = [ids["hot@acme.example"], ids["cold@gamma.example"]]
    answer = client.post(
        "/app/leads/assign",
        data={"csrf": admin, "lead": [str(i) for i in chosen], "manager": "olga",
              "back": "band=hot&evil=1"},
        follow_redirects=False,
    )  # fmt: skip
    assert answer.status_code == 303
    assert answer.headers["location"] == "/app/leads?band=hot&assigned=2"
    assert "Assigned 2 leads." in client.get(answer.headers["location"]).text
    with pipeline.engine.connect() as conn:
        owners = {i: (owner_store.owner_of(conn, i) or {}).get("key") for i in ids.values()}
    assert owners == {i: "olga" if i in chosen else None for i in ids.values()}
    assert sorted(lead_rows(client.get("/app/leads?owner=olga").text)) == sorted(chosen)
    assert ids["hot@acme.example"] not in lead_rows(client.get("/app/leads?owner=-").text)

    sales = TestClient(client.app, base_url="http://testserver")
    sign_in(sales, "olga@shop.example")
    page = sales.get("/app/leads")
    assert "My hot leads" in page.text
    assert lead_rows(sales.get("/app/leads?mine=1&band=hot").text) == [ids["hot@acme.example"]]
    assert sorted(lead_rows(sales.get("/app/leads?mine=1").text)) == sorted(chosen)


def test_a_sales_user_without_a_manager_has_no_leads_of_its_own(
    client: TestClient, ids: dict[str, int], pipeline: Pipeline
) -> None:
    pipeline.accounts.add_user("free@shop.example", "a long password", "sales")
    sign_in(client, "free@shop.example", "a long password")
    page = client.get("/app/leads?mine=1")
    assert lead_rows(page.text) == []
    assert "not linked to a sales manager" in page.text


def test_bulk_assign_needs_leads_and_a_known_manager(
    client: TestClient, ids: dict[str, int], admin: str
) -> None:
    lead = str(ids["hot@acme.example"])
    nothing = client.post("/app/leads/assign", data={"csrf": admin, "manager": "olga"})
    assert nothing.status_code == 400
    assert "tick the leads" in nothing.text
    ghost = client.post("/app/leads/assign", data={"csrf": admin, "lead": lead, "manager": "x"})
    assert ghost.status_code == 404
    assert "no manager" in ghost.text


def test_csv_export_is_the_filtered_list(
    client: TestClient, ids: dict[str, int], admin: str
) -> None:
    answer = client.get("/app/leads.csv?source=newsletter")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [r["email"] for r in rows] == ["warm@beta.example", "cold@gamma.example"]
    assert rows[0]["score"] == "10.0"
    assert rows[0]["band"] == "warm"
    assert rows[0]["stage"] == "mql"
    everyone = list(csv.DictReader(io.StringIO(client.get("/app/leads.csv").text)))
    assert len(everyone) == len(ids)


def test_csv_export_does_not_hand_a_spreadsheet_a_formula(
    client: TestClient, ids: dict[str, int], admin: str, pipeline: Pipeline
) -> None:
    pipeline.upsert_lead({"email": "f@x.example", "name": '=HYPERLINK("http://x")'}, None)
    rows = list(csv.DictReader(io.StringIO(client.get("/app/leads.csv?q=f@x").text)))
    assert rows[0]["name"] == '\'=HYPERLINK("http://x")'


def test_the_list_pages_through_every_lead(
    client: TestClient, ids: dict[str, int], admin: str, pipeline: Pipeline
) -> None:
    pipeline.upsert_many([{"email": f"p{n}@many.example"} for n in range(60)], None)
    first = client.get("/app/leads")
    seen = lead_rows(first.text)
    assert len(seen) == 50
    more = first.text.split('class="button ghost" href="')[-1].split('"')[0].replace("&amp;", "&")
    second = client.get(more)
    assert second.status_code == 200
    seen += lead_rows(second.text)
    assert len(seen) == len(set(seen)) == 64


def test_nul_characters_in_filters_are_dropped(
    client: TestClient, ids: dict[str, int], admin: str
) -> None:
    page = client.get("/app/leads?q=gam%00ma&owner=%00&model=fit%00")
    assert page.status_code == 200
    assert lead_rows(page.text) == [ids["cold@gamma.example"]]
