"""Helpers of the dashboard tests: a scoring model with stages, a few leads, managers and users,
and signing in through the real form."""

from __future__ import annotations

import re
from typing import Any

from starlette.testclient import TestClient

from leadpulse.core import clock
from leadpulse.pipeline import Pipeline
from leadpulse.scoring.parse import parse_model
from leadpulse.store import leads as lead_store
from leadpulse.store import owners as owner_store

FIT_MODEL = """
key: fit
name: Fit
bands: {cold: 0, warm: 10, hot: 20}
stages: {mql: 10, sql: 20}
rules:
  - key: b2b
    when: {trait: industry_type, eq: b2b}
    points: 10
  - key: big_company
    when: {trait: employees, gt: 100}
    points: 5
  - key: has_budget
    when: {trait: budget, eq: approved}
    points: 7
"""
PASSWORD = "correct horse battery"
LEADS: list[dict[str, Any]] = [
    {"email": "hot@acme.example", "name": "Hanna Hot", "company": "Acme", "industry_type": "b2b",
     "employees": 500, "budget": "approved", "source": "google_ads", "country": "PL"},
    {"email": "warm@beta.example", "name": "Wim Warm", "company": "Beta", "industry_type": "b2b",
     "source": "newsletter", "country": "DE"},
    {"email": "cold@gamma.example", "name": "Cora Cold", "company": "Gamma",
     "phone": "+48 601 234 567", "source": "newsletter", "country": "PL"},
    {"email": "xss@evil.example", "name": "<script>alert(1)</script>", "company": "<b>Evil</b>",
     "source": "organic"},
]  # fmt: skip
"""Scores 22, 10, 0 and 0 under FIT_MODEL."""


def seed(pipeline: Pipeline) -> dict[str, int]:
    """Publish the model, add the leads and two managers, and a user of each role; returns the
    lead ids by email."""
    pipeline.publish_model(parse_model(FIT_MODEL, "fit.yaml").key, FIT_MODEL)
    ids = {lead["email"]: pipeline.upsert_lead(dict(lead), None).lead for lead in LEADS}
    for lead in LEADS:
        if lead.get("country"):
            pipeline.writer.run_sync(
                lambda conn, lead=lead: lead_store.fill_country(
                    conn, ids[lead["email"]], lead["country"]
                )
            )  # as a visit from that country would
    at = clock.now_ms()
    for key, name in (("olga", "Olga Owner"), ("piotr", "Piotr Sales")):
        pipeline.writer.run_sync(
            lambda conn, key=key, name=name: owner_store.put_manager(
                conn, key, {"name": name, "email": f"{key}@shop.example", "active": True}, at
            )
        )
    pipeline.accounts.add_user("admin@shop.example", PASSWORD, "admin")
    pipeline.accounts.add_user("marketer@shop.example", PASSWORD, "marketer")
    pipeline.accounts.add_user("olga@shop.example", PASSWORD, "sales", manager="olga")
    return ids


def login_token(client: TestClient) -> str:
    page = client.get("/app/login")
    assert page.status_code == 200
    return csrf_of(page.text)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Sign in through the form; returns the session's CSRF token (from a page's form)."""
    token = login_token(client)
    answer = client.post(
        "/app/login",
        data={"email": email, "password": password, "csrf": token, "next": "/app/leads"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    page = client.get("/app/leads")
    assert page.status_code == 200
    return csrf_of(page.text)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def lead_rows(html: str) -> list[int]:
    """The lead ids of the leads list, in the order shown."""
    return [int(m) for m in re.findall(r'<tr data-lead="(\d+)"', html)]
