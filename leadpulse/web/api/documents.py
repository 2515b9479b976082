"""The routes every saved document kind shares (offers, personalisations, automations): list,
validate, read with history, save a new version, delete."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from leadpulse.core.errors import InvalidInput, LeadpulseError, NotFound
from leadpulse.pipeline import Pipeline
from leadpulse.store import engage as definition_store
from leadpulse.store import sites as site_store
from leadpulse.web.api.models import BODY, read_body


class _Document(Protocol):
    @property
    def key(self) -> str: ...
    @property
    def site(self) -> str | None: ...


D = TypeVar("D", bound=_Document)


class Kind(Generic[D]):
    """One kind of document: where it lives in the API and how it is read and summarised."""

    def __init__(
        self,
        kind: str,
        path: str,
        noun: str,
        parse: Callable[[str, str], D],
        summary: Callable[[D, int], dict[str, Any]],
    ) -> None:
        self.kind, self.path, self.noun = kind, path, noun
        self.parse, self.summary = parse, summary


def router(pipeline: Pipeline, doc: Kind[D]) -> APIRouter:
    r = APIRouter(prefix=f"/v1/{doc.path}", tags=[doc.path])

    def saved() -> dict[str, tuple[int, str]]:
        with pipeline.engine.connect() as conn:
            return {key: (v, src) for key, v, src in definition_store.active(conn, doc.kind)}

    def found(key: str) -> tuple[int, str]:
        item = saved().get(key)
        if item is None:
            raise NotFound(f"no {doc.noun} {key!r}", field="key")
        return item

    async def parsed(request: Request, source: str) -> tuple[D, str]:
        body = await read_body(request, f"the {doc.noun} (YAML or JSON)")
        item = doc.parse(body, source)
        if item.site is not None:
            with pipeline.engine.connect() as conn:
                if site_store.site_by_key(conn, item.site) is None:
                    raise InvalidInput(f"{source}: site: no site {item.site!r}", field="site")
        return item, body

    def described(key: str, version: int, source: str) -> dict[str, Any]:
        """The summary; a stored version that no longer reads (saved by an older release) is
        listed with its error, so it can still be seen and replaced."""
        try:
            return doc.summary(doc.parse(source, key), version)
        except LeadpulseError as err:
            return {"key": key, "version": version, "error": err.message}

    @r.get("")
    def list_all() -> dict[str, Any]:
        return {"items": [described(key, v, src) for key, (v, src) in saved().items()]}

    @r.post("/validate", openapi_extra=BODY)
    async def validate(request: Request) -> dict[str, Any]:
        """Check a document without saving it; errors name the path and the reason."""
        item, _ = await parsed(request, doc.noun)
        return {"valid": True, **doc.summary(item, 0)}

    @r.get("/{key}")
    def get_one(key: str) -> dict[str, Any]:
        version, source = found(key)
        with pipeline.engine.connect() as conn:
            history = definition_store.history(conn, doc.kind, key)
        return {**described(key, version, source), "source": source, "history": history}

    @r.put("/{key}", openapi_extra=BODY)
    async def put_one(key: str, request: Request) -> dict[str, Any]:
        """Save a new version (YAML or JSON body); servers use it within two seconds."""
        item, source = await parsed(request, key)
        if item.key != key:
            raise InvalidInput(
                f"the file's key is {item.key!r} but the URL says {key!r}", field="key"
            )
        version = await run_in_threadpool(pipeline.save_definition, doc.kind, key, source)
        return doc.summary(item, version)

    @r.delete("/{key}")
    async def delete_one(key: str) -> dict[str, Any]:
        found(key)
        await run_in_threadpool(pipeline.delete_definition, doc.kind, key)
        return {"deleted": key}

    return r
