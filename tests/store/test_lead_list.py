"""The lead list's filters by band, stage, segment and owner (the dashboard and the API share
them)."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from leadpulse.core.errors import InvalidInput
from leadpulse.pipeline import Pipeline
from leadpulse.store import segments as segment_store
from leadpulse.store.lead_list import NOBODY, LeadFilter, list_leads
from tests.dashboard.support import seed


def emails(engine: Engine, f: LeadFilter) -> list[str]:
    with engine.connect() as conn:
        page = list_leads(conn, f, sort="-score", limit=100, cursor=None)
    return [row["email"] for row in page.items]


def test_band_stage_segment_and_owner(pipeline: Pipeline, engine: Engine) -> None:
    ids = seed(pipeline)
    hot, warm = ids["hot@acme.example"], ids["warm@beta.example"]
    assert emails(engine, LeadFilter(model="fit", band="hot")) == ["hot@acme.example"]
    assert emails(engine, LeadFilter(model="fit", stage="mql")) == ["warm@beta.example"]
    assert emails(engine, LeadFilter(model="other", band="hot")) == []
    pipeline.writer.run_sync(lambda conn: segment_store.enter(conn, "vip", warm, 1))
    pipeline.writer.run_sync(lambda conn: segment_store.enter(conn, "vip", hot, 1))
    pipeline.writer.run_sync(lambda conn: segment_store.leave(conn, "vip", hot, 2))
    assert emails(engine, LeadFilter(segment="vip")) == ["warm@beta.example"]
    assert pipeline.assign([hot], "olga") == 1
    assert emails(engine, LeadFilter(owner="olga")) == ["hot@acme.example"]
    assert "hot@acme.example" not in emails(engine, LeadFilter(owner=NOBODY))
    assert len(emails(engine, LeadFilter(owner=NOBODY))) == len(ids) - 1
    assert emails(engine, LeadFilter(owner="nobody-of-that-name")) == []


def test_a_band_needs_a_model(pipeline: Pipeline, engine: Engine) -> None:
    with pytest.raises(InvalidInput, match="model=KEY"):
        emails(engine, LeadFilter(band="hot"))


def test_the_api_filters_by_band_of_the_first_model(
    client: TestClient, pipeline: Pipeline, auth: dict[str, str]
) -> None:
    seed(pipeline)
    items = client.get("/v1/leads?band=warm", headers=auth).json()["items"]
    assert [i["email"] for i in items] == ["warm@beta.example"]
    items = client.get("/v1/leads?model=fit&stage=sql&owner=-", headers=auth).json()["items"]
    assert [i["email"] for i in items] == ["hot@acme.example"]


@pytest.mark.parametrize("model", ['a"b', "a'b", "a.b", "$", "a\\b", "[0]", "{x}", "a,b"])
def test_a_model_key_that_cannot_exist_matches_nothing(
    pipeline: Pipeline, engine: Engine, model: str
) -> None:
    seed(pipeline)
    assert emails(engine, LeadFilter(model=model, band="hot")) == []


@pytest.mark.parametrize("typed", ["+48 601 234 567", "601-234-567", "(601) 234 567", "601234"])
def test_a_phone_number_is_found_as_people_type_it(
    pipeline: Pipeline, engine: Engine, typed: str
) -> None:
    seed(pipeline)
    assert emails(engine, LeadFilter(q=typed)) == ["cold@gamma.example"]


def test_text_with_digits_is_not_taken_for_a_phone(pipeline: Pipeline, engine: Engine) -> None:
    seed(pipeline)
    pipeline.upsert_lead({"email": "a@x.example", "company": "Room 601"}, None)
    assert emails(engine, LeadFilter(q="Room 601")) == ["a@x.example"]
