"""The lead card: the explanation, edits that re-score, stage and outcome buttons, escaping."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, datetime

import pytest
from starlette.testclient import TestClient

from leadpulse.collect.schema import Batch, Event
from leadpulse.core import clock
from leadpulse.pipeline import Pipeline
from leadpulse.store import leads as lead_store
from leadpulse.store import owners as owner_store
from tests.dashboard.support import sign_in


@pytest.fixture
def csrf(client: TestClient, ids: dict[str, int]) -> str:
    return sign_in(client, "olga@shop.example")


def totals(html: str) -> list[float]:
    return [float(t) for t in re.findall(r'class="total" data-total="([^"]+)"', html)]


def contributions(html: str) -> list[float]:
    return [float(p) for p in re.findall(r'class="contribution" data-points="([^"]+)"', html)]


def test_the_card_explains_the_score_as_the_api_does(
    client: TestClient, ids: dict[str, int], csrf: str, auth: dict[str, str]
) -> None:
    lead = ids["hot@acme.example"]
    page = client.get(f"/app/leads/{lead}")
    assert page.status_code == 200
    assert totals(page.text) == [22.0]
    assert sum(contributions(page.text)) == pytest.approx(22.0)
    api = client.get(f"/v1/leads/{lead}/score", headers=auth).json()
    assert [m["total"] for m in api["models"]] == totals(page.text)
    rules = [c["rule"] for c in api["models"][0]["contributions"]]
    for rule in rules:
        assert f"<td>{rule}</td>" in page.text
    assert "Accept as SQL" in page.text


def test_editing_a_trait_re_scores_the_lead(
    client: TestClient, ids: dict[str, int], csrf: str, pipeline: Pipeline
) -> None:
    lead = ids["warm@beta.example"]
    answer = client.post(
        f"/app/leads/{lead}/traits",
        data={"csrf": csrf, "trait_key": "budget", "trait_value": "approved"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/app/leads/{lead}?ok=traits"
    page = client.get(answer.headers["location"])
    assert "the scores were brought up to date" in page.text
    assert totals(page.text) == [17.0]
    with pipeline.engine.connect() as conn:
        row = lead_store.get_lead(conn, lead)
    assert row is not None
    assert row["score"] == 17.0
    assert row["traits"]["budget"] == "approved"
    assert row["scores"]["fit"]["band"] == "warm"


def test_editing_the_phone_stores_it_normalised_and_findable(
    client: TestClient, ids: dict[str, int], csrf: str, pipeline: Pipeline
) -> None:
    lead = ids["warm@beta.example"]
    answer = client.post(
        f"/app/leads/{lead}/traits",
        data={"csrf": csrf, "name": "Wim Warm", "phone": "+49 30 901820",
              "social": "https://www.linkedin.com/in/wim"},
        follow_redirects=False,
    )  # fmt: skip
    assert answer.status_code == 303
    with pipeline.engine.connect() as conn:
        row = lead_store.get_lead(conn, lead)
        keys = lead_store.identities_of(conn, lead)
    assert row is not None
    assert row["phone"] == "+4930901820"
    assert row["traits"]["social"] == "https://www.linkedin.com/in/wim"
    assert {"kind": "phone", "value": "+4930901820"} in keys
    listed = client.get("/app/leads?q=4930901820").text
    assert f'data-lead="{lead}"' in listed


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"phone": "call me maybe"}, 400, "is not a valid phone"),
        ({"email": "no-at-sign"}, 400, "is not a valid email"),
        ({"phone": "+48 601 234 567"}, 409, "has the phone +48601234567 already"),
        ({"trait_key": "Bad Key", "trait_value": "x"}, 400, "a trait name is"),
        ({"trait_key": "budget"}, 400, "give budget a value"),
        ({"name": "Wim Warm"}, 400, "nothing was changed"),
    ],
)
def test_bad_edits_are_shown_on_the_card(
    client: TestClient,
    ids: dict[str, int],
    csrf: str,
    pipeline: Pipeline,
    data: dict[str, str],
    status: int,
    message: str,
) -> None:
    lead = ids["warm@beta.example"]
    answer = client.post(f"/app/leads/{lead}/traits", data={"csrf": csrf, **data})
    assert answer.status_code == status
    assert message in answer.text
    assert 'class="lead-name">Wim Warm<' in answer.text
    with pipeline.engine.connect() as conn:
        row = lead_store.get_lead(conn, lead)
    assert row is not None
    assert row["phone"] is None


def test_accept_reject_and_release_the_stage(
    client: TestClient, ids: dict[str, int], csrf: str, pipeline: Pipeline
) -> None:
    lead = ids["cold@gamma.example"]

    def stage(action: str) -> dict[str, object]:
        answer = client.post(
            f"/app/leads/{lead}/stage", data={"csrf": csrf, "model": "fit", "action": action},
            follow_redirects=False,
        )  # fmt: skip
        assert answer.status_code == 303
        with pipeline.engine.connect() as conn:
            return dict(lead_store.scores_of(conn, lead)["fit"])

    assert stage("accept")["stage"] == "sql"
    assert "(held by hand)" in client.get(f"/app/leads/{lead}").text
    assert stage("reject")["stage"] == "mql"
    assert stage("release")["stage"] is None
    bad = client.post(
        f"/app/leads/{lead}/stage", data={"csrf": csrf, "model": "x", "action": "accept"}
    )
    assert bad.status_code == 400
    assert "no model" in bad.text


def test_record_won_with_a_value(
    client: TestClient, ids: dict[str, int], csrf: str, pipeline: Pipeline
) -> None:
    lead = ids["hot@acme.example"]
    answer = client.post(
        f"/app/leads/{lead}/outcome",
        data={"csrf": csrf, "outcome": "won", "value": "12,500.50", "currency": "eur",
              "note": "signed"},
        follow_redirects=False,
    )  # fmt: skip
    assert answer.status_code == 303
    with pipeline.engine.connect() as conn:
        [outcome] = lead_store.outcomes_of(conn, lead)
    assert outcome["outcome"] == "won"
    assert outcome["value"] == 12500.5
    assert outcome["currency"] == "EUR"
    assert outcome["owner"] == "olga@shop.example"
    page = client.get(answer.headers["location"]).text
    assert "The outcome is recorded." in page
    assert "won 12,500.5 EUR" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"outcome": "maybe"}, "choose won or lost"),
        ({"outcome": "won", "value": "lots"}, "is not a number"),
        ({"outcome": "won", "value": "-5"}, "zero or more"),
        ({"outcome": "lost", "currency": "euro"}, "three letters"),
    ],
)
def test_bad_outcomes_say_why(
    client: TestClient, ids: dict[str, int], csrf: str, data: dict[str, str], message: str
) -> None:
    answer = client.post(
        f"/app/leads/{ids['hot@acme.example']}/outcome", data={"csrf": csrf, **data}
    )
    assert answer.status_code == 400
    assert message in answer.text


def test_owner_and_call_back_tasks(
    client: TestClient, ids: dict[str, int], csrf: str, pipeline: Pipeline
) -> None:
    lead = ids["warm@beta.example"]
    answer = client.post(
        f"/app/leads/{lead}/owner", data={"csrf": csrf, "manager": "piotr"}, follow_redirects=False
    )
    assert answer.status_code == 303
    at = clock.now_ms()
    task = pipeline.writer.run_sync(
        lambda conn: owner_store.create_task(
            conn, {"lead_id": lead, "manager_id": None, "kind": "call", "note": "Call <back>",
                   "due_at": at, "created_at": at}
        )
    )  # fmt: skip
    page = client.get(f"/app/leads/{lead}").text
    assert "Owner: <strong>Piotr Sales</strong>" in page
    assert "Call &lt;back&gt;" in page
    done = client.post(f"/app/leads/{lead}/tasks/{task}/done", data={"csrf": csrf})
    assert done.status_code == 200
    assert "No open call-backs." in done.text
    with pipeline.engine.connect() as conn:
        [row] = owner_store.list_tasks(conn, lead_id=lead)
    assert row["status"] == "done"


def test_lead_supplied_text_is_shown_as_text(
    client: TestClient, ids: dict[str, int], csrf: str
) -> None:
    lead = ids["xss@evil.example"]
    for page in (client.get("/app/leads").text, client.get(f"/app/leads/{lead}").text):
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "<b>Evil</b>" not in page
    answer = client.get(f"/app/leads/{lead}")
    assert "script-src 'self'" in answer.headers["content-security-policy"]


def test_an_unknown_lead_is_a_clear_404(client: TestClient, ids: dict[str, int], csrf: str) -> None:
    answer = client.get("/app/leads/999999")
    assert answer.status_code == 404
    assert "no lead 999999" in answer.text
    post = client.post("/app/leads/999999/outcome", data={"csrf": csrf, "outcome": "won"})
    assert post.status_code == 404


AUTOMATION = """
key: fit-hot
name: Fit lead to the CRM
when:
  score: {model: fit, above: 15}
actions:
  - webhook:
      url: http://127.0.0.1:9/hooks
      secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
"""


def test_the_timeline_shows_what_automations_did(
    client: TestClient, ids: dict[str, int], csrf: str, pipeline: Pipeline
) -> None:
    pipeline.save_definition("automation", "fit-hot", AUTOMATION)
    lead = ids["warm@beta.example"]
    answer = client.post(
        f"/app/leads/{lead}/traits",
        data={"csrf": csrf, "trait_key": "budget", "trait_value": "approved"},
    )
    assert answer.status_code == 200
    items = re.findall(
        r'<li class="kind-(\w+)"><time>[^<]*</time> <span class="kind">\w+</span> '
        r"<strong>([^<]*)</strong> <span class=\"detail\">([^<]*)</span>",
        answer.text,
    )
    kinds = {kind: (text, detail) for kind, text, detail in items}
    name, trigger = kinds["automation"]
    assert name == "fit-hot"
    assert set(trigger.split(", ")) == {"kind score", "model fit", "threshold 15.0",
                                        "direction up", "from 10.0", "to 17.0"}  # fmt: skip
    assert kinds["webhook"][0].startswith("fit-hot: ")
    assert ("score", "fit: +7", "has_budget") in items


def test_data_quality_problems_are_shown(
    client: TestClient, ids: dict[str, int], csrf: str, pipeline: Pipeline
) -> None:
    lead = pipeline.upsert_lead({"email": "info@mailinator.com", "name": "Role"}, None).lead
    card = client.get(f"/app/leads/{lead}").text
    assert 'id="quality">Data quality: email is disposable' in card
    listed = client.get("/app/leads?q=mailinator").text
    assert "⚠ email is disposable" in listed
    assert 'id="quality"' not in client.get(f"/app/leads/{ids['hot@acme.example']}").text


def test_the_timeline_groups_events_into_visits(
    client: TestClient, csrf: str, pipeline: Pipeline
) -> None:
    site = pipeline.add_site("Shop", [], key="visits-shop")
    ctx = pipeline.visit_context("Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0", None, None)
    lead = asyncio.run(pipeline.identify(site, "ivy", {"email": "ivy@example.com"}, ctx)).lead
    start = clock.now_ms()
    for session, offset, kinds in (("s1", -2 * 86_400_000, ["page_view"] * 3 + ["scroll"]),
                                   ("s2", -86_400_000, ["page_view"])):  # fmt: skip
        events = [
            Event(id=uuid.uuid4().hex, type=k, session_id=session,
                  url=f"https://shop.example/{session}/{i}",
                  ts=datetime.fromtimestamp((start + offset + i * 60_000) / 1000, tz=UTC))
            for i, k in enumerate(kinds)
        ]  # fmt: skip
        asyncio.run(pipeline.collect(site, Batch(write_key=site.write_key, anonymous_id="ivy",
                                                 events=events), ctx))  # fmt: skip
    card = client.get(f"/app/leads/{lead}").text
    visits = re.findall(
        r'<li class="kind-visit"><time>[^<]*</time> <span class="kind">visit</span> '
        r'<strong>([^<]*)</strong> <span class="detail">([^<]*)</span>', card)  # fmt: skip
    assert visits == [("1 page, 1 event, 0 min", "https://shop.example/s2/0"),
                      ("3 pages, 4 events, 3 min", "https://shop.example/s1/0")]  # fmt: skip
    assert card.count('<details class="visit">') == 2
    assert "https://shop.example/s1/2" in card  # its events, inside the visit
