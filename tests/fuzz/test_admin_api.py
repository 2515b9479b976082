"""schemathesis against the admin API, from the OpenAPI description the app serves: with a valid
secret key, on a database with a site, leads, documents, a task and a delivery in it, every
operation answers without a 5xx and as its description says (status, content type, body)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.types import ASGIApp, Receive, Scope, Send

from leadpulse.pipeline import Pipeline
from leadpulse.web.app import build_api, create_app
from tests.fuzz.conftest import examples

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
"""Not schemathesis's `positive_data_acceptance`: a schema-valid request may still name a model,
segment or cursor that does not exist, or carry a document (YAML or JSON, checked by its own
parser beyond what a schema says) that is not valid; those are 400s naming the problem."""


TEXT_LISTS = {("GET", "/v1/leads/{lead_id}/events")}
"""Operations with a list of text in the query, where schemathesis counts `type=0.95` as a
number that should be refused; on the wire it is text, and a valid event type."""


def _without_lifespan(app: ASGIApp) -> ASGIApp:
    """The app for schemathesis, which would start (and only stop at exit) its lifespan: the
    test's pipeline is already running and is stopped by its fixture."""

    async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)

    return asgi


def _known(path: str, stocked: dict[str, Any]) -> dict[str, Any]:
    """Path parameters naming rows that exist, for an operation's path."""
    keys = {
        "models": "website",
        "offers": "callback",
        "personalizations": "cottage-headline",
        "segments": "meetup-fans",
        "automations": "price-list-follow-up",
        "managers": stocked["manager"],
        "reports": "funnel",
    }
    values = {
        "lead_id": stocked["leads"][0],
        "task_id": stocked["task"],
        "delivery_id": stocked["delivery"],
        "key": keys.get(path.split("/")[2]),
        "name": "funnel",
    }
    return {name: values[name] for name in values if "{" + name + "}" in path}


def _order(method: str, path: str) -> tuple[int, str, str]:
    """Deletions last, so the other operations meet the stored rows."""
    return (method == "DELETE", path, method)


def _fuzz(op: schemathesis.APIOperation, known: dict[str, Any], auth: dict[str, str]) -> None:
    """`examples` of each kind of request (valid, invalid; then both again aimed at stored
    rows) to one operation, every answer checked."""
    checks = CHECKS
    if (op.method.upper(), op.path) in TEXT_LISTS:
        checks = [c for c in CHECKS if c is not negative_data_rejection]
    strategies = [op.as_strategy(generation_mode=mode) for mode in GenerationMode]
    if known:
        strategies += [
            op.as_strategy(generation_mode=mode, path_parameters=known) for mode in GenerationMode
        ]

    @settings(
        max_examples=examples(4, share=0.1) * len(strategies),
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(case=st.one_of(strategies))
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=auth, checks=checks)

    check()


# The long fuzz run (2,000 examples) sends up to 40,000 requests here: over 300 s, the suite's
# default limit, on a slow day (2026-11-30); the limit stops a hang, not a slow run.
@pytest.mark.timeout(1800)
def test_admin_api_conforms_and_never_fails(
    pipeline: Pipeline, stocked: dict[str, Any], auth: dict[str, str]
) -> None:
    app = _without_lifespan(create_app(pipeline=pipeline))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = sorted(
        (result.ok() for result in schema.get_all_operations()),
        key=lambda op: _order(op.method.upper(), op.path),
    )
    assert len(operations) >= 40
    failures: list[str] = []
    for op in operations:
        try:
            _fuzz(op, _known(op.path, stocked), auth)
        except (Exception, BaseExceptionGroup) as exc:  # schemathesis reports a FailureGroup
            failures.append(f"{op.method.upper()} {op.path}: {exc}")
    assert not failures, "\n\n".join(failures)


def test_every_operation_describes_its_errors(pipeline: Pipeline) -> None:
    """The spec says what an error looks like (the one shape, as a 4XX), not FastAPI's 422."""
    spec = build_api(pipeline).openapi()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            answers = operation["responses"]
            assert "422" not in answers, (method, path)
            schema = answers["4XX"]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path)
    detail = spec["components"]["schemas"]["ErrorDetail"]
    assert set(detail["required"]) == {"code", "message", "field"}
