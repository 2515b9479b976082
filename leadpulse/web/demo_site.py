"""The demo shop at `/demo/`: static pages with the demo site's write key put in.

The pages live in `leadpulse/web/demo/`, with their shared head, navigation and footer in the
`_*.html` partials; `leadpulse demo` creates the site they report to.
"""

from __future__ import annotations

from importlib import resources

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from leadpulse.pipeline import Pipeline
from leadpulse.store import sites as site_store

SITE_KEY = "demo"
_TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8"}
_NOT_SET_UP = """<!doctype html><html lang="en"><meta charset="utf-8"><title>Demo not set up</title>
<body style="font-family:system-ui;max-width:40em;margin:4em auto">
<h1>The demo shop is not set up</h1>
<p>Run <code>leadpulse demo</code> (or <code>make run</code> on a fresh checkout): it creates the
demo site, its scoring model, offers and personalisations, and a stream of visitors.</p>
</body></html>
"""


def routes(pipeline: Pipeline) -> list[Route]:
    folder = resources.files("leadpulse.web").joinpath("demo")
    files = {
        entry.name: entry.read_bytes()
        for entry in folder.iterdir()
        if any(entry.name.endswith(ext) for ext in _TYPES)
    }
    partials = {name: files.pop(name) for name in list(files) if name.startswith("_")}

    def write_key() -> str | None:
        with pipeline.engine.connect() as conn:
            site = site_store.site_by_key(conn, SITE_KEY)
        return site.write_key if site else None

    def render(name: str, body: bytes, key: str) -> bytes:
        """Put in the shared head, navigation (this page marked current) and footer."""
        href = b'class="link" href="/demo/' + (b"" if name == "index.html" else name.encode())
        nav = partials["_nav.html"].replace(href + b'"', href + b'" aria-current="page"')
        body = body.replace(b"{{HEAD}}", partials["_head.html"].rstrip())
        body = body.replace(b"{{NAV}}", nav.rstrip())
        body = body.replace(b"{{FOOTER}}", partials["_footer.html"].rstrip())
        return body.replace(b"{{WRITE_KEY}}", key.encode())

    async def page(request: Request) -> Response:
        name = request.path_params.get("name") or "index.html"
        body = files.get(name)
        if body is None:
            return HTMLResponse("<h1>Not found</h1>", status_code=404)
        media = _TYPES["." + name.rsplit(".", 1)[-1]]
        if name.endswith(".html"):
            key = write_key()
            if key is None:
                return HTMLResponse(_NOT_SET_UP, status_code=404)
            body = render(name, body, key)
        return Response(body, media_type=media, headers={"cache-control": "no-cache"})

    async def to_index(_request: Request) -> Response:
        return RedirectResponse("/demo/", status_code=307)

    return [
        Route("/demo", to_index),
        Route("/demo/", page),
        Route("/demo/{name:str}", page),
    ]
