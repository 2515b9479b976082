"""The ceiling: a bare Starlette endpoint that reads the body and answers a small JSON.

Run under the same server settings as Leadpulse, in the same benchmark run.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

BODY = b'{"accepted":1,"duplicates":0,"visitor":1,"lead":null,"decisions":[]}'


async def collect(request: Request) -> Response:
    await request.body()
    return Response(BODY, media_type="application/json")


async def health(_request: Request) -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")


app = Starlette(routes=[Route("/v1/collect", collect, methods=["POST"]), Route("/health", health)])
