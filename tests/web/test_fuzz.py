"""Whatever a client sends, the answer is never a 5xx, and always the one error shape."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
event = st.fixed_dictionaries(
    {},
    optional={
        "id": st.text(max_size=70) | json_values,
        "type": st.sampled_from(["page_view", "scroll", "page_ping", "x y", ""]) | json_values,
        "anonymous_id": st.text(max_size=5) | json_values,
        "ts": st.sampled_from(["2026-11-22T10:00:00Z", "yesterday", "9999-99-99"]) | json_values,
        "url": st.text(max_size=30) | json_values,
        "referrer": st.text(max_size=30),
        "depth": st.integers(-5, 200) | json_values,
        "engaged_ms": json_values,
        "properties": json_values,
    },
)


def _check(r: Any) -> None:
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        body = r.json()
        assert set(body["error"]) == {"code", "message", "field"}


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(events=st.lists(event, max_size=3) | json_values, anon=st.none() | st.text(max_size=5))
def test_collect_never_fails_on_client_input(
    client: TestClient, site: dict[str, str], events: Any, anon: str | None
) -> None:
    body: dict[str, Any] = {"write_key": site["write_key"], "events": events}
    if anon is not None:
        body["anonymous_id"] = anon
    _check(client.post("/v1/collect", json=body))


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(traits=json_values, anon=st.text(max_size=5) | json_values)
def test_identify_never_fails_on_client_input(
    client: TestClient, site: dict[str, str], traits: Any, anon: Any
) -> None:
    body = {"write_key": site["write_key"], "anonymous_id": anon, "traits": traits}
    _check(client.post("/v1/identify", json=body))


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    payload=json_values
    | st.dictionaries(st.sampled_from(["email", "phone", "traits", "source", "name"]), json_values)
)
def test_lead_upsert_never_fails_on_client_input(
    client: TestClient, auth: dict[str, str], payload: Any
) -> None:
    _check(client.post("/v1/leads", json=payload, headers=auth))


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(raw=st.binary(max_size=200))
def test_garbage_bytes_are_a_400(client: TestClient, raw: bytes) -> None:
    _check(client.post("/v1/collect", content=raw))


def test_numbers_beyond_64_bits_are_refused_by_name(
    client: TestClient, site: dict[str, str], auth: dict[str, str]
) -> None:
    huge = 2**70
    r = client.post("/v1/leads", json={"traits": {"x": huge}, "email": "a@b.co"}, headers=auth)
    assert r.status_code == 400
    assert r.json()["error"]["field"] == "traits"
    ident = {"write_key": site["write_key"], "anonymous_id": "a", "traits": {"x": huge}}
    assert client.post("/v1/identify", json=ident).json()["error"]["field"] == "traits"


def test_nul_characters_are_refused_before_storage(
    client: TestClient, site: dict[str, str], auth: dict[str, str]
) -> None:
    """PostgreSQL cannot store NUL in text or JSON; found by the fuzz tests on PostgreSQL."""
    ident = {"write_key": site["write_key"], "anonymous_id": "a", "traits": {"k\x00": None}}
    r = client.post("/v1/identify", json=ident)
    assert r.status_code == 400
    assert "NUL" in r.json()["error"]["message"]
    event = {"id": "e", "type": "page_view", "anonymous_id": "a", "title": "x\x00y"}
    r = client.post("/v1/collect", json={"write_key": site["write_key"], "events": [event]})
    assert r.status_code == 400
    r = client.post("/v1/leads", json={"email": "a@b.co", "name": "A\x00"}, headers=auth)
    assert r.status_code == 400
    assert r.json()["error"]["field"] == "name"
