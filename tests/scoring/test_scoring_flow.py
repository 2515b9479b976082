"""Scoring end to end: models through the API, scores in the collect answer, explanations that
add up, the anonymous ledger moving to the lead, and a rescore that equals live scoring."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from leadpulse.core import clock
from leadpulse.pipeline import Pipeline
from leadpulse.pipeline.scoring import ScoringStep

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples" / "models"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


def publish(client: TestClient, auth: dict[str, str], name: str) -> dict[str, Any]:
    text = (EXAMPLES / name).read_text()
    key = next(
        line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("key:")
    )
    r = client.put(f"/v1/models/{key}", content=text, headers=auth)
    assert r.status_code == 200, r.text
    return r.json()


def send(client: TestClient, wk: str, anon: str, *events: dict[str, Any]) -> dict[str, Any]:
    body = {
        "write_key": wk,
        "anonymous_id": anon,
        "events": [{"id": str(uuid.uuid4()), "session_id": "s1", **e} for e in events],
    }
    r = client.post("/v1/collect", json=body, headers={"user-agent": CHROME})
    assert r.status_code == 200, r.text
    return r.json()


def test_a_published_model_scores_anonymous_visitors_in_the_collect_answer(
    client: TestClient, site: dict[str, str], auth: dict[str, str]
) -> None:
    published = publish(client, auth, "website-behaviour.yaml")
    assert published["version"] == 1
    wk = site["write_key"]
    first = send(client, wk, "v1", {"type": "page_view", "url": "https://shop.example/pricing"})
    # pricing 15 + next page 1 + desktop Chrome 1 (a fit rule on the enrichment)
    assert first["scores"]["website"]["total"] == 17
    pages = [{"type": "page_view", "url": f"https://shop.example/p{i}"} for i in range(4)]
    pings = [{"type": "page_ping", "engaged_ms": 30000} for _ in range(4)]
    scroll = [{"type": "scroll", "depth": 90}]
    answer = send(client, wk, "v1", *pages, *pings, *scroll)
    website = answer["scores"]["website"]
    # + 4 pages, more than 3 pages 10, active 40 s 10, every 30 s after 60 s (120 s) 4, scroll 5
    assert website["total"] == 17 + 4 + 10 + 10 + 4 + 5
    assert website["band"] == "warm"
    assert website["stage"] == "mql"


def test_identify_brings_the_anonymous_ledger_and_fit_rules_follow_traits(
    client: TestClient, site: dict[str, str], auth: dict[str, str]
) -> None:
    publish(client, auth, "lead-magnets.yaml")
    publish(client, auth, "agency-fit.yaml")
    wk = site["write_key"]
    send(client, wk, "v2", {"type": "price_list_download"}, {"type": "lead_magnet_download"})
    ident = client.post(
        "/v1/identify",
        json={
            "write_key": wk,
            "anonymous_id": "v2",
            "traits": {
                "email": "ola@agency.example",
                "company": {"revenue": 450000},
                "industry_type": "b2b",
                "has_inhouse_designer": False,
            },
        },
    ).json()
    assert ident["scores"]["lead-magnets"] == {"total": 40, "band": "hot", "stage": "sql"}
    assert ident["scores"]["agency"]["total"] == 18  # revenue 5 + b2b 10 + no designer 3
    score = client.get(f"/v1/leads/{ident['lead']}/score", headers=auth).json()
    for model in score["models"]:
        assert round(sum(c["points_now"] for c in model["contributions"]), 2) == model["total"]
    agency = next(m for m in score["models"] if m["key"] == "agency")
    assert {c["rule"] for c in agency["contributions"]} == {
        "revenue_over_300k", "b2b_industry", "no_inhouse_designer"
    }  # fmt: skip
    # the CRM says they have a designer after all: the 3 points go, and the ledger says so
    client.post(
        "/v1/leads", json={"email": "ola@agency.example", "traits": {"has_inhouse_designer": True}},
        headers=auth,
    )  # fmt: skip
    after = client.get(f"/v1/leads/{ident['lead']}/score", headers=auth).json()
    agency = next(m for m in after["models"] if m["key"] == "agency")
    assert agency["total"] == 15
    assert [c["points"] for c in agency["contributions"] if c["rule"] == "no_inhouse_designer"] == [
        3, -3
    ]  # fmt: skip
    listed = client.get("/v1/leads", params={"sort": "-score"}, headers=auth).json()
    assert listed["items"][0]["score"] == 40  # the first published model is the lead's score
    assert listed["items"][0]["scores"]["lead-magnets"]["stage"] == "sql"


def test_a_german_visitor_stays_out_of_the_uk_offer(
    client: TestClient, site: dict[str, str], auth: dict[str, str]
) -> None:
    publish(client, auth, "uk-offer.yaml")
    wk = site["write_key"]
    uk = client.post(
        "/v1/collect",
        json={"write_key": wk, "anonymous_id": "uk", "context": {"language": "en-GB"},
              "events": [{"id": "u1", "type": "page_view"}]},
        headers={"user-agent": CHROME, "x-forwarded-for": "81.2.69.142"},
    )  # fmt: skip
    de = client.post(
        "/v1/collect",
        json={"write_key": wk, "anonymous_id": "de", "context": {"language": "de-DE"},
              "events": [{"id": "d1", "type": "page_view"}]},
        headers={"user-agent": CHROME},
    )  # fmt: skip
    assert de.json()["scores"]["uk-offer"]["band"] == "outside"
    assert uk.json()["scores"]["uk-offer"]["total"] >= 10  # English, whatever the IP says here


def test_models_api_validates_versions_and_deletes(
    client: TestClient, auth: dict[str, str]
) -> None:
    bad = "key: web\nrules:\n  - key: x\n    when: {metric: page_veiws, gt: 3}\n    points: 1\n"
    r = client.post("/v1/models/validate", content=bad, headers=auth)
    assert r.status_code == 400
    assert "did you mean 'pages_viewed'" in r.json()["error"]["message"]
    assert client.put("/v1/models/other", content=bad, headers=auth).status_code == 400
    publish(client, auth, "newsletter-global.yaml")
    again = publish(client, auth, "newsletter-global.yaml")
    assert again["version"] == 2
    model = client.get("/v1/models/newsletter", headers=auth).json()
    assert [h["version"] for h in model["history"]] == [1, 2]
    assert "signed_up" in model["source"]
    assert client.delete("/v1/models/newsletter", headers=auth).status_code == 200
    assert client.get("/v1/models/newsletter", headers=auth).status_code == 404
    assert client.get("/v1/models", headers=auth).json()["items"] == []


def test_a_site_scoped_model_ignores_other_sites(
    client: TestClient, pipeline: Pipeline, site: dict[str, str], auth: dict[str, str]
) -> None:
    publish(client, auth, "window-shop-local.yaml")
    other = pipeline.add_site("Blog", [])
    cart = {"type": "added_to_cart"}
    assert send(client, site["write_key"], "a", cart)["scores"]["window-shop"]["total"] == 20
    assert send(client, other.write_key, "b", cart)["scores"]["window-shop"]["total"] == 0


def test_rescore_equals_live_scoring(
    client: TestClient, pipeline: Pipeline, site: dict[str, str], auth: dict[str, str]
) -> None:
    publish(client, auth, "website-behaviour.yaml")
    wk = site["write_key"]
    for n in range(3):
        send(client, wk, f"r{n}", *[{"type": "page_view", "url": f"https://shop.example/{i}"}
                                    for i in range(n + 3)])  # fmt: skip
    lead = client.post(
        "/v1/identify", json={"write_key": wk, "anonymous_id": "r2", "traits": {"email": "r@x.io"}}
    ).json()["lead"]
    live = client.get(f"/v1/leads/{lead}/score", headers=auth).json()["models"][0]
    r = client.post("/v1/models/website/rescore", headers=auth)
    assert r.status_code == 200
    assert r.json() == {"subjects": 3, "events": 12}
    replayed = client.get(f"/v1/leads/{lead}/score", headers=auth).json()["models"][0]
    assert replayed["total"] == live["total"]
    assert sorted(c["rule"] for c in replayed["contributions"]) == sorted(
        c["rule"] for c in live["contributions"]
    )


def test_the_global_newsletter_model_counts_every_newsletter_action(
    client: TestClient, site: dict[str, str], auth: dict[str, str]
) -> None:
    publish(client, auth, "newsletter-global.yaml")
    wk = site["write_key"]
    signup = {"type": "newsletter_signup"}
    answer = send(client, wk, "n1", signup, signup, {"type": "email_opened"})
    assert answer["scores"]["newsletter"] == {"total": 11, "band": "engaged", "stage": None}


def test_longer_than_the_sites_average_session(
    client: TestClient, pipeline: Pipeline, site: dict[str, str], auth: dict[str, str]
) -> None:
    model = (
        "key: avg\nrules:\n  - key: longer_than_average\n"
        "    when: {metric: session_seconds, per: session, gt: {site_average: session_seconds}}\n"
        "    points: 5\n"
    )
    assert client.put("/v1/models/avg", content=model, headers=auth).status_code == 200
    wk = site["write_key"]

    yesterday = clock.now_ms() - 86_400_000  # averages look at the last 30 days

    def session(anon: str, seconds: int) -> dict[str, Any]:
        start = {"type": "page_view", "ts": clock.to_iso(yesterday)}
        end = {"type": "page_view", "ts": clock.to_iso(yesterday + seconds * 1000)}
        return send(client, wk, anon, start, end)

    # before any average is known, nothing is "longer than average"
    assert session("a", 100)["scores"]["avg"]["total"] == 0
    session("b", 10)
    pipeline.scoring.refresh(force=True)  # servers measure again every 10 minutes
    assert session("c", 50)["scores"]["avg"]["total"] == 0  # the average is 55 s
    assert session("d", 200)["scores"]["avg"]["total"] == 5


def test_a_hot_lead_cools_without_new_events(
    client: TestClient, site: dict[str, str], auth: dict[str, str]
) -> None:
    """Decay is exact at read time: the clock moves two half-lives, the band follows."""
    publish(client, auth, "website-behaviour.yaml")
    wk = site["write_key"]
    views = [{"type": "page_view", "url": f"https://shop.example/pricing/{i}"} for i in range(5)]
    send(client, wk, "hot", *views, {"type": "form_submit"})
    lead = client.post(
        "/v1/identify", json={"write_key": wk, "anonymous_id": "hot", "traits": {"email": "h@x.io"}}
    ).json()["lead"]
    now = client.get(f"/v1/leads/{lead}/score", headers=auth).json()["models"][0]
    assert now["band"] == "warm"
    start = clock.now_ms()
    clock.set_clock(lambda: start + 28 * 86_400_000)
    try:
        later = client.get(f"/v1/leads/{lead}/score", headers=auth).json()["models"][0]
    finally:
        clock.set_clock(None)
    behaviour = now["total"] - 1  # desktop Chrome (fit, 1 point) does not decay
    assert abs(later["total"] - (1 + behaviour / 4)) < 0.1
    assert later["band"] == "cold"


def test_an_interrupted_rescore_resumes_where_it_stopped(
    client: TestClient, pipeline: Pipeline, site: dict[str, str], auth: dict[str, str]
) -> None:
    publish(client, auth, "lead-magnets.yaml")
    for n in range(3):
        send(client, site["write_key"], f"x{n}", {"type": "lead_magnet_download"})

    def stop_after_first(subjects: int, _events: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        pipeline.rescore(batch=1, progress=stop_after_first)
    seen: list[int] = []
    assert pipeline.rescore(batch=1, progress=lambda s, _e: seen.append(s)) == (3, 3)
    assert seen == [2, 3]  # the first visitor was not replayed again
    fresh: list[int] = []
    assert pipeline.rescore(batch=1, progress=lambda s, _e: fresh.append(s)) == (3, 3)
    assert fresh == [1, 2, 3]  # a finished run is not resumed


def test_a_stored_model_that_no_longer_parses_is_left_out_not_fatal(
    client: TestClient, pipeline: Pipeline, site: dict[str, str], auth: dict[str, str]
) -> None:
    publish(client, auth, "lead-magnets.yaml")
    pipeline.publish_model("broken", "key: broken\nrules: []\n")  # bypasses validation
    answer = send(client, site["write_key"], "z", {"type": "lead_magnet_download"})
    assert answer["scores"] == {"lead-magnets": {"total": 10, "band": "warm", "stage": "mql"}}


def test_models_are_read_again_only_when_they_change(pipeline: Pipeline) -> None:
    """The scorer is rebuilt (its YAML parsed, its rules compiled) when a model is published,
    and every 10 minutes only for models that compare with the site's averages."""
    now = [0.0]
    step = ScoringStep(pipeline.engine, clock=lambda: now[0])
    pipeline.publish_model("agency", (EXAMPLES / "agency-fit.yaml").read_text())
    first = step.refresh()
    now[0] += 3600
    assert step.refresh() is first
    pipeline.publish_model("website", (EXAMPLES / "website-behaviour.yaml").read_text())
    now[0] += 3
    second = step.refresh()
    assert second is not first
    now[0] += 3
    assert step.refresh() is second
    now[0] += 600  # the site's averages are due again
    assert step.refresh() is not second


def test_a_visitor_whose_enrichment_changes_has_its_trait_rules_looked_at_again(
    client: TestClient, site: dict[str, str], auth: dict[str, str]
) -> None:
    """A visitor's next event skips the trait rules only while nothing enriched it anew: when
    it comes back on another device, a rule on the device turns off (and back on)."""
    source = (
        "key: device\nname: Device\nkind: fit\nbands: {cold: 0}\nrules:\n"
        "  - key: desktop\n    when: {trait: device, eq: desktop}\n    points: 5\n"
        "  - key: viewed\n    when: {event: page_view}\n    points: 1\n"
    )
    assert client.put("/v1/models/device", content=source, headers=auth).status_code == 200
    phone = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
    )
    totals = []
    for agent in (CHROME, CHROME, phone, phone, CHROME):
        body = {"write_key": site["write_key"], "anonymous_id": "v-device",
                "events": [{"id": str(uuid.uuid4()), "session_id": "s1", "type": "page_view",
                            "url": "https://shop.example/"}]}  # fmt: skip
        r = client.post("/v1/collect", json=body, headers={"user-agent": agent})
        assert r.status_code == 200, r.text
        totals.append(r.json()["scores"]["device"]["total"])
    assert totals == [6, 7, 3, 4, 10]
