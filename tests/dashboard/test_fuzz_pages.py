"""Whatever a signed-in user types into the dashboard's filters and forms, the answer is a page
(with a message when the input is wrong), never a 5xx."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from tests.dashboard.support import sign_in

text = st.text(max_size=30) | st.sampled_from(["hot", "sql", "fit", "-", "2026-01-31", "1e309"])
FILTERS = ["q", "model", "band", "stage", "segment", "owner", "source", "country", "from", "to",
           "mine", "sort", "cursor"]  # fmt: skip
FIELDS = ["name", "email", "phone", "company", "social", "trait_key", "trait_value", "outcome",
          "value", "currency", "note", "model", "action", "manager"]  # fmt: skip


@pytest.fixture
def signed_in(client: TestClient, ids: dict[str, int]) -> dict[str, Any]:
    return {"csrf": sign_in(client, "admin@shop.example"), "ids": ids}


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(params=st.dictionaries(st.sampled_from(FILTERS), text, max_size=5))
def test_leads_filters_never_fail(
    client: TestClient, signed_in: dict[str, Any], params: dict[str, str]
) -> None:
    for path in ("/app/leads", "/app/leads.csv"):
        answer = client.get(path, params=params)
        assert answer.status_code in (200, 400, 404), answer.text[:500]


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    form=st.dictionaries(
        st.sampled_from(FIELDS),
        text,
        max_size=6,
    ),
    action=st.sampled_from(["traits", "outcome", "stage", "owner"]),
)
def test_lead_card_forms_never_fail(
    client: TestClient, signed_in: dict[str, Any], form: dict[str, str], action: str
) -> None:
    lead = signed_in["ids"]["warm@beta.example"]
    answer = client.post(
        f"/app/leads/{lead}/{action}", data={**form, "csrf": signed_in["csrf"]},
        follow_redirects=False,
    )  # fmt: skip
    assert answer.status_code in (303, 400, 404, 409), answer.text[:500]
