"""The models page: the published scoring models, each one's file to edit in place (checked
before it is published, the reason shown where it went wrong), and a rescore of history with
its progress."""

from __future__ import annotations

import logging
import threading
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from leadpulse.core.errors import Conflict, InvalidInput, LeadpulseError, NotFound
from leadpulse.pipeline import Pipeline
from leadpulse.scoring.parse import parse_model
from leadpulse.store import learning as learning_store
from leadpulse.store import rescores as rescore_store
from leadpulse.store import scores as score_store
from leadpulse.store.subjects import count_subjects
from leadpulse.web.dashboard.guard import PREFIX, STAFF, Ctx, Guard, redirect

log = logging.getLogger("leadpulse.web")
MAX_SOURCE = 200_000
EXAMPLE = """key: my-model
name: My model
bands: {cold: 0, warm: 30, hot: 60}
stages: {mql: 30, sql: 60}
rules:
  - key: pricing_page
    when: {event: page_view, where: {url: {contains: /pricing}}}
    points: 10
"""


class Rescores:
    """One rescore at a time, in a background thread; its progress is in the database."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> bool:
        with self._lock:
            if self.running:
                return False
            self._thread = threading.Thread(target=self._run, name="dashboard-rescore",
                                            daemon=True)  # fmt: skip
            self._thread.start()
            return True

    def _run(self) -> None:
        try:
            self.pipeline.rescore()
        except Exception:
            log.exception("the rescore started from the dashboard failed")

    def progress(self) -> dict[str, Any] | None:
        running = self.running
        with self.pipeline.engine.connect() as conn:
            run = rescore_store.latest(conn)
            total = count_subjects(conn) if run is not None or running else 0
        if running and (run is None or run["finished_at"] is not None):
            # started, but not yet recorded: a run at nought, not the last one's end
            return {"subjects": 0, "events": 0, "total": total, "running": True}
        if run is None:
            return None
        return {**run, "total": total, "running": running or run["finished_at"] is None}


def _source(ctx: Ctx) -> str:
    text = ctx.form.get("source", [""])[0]
    if not text.strip():
        raise InvalidInput("the model file is empty", field="source")
    if len(text) > MAX_SOURCE:
        raise InvalidInput("the model file is longer than 200,000 characters", field="source")
    return text


def routes(pipeline: Pipeline, guard: Guard) -> list[Route]:
    rescores = Rescores(pipeline)

    def published() -> dict[str, Any]:
        return {p.model.key: p for p in pipeline.scoring.refresh().models}

    def list_page(ctx: Ctx, status: int = 200, **extra: Any) -> Response:
        context = {"source": EXAMPLE, "error": None, **extra}
        with pipeline.engine.connect() as conn:
            learned = learning_store.latest_report(conn)
        return ctx.render("models.html", status, models=list(published().values()),
                          progress=rescores.progress(), learned=learned, **context)  # fmt: skip

    def model_page(ctx: Ctx, key: str, status: int = 200, **extra: Any) -> Response:
        found = published().get(key)
        if found is None:
            raise NotFound(f"no model {key!r}", field="key")
        with pipeline.engine.connect() as conn:
            source = next(src for k, _, src in score_store.active_models(conn) if k == key)
            history = score_store.model_history(conn, key)
        context = {"source": source, "error": None, "done": None, **extra}
        return ctx.render("model.html", status, p=found, history=history,
                          progress=rescores.progress(), **context)  # fmt: skip

    def publish(ctx: Ctx, text: str) -> None:
        pipeline.publish_model(parse_model(text, "model").key, text)
        if ctx.field("rescore"):
            rescores.start()

    @guard.page(STAFF)
    def models(ctx: Ctx) -> Response:
        if ctx.request.method == "GET":
            return list_page(ctx)
        text = ctx.form.get("source", [""])[0]
        try:
            text = _source(ctx)
            key = parse_model(text, "model").key
            if key in published():
                raise Conflict(f"a model {key!r} exists already: change it on its own page")
            publish(ctx, text)
        except LeadpulseError as exc:
            return list_page(ctx, exc.status, source=text, error=exc.message)
        return redirect(f"{PREFIX}/models/{key}?ok=published")

    @guard.page(STAFF)
    def model(ctx: Ctx) -> Response:
        key = ctx.request.path_params["key"]
        if ctx.request.method == "GET":
            done = {"published": "Published.", "rescore": "The rescore has started."}
            return model_page(ctx, key, done=done.get(ctx.query("ok")))
        text = ctx.form.get("source", [""])[0]
        action = ctx.field("action")
        try:
            if action == "rescore":
                rescores.start()
                return redirect(f"{PREFIX}/models/{key}?ok=rescore")
            text = _source(ctx)
            parsed = parse_model(text, "model")
            if parsed.key != key:
                raise InvalidInput(f"the file's key is {parsed.key!r}, this is model {key!r}",
                                   field="key")  # fmt: skip
            if action == "check":
                valid = f"The file is valid: {len(parsed.rules)} rules."
                return model_page(ctx, key, source=text, done=valid)
            publish(ctx, text)
        except LeadpulseError as exc:
            return model_page(ctx, key, exc.status, source=text, error=exc.message)
        return redirect(f"{PREFIX}/models/{key}?ok=published")

    @guard.page(STAFF)
    def progress(ctx: Ctx) -> Response:
        """The rescore's status line alone, which the models pages fetch while it runs."""
        return ctx.render("progress.html", progress=rescores.progress())

    return [
        Route("/models", models, methods=["GET", "POST"]),
        Route("/models/progress", progress),
        Route("/models/{key}", model, methods=["GET", "POST"]),
    ]
