"""The models page: list, edit with the reason shown in place, publish, rescore with progress."""

from __future__ import annotations

import random
import re
import time

import pytest
from starlette.testclient import TestClient

from leadpulse.core import clock
from leadpulse.learn.report import report_dict
from leadpulse.learn.run import learn
from leadpulse.learn.table import parse_rows
from leadpulse.pipeline import Pipeline
from leadpulse.store import leads as lead_store
from leadpulse.store import learning as learning_store
from tests.dashboard.support import FIT_MODEL, sign_in


@pytest.fixture
def csrf(client: TestClient, ids: dict[str, int]) -> str:
    return sign_in(client, "marketer@shop.example")


def test_models_are_listed_and_shown(client: TestClient, csrf: str) -> None:
    page = client.get("/app/models")
    assert page.status_code == 200
    assert '<a class="name" href="/app/models/fit">Fit</a>' in page.text
    assert "hot ≥ 20" in page.text
    one = client.get("/app/models/fit")
    assert "has_budget" in one.text
    assert "Publish as version 2" in one.text
    assert "key: fit" in one.text
    assert client.get("/app/models/nope").status_code == 404


def test_a_bad_file_is_explained_in_place_and_nothing_is_published(
    client: TestClient, csrf: str, pipeline: Pipeline
) -> None:
    broken = FIT_MODEL.replace("points: 7", "points: lots")
    for action in ("check", "publish"):
        answer = client.post(
            "/app/models/fit", data={"csrf": csrf, "source": broken, "action": action}
        )
        assert answer.status_code == 400
        error = re.search(r'id="model-error">([^<]+)<', answer.text)
        assert error, answer.text
        assert "has_budget" in error.group(1)
        assert "points: lots" in answer.text
    assert [p.version for p in pipeline.scoring.refresh().models] == [1]


def test_check_then_publish_a_new_version_and_rescore(
    client: TestClient, csrf: str, pipeline: Pipeline, ids: dict[str, int]
) -> None:
    changed = FIT_MODEL.replace("points: 7", "points: 70")
    check = client.post("/app/models/fit", data={"csrf": csrf, "source": changed,
                                                "action": "check"})  # fmt: skip
    assert "The file is valid: 3 rules." in check.text
    assert [p.version for p in pipeline.scoring.refresh().models] == [1]
    answer = client.post(
        "/app/models/fit",
        data={"csrf": csrf, "source": changed, "action": "publish", "rescore": "1"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert [p.version for p in pipeline.scoring.refresh().models] == [2]
    hot = ids["hot@acme.example"]
    deadline = time.monotonic() + 60
    # the status line alone, as the page's script fetches it while the rescore runs
    while "Last rescore finished" not in (line := client.get("/app/models/progress").text):
        assert 'data-follow="/app/models/progress"' in line  # running: follow it
        assert time.monotonic() < deadline, "the rescore did not finish"
        time.sleep(0.1)
    assert "data-follow" not in line and "<html" not in line
    assert "Last rescore finished" in client.get("/app/models/fit").text
    with pipeline.engine.connect() as conn:
        row = lead_store.get_lead(conn, hot)
    assert row is not None
    assert row["score"] == 85.0


def test_the_file_must_keep_its_key(client: TestClient, csrf: str) -> None:
    other = FIT_MODEL.replace("key: fit", "key: other")
    answer = client.post("/app/models/fit", data={"csrf": csrf, "source": other,
                                                 "action": "publish"})  # fmt: skip
    assert answer.status_code == 400
    assert "the file&#39;s key is &#39;other&#39;" in answer.text


def test_a_new_model_from_the_list_page(client: TestClient, csrf: str, pipeline: Pipeline) -> None:
    new = FIT_MODEL.replace("key: fit", "key: second")
    answer = client.post("/app/models", data={"csrf": csrf, "source": new},
                         follow_redirects=False)  # fmt: skip
    assert answer.headers["location"] == "/app/models/second?ok=published"
    assert [p.model.key for p in pipeline.scoring.refresh().models] == ["fit", "second"]
    again = client.post("/app/models", data={"csrf": csrf, "source": new})
    assert again.status_code == 409
    assert "exists already" in again.text
    empty = client.post("/app/models", data={"csrf": csrf, "source": "  "})
    assert empty.status_code == 400
    assert "the model file is empty" in empty.text


def test_sales_users_do_not_edit_models(client: TestClient, ids: dict[str, int]) -> None:
    sales = TestClient(client.app, base_url="http://testserver")
    csrf = sign_in(sales, "olga@shop.example")
    assert sales.get("/app/models").status_code == 403
    assert sales.get("/app/models/progress").status_code == 403
    assert (
        sales.post("/app/models/fit", data={"csrf": csrf, "action": "rescore"}).status_code == 403
    )
    assert "/app/models" not in sales.get("/app/leads").text


def _report() -> dict[str, object]:
    """A real report, learned from 400 made-up leads (a plan column that matters)."""
    rng = random.Random(3)
    records = []
    for line in range(2, 402):
        plan = rng.choice(["pro", "free"])
        won = rng.random() < (0.6 if plan == "pro" else 0.15)
        records.append((line, [plan, str(rng.randint(1, 9)), "1" if won else "0"]))
    data = parse_rows(
        ["plan", "visits", "Converted"], records, source="crm.csv",
        target="Converted", positive=None, weight=None, exclude=(), time=None,
    )  # fmt: skip
    return report_dict(learn(data, lookalike=False))


def test_the_last_learning_report_is_shown(
    client: TestClient, csrf: str, pipeline: Pipeline, auth: dict[str, str]
) -> None:
    assert "No learning report yet" in client.get("/app/models").text
    assert client.get("/v1/learning/latest", headers=auth).status_code == 404
    report = _report()
    pipeline.writer.run_sync(
        lambda conn: learning_store.save_report(conn, "crm.csv", report, clock.now_ms())
    )
    page = client.get("/app/models").text
    assert "Learned from <strong>crm.csv</strong>" in page
    assert "Points scorecard" in page and "Lookalike" not in page
    assert "plan: pro" in page  # the key action
    latest = client.get("/v1/learning/latest", headers=auth).json()
    assert latest["source"] == "crm.csv" and latest["report"]["rows"]["used"] == 400
    auc = latest["report"]["scorecard"]["held_out"]["roc_auc"]
    assert f"{auc:.3f}" in page
