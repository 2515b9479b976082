"""Every admin route, found in the API's own OpenAPI description (so a route added later is
covered without touching this test), refuses a request without a key, with a wrong or revoked
secret key, and with a site's write key — before it reads or changes anything."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from leadpulse.pipeline import Pipeline
from leadpulse.web.app import build_api


def _admin_routes(pipeline: Pipeline) -> list[tuple[str, str]]:
    routes = []
    for template, operations in build_api(pipeline).openapi()["paths"].items():
        path = re.sub(r"\{[^}]+\}", "1", template)
        routes.extend((method.upper(), path) for method in sorted(operations))
    return routes


def test_the_walk_finds_the_admin_api(pipeline: Pipeline) -> None:
    found = {path for _, path in _admin_routes(pipeline)}
    for expected in ("/v1/leads", "/v1/models/1", "/v1/automations/1", "/v1/runs",
                     "/v1/leads/1/stage", "/v1/segments/1/members"):  # fmt: skip
        assert expected in found
    assert len(found) >= 30


def test_every_admin_route_refuses_missing_wrong_revoked_and_write_keys(
    pipeline: Pipeline, client: TestClient, site: dict[str, str]
) -> None:
    revoked = pipeline.create_api_key("old")
    assert pipeline.revoke_api_key("old") == 1
    headers = {
        "no key": {},
        "not bearer": {"Authorization": f"Basic {revoked}"},
        "wrong secret": {"Authorization": "Bearer lp_sk_" + "x" * 40},
        "revoked secret": {"Authorization": f"Bearer {revoked}"},
        "write key": {"Authorization": f"Bearer {site['write_key']}"},
        "garbage": {"Authorization": "Bearer lp_sk_\x00\x7f"},
    }
    with pipeline.engine.connect() as conn:
        before = conn.exec_driver_sql("SELECT COUNT(*) FROM leads").scalar()
    for method, path in _admin_routes(pipeline):
        for why, header in headers.items():
            got = client.request(method, path, headers=header, json={})
            assert got.status_code == 401, (method, path, why, got.status_code, got.text)
            assert got.json()["error"]["code"] == "unauthorized", (method, path, why)
    with pipeline.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM leads").scalar() == before


@pytest.mark.parametrize("path", ["/v1/leads", "/v1/models"])
def test_a_valid_key_passes(path: str, client: TestClient, auth: dict[str, str]) -> None:
    assert client.get(path, headers=auth).status_code == 200


HUGE = 2**70


@pytest.mark.parametrize(
    "path",
    [f"/v1/leads/{HUGE}", f"/v1/runs?lead={HUGE}", f"/v1/deliveries?lead={HUGE}",
     f"/v1/leads/{HUGE}/score"],
)  # fmt: skip
def test_ids_beyond_64_bits_are_a_400(path: str, client: TestClient, auth: dict[str, str]) -> None:
    got = client.get(path, headers=auth)
    assert got.status_code == 400 and "out of range" in got.text, got.text
